#include "node-agent/serve/signals.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace meshlink::agent::serve {
namespace {

sigset_t handled_signals() {
    sigset_t set;
    ::sigemptyset(&set);
    ::sigaddset(&set, SIGTERM);
    ::sigaddset(&set, SIGINT);
    ::sigaddset(&set, SIGHUP);
    return set;
}

int poll_timeout_ms(std::chrono::steady_clock::time_point deadline) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
        return 0;
    }
    // Rounded up, so the wait never ends just before the deadline and spins.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return static_cast<int>(std::min<std::int64_t>(ms, 24 * 3600 * 1000));
}

} // namespace

util::Result<SignalEvents> SignalEvents::open() {
    const sigset_t set = handled_signals();
    sigset_t previous;
    if (const int rc = ::pthread_sigmask(SIG_BLOCK, &set, &previous); rc != 0) {
        return util::fail(util::ErrorKind::io, fmt::format("pthread_sigmask: {}", std::strerror(rc)));
    }
    util::Fd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd) {
        const int err = errno;
        ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        return util::fail(util::ErrorKind::io, fmt::format("signalfd: {}", std::strerror(err)));
    }
    return SignalEvents(std::move(fd), previous);
}

SignalEvents::SignalEvents(SignalEvents&& other) noexcept
    : m_fd(std::move(other.m_fd)), m_previous(other.m_previous),
      m_restore(std::exchange(other.m_restore, false)) {}

SignalEvents::~SignalEvents() {
    if (m_restore) {
        ::pthread_sigmask(SIG_SETMASK, &m_previous, nullptr);
    }
}

std::optional<int> SignalEvents::wait_until(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        signalfd_siginfo info{};
        const ssize_t n = ::read(m_fd.get(), &info, sizeof info);
        if (n == static_cast<ssize_t>(sizeof info)) {
            return static_cast<int>(info.ssi_signo);
        }
        const int timeout = poll_timeout_ms(deadline);
        if (timeout == 0) {
            return std::nullopt;
        }
        pollfd pfd{m_fd.get(), POLLIN, 0};
        const int rc = ::poll(&pfd, 1, timeout);
        if (rc == 0 && std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        // rc > 0: read it above; rc < 0 with EINTR or an early wake-up: go round again.
    }
}

bool SignalEvents::termination_pending() const {
    sigset_t pending;
    ::sigemptyset(&pending);
    if (::sigpending(&pending) != 0) {
        return false;
    }
    return ::sigismember(&pending, SIGTERM) == 1 || ::sigismember(&pending, SIGINT) == 1;
}

void SignalEvents::sleep_unless_terminating(std::chrono::milliseconds duration) const {
    const auto deadline = std::chrono::steady_clock::now() + duration;
    while (!termination_pending()) {
        const int timeout = poll_timeout_ms(deadline);
        if (timeout == 0) {
            return;
        }
        // A pending SIGHUP keeps the fd readable: poll in short slices instead of on the fd, so a queued
        // SIGHUP neither ends the backoff early nor makes this loop spin.
        ::poll(nullptr, 0, std::min(timeout, 50));
    }
}

} // namespace meshlink::agent::serve
