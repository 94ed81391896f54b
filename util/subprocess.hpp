#pragma once
// Running a helper program (exec credential plugins, later other tools) and collecting its stdout, with a
// deadline. No shell is involved: arguments go to the program as given.

#include "util/error.hpp"

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::util {

// Owner of a child process id: a child still running when its owner goes away is killed and reaped, so no
// error path leaves a zombie or an orphan behind.
class ChildProcess {
public:
    ChildProcess() = default;
    explicit ChildProcess(pid_t pid) noexcept : m_pid(pid) {}
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ~ChildProcess();

    [[nodiscard]] pid_t pid() const noexcept { return m_pid; }

    // Waits until the child exits or `deadline` passes. Returns the raw wait status, or nullopt on timeout.
    std::optional<int> wait_until(std::chrono::steady_clock::time_point deadline);
    // Sends SIGKILL and reaps the child. Safe to call when already reaped.
    void kill_and_reap() noexcept;

private:
    pid_t m_pid = -1;
};

struct SubprocessSpec {
    std::string program;           // a path (contains '/') or a name looked up on PATH
    std::vector<std::string> args; // argv[1..]
    std::vector<std::string> env;  // the complete environment, "NAME=value" (see environment_with)
    bool inherit_stdin = false;    // false: stdin is /dev/null (or stdin_data)
    // When set, the child's stdin reads exactly this and then EOF. It is held in memory only (a memfd; where
    // the kernel has none, an O_TMPFILE file, which never has a name): secrets passed this way never appear
    // in a file another process or a crash could leave behind.
    std::optional<std::string> stdin_data;
    int stderr_fd = 2; // the child's stderr goes here (passed through, not captured)
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

struct SubprocessResult {
    int exit_code = 0;   // valid when term_signal == 0
    int term_signal = 0; // the signal that ended the child, 0 when it exited
    std::string stdout_data;
};

// Runs the program to completion. Errors: ErrorKind::not_found when the program does not exist or is not
// executable (message names it), ErrorKind::timeout when it runs past the timeout (it is killed),
// ErrorKind::io for pipe/spawn failures. A non-zero exit is not an error here: callers word that themselves.
Result<SubprocessResult> run_subprocess(const SubprocessSpec& spec);

// Resolves `program` like execvp: as given when it contains '/', else the first executable match on $PATH.
std::optional<std::filesystem::path> find_executable(const std::string& program);

// This process's environment with `overrides` ("NAME=value") replacing or adding entries; later overrides
// win.
std::vector<std::string> environment_with(const std::vector<std::string>& overrides);

} // namespace meshlink::util
