#include "node-agent/rollout/reboot.hpp"

#include "node-agent/defaults.hpp"
#include "node-agent/rollout/system_bus.hpp"
#include "util/log.hpp"
#include "util/terminal.hpp"

#include <fmt/format.h>

#include <chrono>

namespace meshlink::agent::rollout {
namespace {

// logind answers a Reboot at once (the shutdown runs afterwards); polkit may take a moment for a caller it
// has to check. sd-bus's default method call timeout.
constexpr std::chrono::seconds k_bus_timeout{25};

class HostRebooter final : public Rebooter {
public:
    explicit HostRebooter(kernel::Host& host) : m_host(host) {}

    util::Result<std::string> reboot() override {
        auto logind = reboot_through_logind();
        if (logind) {
            return std::string("logind");
        }
        if (m_host.mode() != "nsenter") {
            return std::unexpected(logind.error().with_context(
                "cannot reboot (and `systemctl reboot` is not run with --host-commands local)"));
        }
        util::log::warn(logind.error().message + "; falling back to `systemctl reboot` on the host");
        auto ran = m_host.run(kernel::Tool::systemctl, {"reboot"}, defaults::k_tool_timeout);
        if (!ran) {
            return std::unexpected(ran.error().with_context(logind.error().message + "; systemctl reboot"));
        }
        if (!ran->ok()) {
            return util::fail(
                util::ErrorKind::generic,
                fmt::format("{}; {} failed: {}", logind.error().message, ran->command, ran->tail()));
        }
        return std::string("systemctl");
    }

private:
    kernel::Host& m_host;
};

} // namespace

util::Result<void> reboot_through_logind() {
    const std::string address = dbus::system_bus_address();
    auto bus = dbus::Connection::open(address, k_bus_timeout);
    if (!bus) {
        return util::fail(util::ErrorKind::unavailable,
                          fmt::format("logind: cannot connect to the system bus at {}: {}",
                                      util::printable(address), bus.error().message));
    }
    // interactive=false: no polkit prompt; a privileged caller is allowed without one.
    const dbus::MethodCall reboot{std::string(defaults::k_logind_service),
                                  std::string(defaults::k_logind_path),
                                  std::string(defaults::k_logind_manager),
                                  "Reboot",
                                  {dbus::Argument::boolean(false)}};
    if (auto called = bus->call(reboot); !called) {
        return util::fail(util::ErrorKind::unavailable,
                          fmt::format("logind: {}.Reboot on the system bus at {} failed: {}",
                                      defaults::k_logind_manager, util::printable(address),
                                      called.error().message));
    }
    return {};
}

std::unique_ptr<Rebooter> make_rebooter(kernel::Host& host) {
    return std::make_unique<HostRebooter>(host);
}

} // namespace meshlink::agent::rollout
