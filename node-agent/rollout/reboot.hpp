#pragma once
// Rebooting the node: logind's org.freedesktop.login1.Manager.Reboot(false) on the host's system bus, through
// the agent's own D-Bus client (system_bus.hpp): $DBUS_SYSTEM_BUS_ADDRESS first, else
// /run/dbus/system_bus_socket, where the DaemonSet mounts the host's.
// When logind cannot be reached or refuses, `systemctl reboot` runs in the host's namespaces (nsenter mode
// only: a fixture root has no systemd).

#include "node-agent/kernel/host.hpp"
#include "util/error.hpp"

#include <memory>
#include <string>

namespace meshlink::agent::rollout {

class Rebooter {
public:
    virtual ~Rebooter() = default;
    // Asks the host to reboot and returns how it was asked ("logind" or "systemctl"), or why nothing could.
    // The request returns at once; the node goes down afterwards.
    virtual util::Result<std::string> reboot() = 0;
};

std::unique_ptr<Rebooter> make_rebooter(kernel::Host& host);

// Reboot(false) through logind on the system bus (see above). Errors say which step failed.
util::Result<void> reboot_through_logind();

} // namespace meshlink::agent::rollout
