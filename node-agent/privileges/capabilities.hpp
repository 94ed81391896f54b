#pragma once
// The agent gives up, at start, the capabilities the running kernel does not need for the probes. One
// DaemonSet serves every node, so it adds SYS_ADMIN (kernels before 5.8) and SYS_RESOURCE (before 5.11) on
// all of them; `probe` and `serve` drop them from the effective, permitted and inheritable sets where the
// kernel makes them useless (README "The DaemonSet", docs/kernel-requirements.md "Capabilities of the BPF
// probes"). The bounding set stays (changing it needs SETPCAP, which the pod does not have); the
// DaemonSet's allowPrivilegeEscalation: false (no_new_privs) keeps a dropped capability from coming back
// through exec.

#include "util/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meshlink::agent::privileges {

// A set of capabilities, bit n for capability n (CAP_SYS_ADMIN = 21, ...), as /proc/<pid>/status shows it.
using CapabilityMask = std::uint64_t;

// What the running kernel and process look like, as far as the decision needs.
struct Facts {
    std::string release;              // uname's release, as read (anything: it is not trusted)
    std::optional<int> cap_last_cap;  // /proc/sys/kernel/cap_last_cap; nullopt when unreadable
    CapabilityMask effective = 0;     // the capabilities the process holds now
    bool jit_sysctls_visible = false; // the host's BPF JIT sysctls exist here (readable only with SYS_ADMIN)
};

struct Decision {
    CapabilityMask drop = 0; // held capabilities this kernel does not need (0: keep everything)
    std::string message;     // one line: what is dropped and why, or why nothing is
    bool odd = false;        // the kernel could not be judged (unreadable release, ...): worth a warning
};

// Which held capabilities the kernel in `facts` makes unnecessary. SYS_ADMIN goes only on kernels from 5.8
// that know CAP_BPF and while the process holds BPF, PERFMON and NET_ADMIN, which replace it, and not where
// the process sees the host's BPF JIT sysctls (the kernel shows three of them only to SYS_ADMIN);
// SYS_RESOURCE only from 5.11. A release that cannot be parsed keeps everything. Never fails.
Decision decide(const Facts& facts);

// This process's facts: uname, cap_last_cap and the effective set (capget).
util::Result<Facts> read_facts();

// Removes `drop` from the calling thread's effective, permitted and inheritable sets (capset). Call it
// before any thread starts, so every thread inherits the smaller sets.
util::Result<void> drop(CapabilityMask drop);

// read_facts, decide, drop, and one log line: at -v 2 what was dropped and why, as a warning when the node
// could not be judged or the drop failed. Never fails the agent: the probes work with more capabilities.
void drop_unneeded();

} // namespace meshlink::agent::privileges
