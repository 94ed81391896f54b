#pragma once
// Runs a real binary and captures what it prints, for the probe's integration tests.

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

extern char** environ;

namespace meshlink::probe::testing {

struct Output {
    int exit_code = -1;
    std::string out;
    std::string err;
};

inline std::filesystem::path bin_dir() {
    const char* dir = std::getenv("MESHLINK_BIN_DIR");
    return dir != nullptr ? std::filesystem::path(dir) : std::filesystem::path(MESHLINK_BINARY_DIR) / "bin";
}

inline std::string agent() {
    return (bin_dir() / "meshlink-agent").string();
}

// Environment for the child: ours, with `extra` ("NAME=value") added and `drop` names removed.
inline std::vector<std::string> environment(const std::vector<std::string>& extra,
                                            const std::vector<std::string>& drop) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string entry = *e;
        bool keep = true;
        for (const auto& name : drop) {
            keep = keep && entry.rfind(name + "=", 0) != 0;
        }
        for (const auto& added : extra) {
            keep = keep && entry.rfind(added.substr(0, added.find('=') + 1), 0) != 0;
        }
        if (keep) {
            env.push_back(entry);
        }
    }
    env.insert(env.end(), extra.begin(), extra.end());
    return env;
}

inline std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

inline void drain(int fd, std::string& into) {
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) {
            into.append(buffer, static_cast<std::size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return;
        }
    }
}

// Runs argv[0] with pipes for stdout and stderr.
inline Output run(std::vector<std::string> argv, const std::vector<std::string>& extra_env = {},
                  const std::vector<std::string>& drop_env = {}) {
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    auto env = environment(extra_env, drop_env);
    auto env_ptrs = pointers(env);
    auto argv_ptrs = pointers(argv);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, argv_ptrs[0], &actions, nullptr, argv_ptrs.data(), env_ptrs.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    Output output;
    if (rc != 0) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        output.err = "spawn " + argv[0] + " failed: " + std::to_string(rc);
        return output;
    }
    // Read both pipes until EOF without deadlocking on a full one.
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int open_fds = 2;
    char buffer[65536];
    while (open_fds > 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                (i == 0 ? output.out : output.err).append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return output;
}

// Runs argv[0] with stdout and stderr on a pseudo-terminal, as a user at a terminal sees it.
inline Output run_on_tty(std::vector<std::string> argv, const std::vector<std::string>& extra_env,
                         const std::vector<std::string>& drop_env) {
    int master = -1;
    auto env = environment(extra_env, drop_env);
    auto env_ptrs = pointers(env);
    auto argv_ptrs = pointers(argv);
    winsize size{};
    size.ws_col = 200;
    size.ws_row = 50;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
    if (pid < 0) {
        throw std::runtime_error("forkpty failed");
    }
    if (pid == 0) {
        ::execvpe(argv_ptrs[0], argv_ptrs.data(), env_ptrs.data());
        ::_exit(127);
    }
    Output output;
    drain(master, output.out); // EIO once the child has exited and the slave is closed
    ::close(master);
    int status = 0;
    ::waitpid(pid, &status, 0);
    output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return output;
}

} // namespace meshlink::probe::testing
