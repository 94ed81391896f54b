// A stand-in for systemd-logind on a private dbus-daemon: it owns org.freedesktop.login1, serves
// org.freedesktop.login1.Manager.Reboot(b) at /org/freedesktop/login1 and, instead of rebooting, appends one
// line per call to a record file ("Reboot interactive=false"). The rollout tests point the agent's sd-bus at
// this bus with DBUS_SYSTEM_BUS_ADDRESS, so the agent's real D-Bus call is what gets recorded.
//
//   meshlink-stand-in-logind <bus address> <record file>
//
// Prints "ready" on stdout once it owns the name; runs until SIGTERM or the bus goes away.

#include <systemd/sd-bus.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

namespace {

const char* g_record = nullptr;

struct BusUnref {
    void operator()(sd_bus* bus) const noexcept { sd_bus_flush_close_unref(bus); }
};
struct SlotUnref {
    void operator()(sd_bus_slot* slot) const noexcept { sd_bus_slot_unref(slot); }
};

int on_reboot(sd_bus_message* message, void* /*userdata*/, sd_bus_error* /*error*/) {
    int interactive = 0;
    const int read = sd_bus_message_read(message, "b", &interactive);
    if (read < 0) {
        return read;
    }
    {
        std::ofstream out(g_record, std::ios::app);
        out << "Reboot interactive=" << (interactive != 0 ? "true" : "false") << "\n";
    }
    return sd_bus_reply_method_return(message, "");
}

const sd_bus_vtable k_manager[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Reboot", "b", "", on_reboot, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

int fail(const char* what, int code) {
    std::fprintf(stderr, "meshlink-stand-in-logind: %s: %s\n", what, std::strerror(-code));
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: meshlink-stand-in-logind <bus address> <record file>\n");
        return 2;
    }
    g_record = argv[2];
    sd_bus* raw = nullptr;
    if (const int r = sd_bus_new(&raw); r < 0) {
        return fail("sd_bus_new", r);
    }
    std::unique_ptr<sd_bus, BusUnref> bus(raw);
    if (const int r = sd_bus_set_address(bus.get(), argv[1]); r < 0) {
        return fail("sd_bus_set_address", r);
    }
    sd_bus_set_bus_client(bus.get(), 1);
    if (const int r = sd_bus_start(bus.get()); r < 0) {
        return fail("connecting to the bus", r);
    }
    sd_bus_slot* slot_raw = nullptr;
    if (const int r = sd_bus_add_object_vtable(bus.get(), &slot_raw, "/org/freedesktop/login1",
                                               "org.freedesktop.login1.Manager", k_manager, nullptr);
        r < 0) {
        return fail("adding the Manager object", r);
    }
    std::unique_ptr<sd_bus_slot, SlotUnref> slot(slot_raw);
    if (const int r = sd_bus_request_name(bus.get(), "org.freedesktop.login1", 0); r < 0) {
        return fail("owning org.freedesktop.login1", r);
    }
    std::printf("ready\n");
    std::fflush(stdout);
    for (;;) {
        const int processed = sd_bus_process(bus.get(), nullptr);
        if (processed < 0) {
            return processed == -ECONNRESET || processed == -ENOTCONN ? 0 : fail("processing", processed);
        }
        if (processed > 0) {
            continue;
        }
        if (const int r = sd_bus_wait(bus.get(), UINT64_MAX); r < 0 && r != -EINTR) {
            return fail("waiting", r);
        }
    }
}
