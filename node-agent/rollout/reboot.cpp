#include "node-agent/rollout/reboot.hpp"

#include "node-agent/defaults.hpp"
#include "util/log.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>

#ifdef HAVE_LIBSYSTEMD
#include "util/shared_library.hpp"

#include <systemd/sd-bus.h>
#endif

namespace meshlink::agent::rollout {
namespace {

#ifdef HAVE_LIBSYSTEMD
// The sd-bus calls the reboot makes, resolved from libsystemd.so.0 on first use. The header declares them, so
// a libsystemd with another ABI fails the build, not a node.
struct SdBus {
    decltype(&::sd_bus_open_system) open_system = nullptr;
    decltype(&::sd_bus_call_method) call_method = nullptr;
    decltype(&::sd_bus_message_unref) message_unref = nullptr;
    decltype(&::sd_bus_error_free) error_free = nullptr;
    decltype(&::sd_bus_flush_close_unref) flush_close_unref = nullptr;
};

const util::Result<SdBus>& sd_bus() {
    static const util::Result<SdBus> loaded = []() -> util::Result<SdBus> {
        auto library = util::SharedLibrary::open("libsystemd.so.0");
        if (!library) {
            return std::unexpected(library.error().with_context("cannot load libsystemd"));
        }
        SdBus bus;
        if (!(library->resolve(bus.open_system, "sd_bus_open_system") &&
              library->resolve(bus.call_method, "sd_bus_call_method") &&
              library->resolve(bus.message_unref, "sd_bus_message_unref") &&
              library->resolve(bus.error_free, "sd_bus_error_free") &&
              library->resolve(bus.flush_close_unref, "sd_bus_flush_close_unref"))) {
            return util::fail(util::ErrorKind::not_found,
                              "libsystemd.so.0 has no symbol " + library->missing());
        }
        library->keep();
        return bus;
    }();
    return loaded;
}

std::string bus_address() {
    const char* address = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    return address != nullptr && *address != '\0' ? std::string(address)
                                                  : std::string("unix:path=/run/dbus/system_bus_socket");
}
#endif

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
#ifdef HAVE_LIBSYSTEMD
    const auto& api = sd_bus();
    if (!api) {
        return std::unexpected(api.error());
    }
    struct BusCloser {
        const SdBus* api;
        void operator()(::sd_bus* bus) const noexcept { api->flush_close_unref(bus); }
    };
    ::sd_bus* raw = nullptr;
    const int opened = api->open_system(&raw);
    std::unique_ptr<::sd_bus, BusCloser> bus(raw, BusCloser{&*api});
    if (opened < 0) {
        return util::fail(util::ErrorKind::unavailable,
                          fmt::format("logind: cannot connect to the system bus at {}: {}", bus_address(),
                                      std::strerror(-opened)));
    }
    ::sd_bus_error error = SD_BUS_ERROR_NULL;
    ::sd_bus_message* reply = nullptr;
    const std::string service(defaults::k_logind_service);
    const std::string path(defaults::k_logind_path);
    const std::string interface(defaults::k_logind_manager);
    // interactive=false: no polkit prompt; a privileged caller is allowed without one.
    const int called = api->call_method(bus.get(), service.c_str(), path.c_str(), interface.c_str(), "Reboot",
                                        &error, &reply, "b", 0);
    std::string why;
    if (called < 0) {
        why = error.name != nullptr
                  ? fmt::format("{}: {}", error.name, error.message != nullptr ? error.message : "")
                  : std::string(std::strerror(-called));
    }
    api->error_free(&error);
    if (reply != nullptr) {
        api->message_unref(reply);
    }
    if (called < 0) {
        return util::fail(util::ErrorKind::unavailable,
                          fmt::format("logind: {}.Reboot on the system bus at {} failed: {}", interface,
                                      bus_address(), why));
    }
    return {};
#else
    return util::fail(util::ErrorKind::not_found, "logind: this agent was built without libsystemd");
#endif
}

std::unique_ptr<Rebooter> make_rebooter(kernel::Host& host) {
    return std::make_unique<HostRebooter>(host);
}

} // namespace meshlink::agent::rollout
