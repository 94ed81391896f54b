#include "util/subprocess.hpp"

#include "util/fd.hpp"
#include "util/files.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <thread>

extern char** environ; // NOLINT: POSIX global

namespace meshlink::util {
namespace {

// A plugin that prints more than this is broken; stop reading rather than exhausting memory.
constexpr std::size_t k_max_stdout_bytes = 16 * 1024 * 1024;
// How often wait_until() looks at a child that closed its stdout but has not exited yet.
constexpr auto k_reap_poll_interval = std::chrono::milliseconds(5);

struct SpawnFileActionsDeleter {
    void operator()(posix_spawn_file_actions_t* actions) const noexcept {
        posix_spawn_file_actions_destroy(actions);
        delete actions; // NOLINT(cppcoreguidelines-owning-memory)
    }
};
using SpawnFileActions = std::unique_ptr<posix_spawn_file_actions_t, SpawnFileActionsDeleter>;

struct SpawnAttrDeleter {
    void operator()(posix_spawnattr_t* attr) const noexcept {
        posix_spawnattr_destroy(attr);
        delete attr; // NOLINT(cppcoreguidelines-owning-memory)
    }
};
using SpawnAttr = std::unique_ptr<posix_spawnattr_t, SpawnAttrDeleter>;

Result<SpawnFileActions> make_file_actions() {
    auto* actions = new posix_spawn_file_actions_t; // NOLINT(cppcoreguidelines-owning-memory)
    if (int rc = posix_spawn_file_actions_init(actions); rc != 0) {
        delete actions; // NOLINT(cppcoreguidelines-owning-memory)
        return fail(ErrorKind::io, fmt::format("posix_spawn_file_actions_init: {}", std::strerror(rc)));
    }
    return SpawnFileActions(actions);
}

Result<SpawnAttr> make_attr() {
    auto* attr = new posix_spawnattr_t; // NOLINT(cppcoreguidelines-owning-memory)
    if (int rc = posix_spawnattr_init(attr); rc != 0) {
        delete attr; // NOLINT(cppcoreguidelines-owning-memory)
        return fail(ErrorKind::io, fmt::format("posix_spawnattr_init: {}", std::strerror(rc)));
    }
    return SpawnAttr(attr);
}

bool is_executable_file(const std::filesystem::path& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::vector<char*> to_argv(std::vector<std::string>& strings) {
    std::vector<char*> argv;
    argv.reserve(strings.size() + 1);
    for (auto& s : strings) {
        argv.push_back(s.data());
    }
    argv.push_back(nullptr);
    return argv;
}

} // namespace

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : m_pid(std::exchange(other.m_pid, -1)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
        kill_and_reap();
        m_pid = std::exchange(other.m_pid, -1);
    }
    return *this;
}

ChildProcess::~ChildProcess() {
    kill_and_reap();
}

std::optional<int> ChildProcess::wait_until(std::chrono::steady_clock::time_point deadline) {
    if (m_pid <= 0) {
        return std::nullopt;
    }
    for (;;) {
        int status = 0;
        pid_t rc = ::waitpid(m_pid, &status, WNOHANG);
        if (rc == m_pid) {
            m_pid = -1;
            return status;
        }
        if (rc < 0 && errno != EINTR) {
            m_pid = -1; // not our child any more (or already reaped): nothing left to wait for
            return 0;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(k_reap_poll_interval);
    }
}

void ChildProcess::kill_and_reap() noexcept {
    if (m_pid <= 0) {
        return;
    }
    ::kill(m_pid, SIGKILL);
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
    m_pid = -1;
}

std::optional<std::filesystem::path> find_executable(const std::string& program) {
    if (program.empty()) {
        return std::nullopt;
    }
    if (program.find('/') != std::string::npos) {
        if (is_executable_file(program)) {
            return std::filesystem::path(program);
        }
        return std::nullopt;
    }
    const char* path_env = std::getenv("PATH");
    // execvp's fallback when PATH is unset.
    std::string_view search = path_env != nullptr ? path_env : "/bin:/usr/bin";
    while (true) {
        auto colon = search.find(':');
        std::string_view dir = search.substr(0, colon);
        // An empty entry means the current directory, as in execvp.
        std::filesystem::path candidate =
            std::filesystem::path(dir.empty() ? "." : std::string(dir)) / program;
        if (is_executable_file(candidate)) {
            return candidate;
        }
        if (colon == std::string_view::npos) {
            break;
        }
        search.remove_prefix(colon + 1);
    }
    return std::nullopt;
}

std::vector<std::string> environment_with(const std::vector<std::string>& overrides) {
    // Keep the original order for untouched variables; replaced ones keep their position.
    std::vector<std::string> result;
    std::map<std::string, std::size_t, std::less<>> index;
    auto put = [&](const std::string& entry) {
        std::string name = entry.substr(0, entry.find('='));
        if (auto it = index.find(name); it != index.end()) {
            result[it->second] = entry;
        } else {
            index.emplace(name, result.size());
            result.push_back(entry);
        }
    };
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        put(*e);
    }
    for (const auto& entry : overrides) {
        put(entry);
    }
    return result;
}

Result<SubprocessResult> run_subprocess(const SubprocessSpec& spec) {
    auto resolved = find_executable(spec.program);
    if (!resolved) {
        return fail(ErrorKind::not_found, fmt::format("executable {} not found", spec.program));
    }

    int pipe_fds[2] = {-1, -1};
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        return fail(ErrorKind::io, fmt::format("pipe: {}", std::strerror(errno)));
    }
    Fd read_end(pipe_fds[0]);
    Fd write_end(pipe_fds[1]);

    auto actions = make_file_actions();
    if (!actions) {
        return std::unexpected(actions.error());
    }
    auto attr = make_attr();
    if (!attr) {
        return std::unexpected(attr.error());
    }
    Fd input;
    if (spec.stdin_data) {
        auto made = memory_file(*spec.stdin_data);
        if (!made) {
            return std::unexpected(made.error());
        }
        input = std::move(*made);
        posix_spawn_file_actions_adddup2(actions->get(), input.get(), STDIN_FILENO);
    } else if (!spec.inherit_stdin) {
        posix_spawn_file_actions_addopen(actions->get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(actions->get(), write_end.get(), STDOUT_FILENO);
    if (spec.stderr_fd != STDERR_FILENO) {
        posix_spawn_file_actions_adddup2(actions->get(), spec.stderr_fd, STDERR_FILENO);
    }
    // The child starts with no blocked signals and default SIGPIPE, whatever this process set up.
    sigset_t empty_mask;
    sigemptyset(&empty_mask);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigmask(attr->get(), &empty_mask);
    posix_spawnattr_setsigdefault(attr->get(), &defaults);
    posix_spawnattr_setflags(attr->get(), POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<std::string> argv_strings;
    argv_strings.push_back(spec.program);
    argv_strings.insert(argv_strings.end(), spec.args.begin(), spec.args.end());
    std::vector<std::string> env_strings = spec.env;
    auto argv = to_argv(argv_strings);
    auto envp = to_argv(env_strings);

    pid_t pid = -1;
    if (int rc =
            ::posix_spawn(&pid, resolved->c_str(), actions->get(), attr->get(), argv.data(), envp.data());
        rc != 0) {
        if (rc == ENOENT || rc == EACCES || rc == ENOEXEC) {
            return fail(ErrorKind::not_found,
                        fmt::format("executable {} cannot be run: {}", spec.program, std::strerror(rc)));
        }
        return fail(ErrorKind::io, fmt::format("starting {}: {}", spec.program, std::strerror(rc)));
    }
    ChildProcess child(pid);
    write_end.reset(); // only the child writes; EOF comes when it (and its children) close stdout

    const auto deadline = std::chrono::steady_clock::now() + spec.timeout;
    auto timed_out = [&] {
        child.kill_and_reap();
        return fail(ErrorKind::timeout,
                    fmt::format("{} did not finish within {} s and was stopped", spec.program,
                                std::chrono::duration_cast<std::chrono::seconds>(spec.timeout).count()));
    };

    SubprocessResult result;
    char buffer[16384];
    for (;;) {
        auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (remaining.count() <= 0) {
            return timed_out();
        }
        pollfd pfd{read_end.get(), POLLIN, 0};
        int ready = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(remaining.count(), 1000 * 60 * 60)));
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail(ErrorKind::io,
                        fmt::format("reading output of {}: {}", spec.program, std::strerror(errno)));
        }
        if (ready == 0) {
            continue; // the loop head checks the deadline
        }
        ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return fail(ErrorKind::io,
                        fmt::format("reading output of {}: {}", spec.program, std::strerror(errno)));
        }
        if (n == 0) {
            break;
        }
        result.stdout_data.append(buffer, static_cast<std::size_t>(n));
        if (result.stdout_data.size() > k_max_stdout_bytes) {
            child.kill_and_reap();
            return fail(ErrorKind::io, fmt::format("{} wrote more than {} bytes to stdout", spec.program,
                                                   k_max_stdout_bytes));
        }
    }

    auto status = child.wait_until(deadline);
    if (!status) {
        return timed_out();
    }
    if (WIFSIGNALED(*status)) {
        result.term_signal = WTERMSIG(*status);
    } else if (WIFEXITED(*status)) {
        result.exit_code = WEXITSTATUS(*status);
    }
    return result;
}

} // namespace meshlink::util
