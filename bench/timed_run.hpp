#pragma once
// One timed run of a program for the benchmarks: wall time, peak RSS and exit code, stdout to a file (default
// /dev/null), stderr discarded. Header-only: each benchmark is one executable.

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace meshlink::bench {

struct Sample {
    double wall_ms = 0;
    long max_rss_kib = 0;
    int exit_code = -1; // -1: the program could not be started
};

// Runs argv (argv[0] looked up on PATH) with this process's environment changed by `env`: "NAME=value" sets
// NAME, a bare "NAME" removes it.
inline Sample run_timed(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                        const std::string& stdout_path = "/dev/null") {
    std::vector<char*> args;
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    std::vector<std::string> env_storage;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string_view current(*entry);
        bool replaced = false;
        for (const auto& change : env) {
            const std::string_view name = std::string_view(change).substr(0, change.find('='));
            replaced = replaced || (current.starts_with(name) && current.size() > name.size() &&
                                    current[name.size()] == '=');
        }
        if (!replaced) {
            env_storage.emplace_back(current);
        }
    }
    for (const auto& change : env) {
        if (change.find('=') != std::string::npos) {
            env_storage.push_back(change);
        }
    }
    std::vector<char*> envp;
    for (auto& item : env_storage) {
        envp.push_back(item.data());
    }
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    Sample sample;
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = -1;
    const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        return sample;
    }
    int status = 0;
    rusage usage{};
    ::wait4(pid, &status, 0, &usage);
    sample.wall_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    sample.max_rss_kib = usage.ru_maxrss;
    sample.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return sample;
}

} // namespace meshlink::bench
