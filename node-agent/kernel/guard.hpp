#pragma once
// The host guard: a systemd timer written by `stage` that reboots the node a deadline after boot, but only
// when the trial kernel is the one running (ConditionKernelVersion, and the service checks `uname -r` again
// for systemd versions without that condition). GRUB consumed the one-shot entry at boot, so that reboot
// lands on the saved, previous kernel. `confirm` (and `rollback`) disarm it. It fires at most once: the
// service removes its own enablement before rebooting.
//
// Only files under --root are written (units in /etc/systemd/system, the timers.target.wants symlink that
// `systemctl enable` would make), so the guard takes effect at the next boot without the host's systemd.

#include "node-agent/kernel/host.hpp"

#include <chrono>
#include <string>

namespace meshlink::agent::kernel {

struct GuardState {
    bool timer = false;   // the .timer unit file exists
    bool service = false; // the .service unit file exists
    bool enabled = false; // the timers.target.wants symlink exists
    std::string kernel;   // the kernel release it guards (from the timer's ConditionKernelVersion)
    std::string deadline; // its OnBootSec value

    [[nodiscard]] bool armed() const { return timer && service && enabled; }
    [[nodiscard]] bool absent() const { return !timer && !service && !enabled; }
};

// Host paths of the two units and the enablement symlink.
std::string guard_timer_path();
std::string guard_service_path();
std::string guard_wants_path();

// The unit texts for guarding `kernel_release` with a reboot `deadline` after boot.
std::string guard_timer_text(const std::string& kernel_release, std::chrono::seconds deadline);
std::string guard_service_text(const std::string& kernel_release);

GuardState read_guard(const probe::Host& files);

// Writes both units and the enablement symlink (each atomically; a re-run rewrites only what differs), then
// asks the host's systemd to reload (nsenter mode).
util::Result<> arm_guard(Host& host, const std::string& kernel_release, std::chrono::seconds deadline);

// Stops the timer in the running systemd (nsenter mode; the trial kernel may be running it), then removes
// the symlink and the units.
util::Result<> disarm_guard(Host& host);

} // namespace meshlink::agent::kernel
