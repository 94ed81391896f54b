#pragma once
// SIGTERM, SIGINT and SIGHUP as events on a file descriptor (signalfd): no code runs in a signal handler,
// and the probe loop waits for "a signal or the next deadline" with one poll().

#include "util/error.hpp"
#include "util/fd.hpp"

#include <signal.h>

#include <chrono>
#include <optional>

namespace meshlink::agent::serve {

class SignalEvents {
public:
    // Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and opens a signalfd for them. Call it before
    // any thread starts (HTTP workers, libcurl's resolver): threads inherit the mask, so no thread takes a
    // signal's default action. The destructor restores the previous mask.
    static util::Result<SignalEvents> open();

    SignalEvents(SignalEvents&& other) noexcept;
    SignalEvents& operator=(SignalEvents&&) = delete;
    SignalEvents(const SignalEvents&) = delete;
    SignalEvents& operator=(const SignalEvents&) = delete;
    ~SignalEvents();

    // Waits until a signal arrives or `deadline` passes. Returns the signal number, or nullopt at the
    // deadline.
    std::optional<int> wait_until(std::chrono::steady_clock::time_point deadline);

    // True when SIGTERM or SIGINT is pending (arrived and not yet taken by wait_until).
    [[nodiscard]] bool termination_pending() const;

    // Sleeps for `duration` unless a termination signal is or becomes pending; other signals stay queued.
    // For backoff waits inside API retries, so a shutdown does not wait out a backoff.
    void sleep_unless_terminating(std::chrono::milliseconds duration) const;

private:
    SignalEvents(util::Fd fd, sigset_t previous) : m_fd(std::move(fd)), m_previous(previous) {}
    util::Fd m_fd;
    sigset_t m_previous{};
    bool m_restore = true;
};

} // namespace meshlink::agent::serve
