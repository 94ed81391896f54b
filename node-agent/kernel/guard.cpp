#include "node-agent/kernel/guard.hpp"

#include "node-agent/defaults.hpp"
#include "util/files.hpp"

#include <fmt/format.h>

#include <system_error>

namespace meshlink::agent::kernel {
namespace {

namespace fs = std::filesystem;

std::string unit_name(std::string_view suffix) {
    return std::string(defaults::k_guard_unit) + std::string(suffix);
}

std::string unit_value(std::string_view text, std::string_view key) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const auto line = probe::trim(text.substr(pos, end - pos));
        pos = end + 1;
        if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == '=') {
            return std::string(line.substr(key.size() + 1));
        }
    }
    return {};
}

} // namespace

std::string guard_timer_path() {
    return std::string(defaults::k_systemd_unit_dir) + "/" + unit_name(".timer");
}

std::string guard_service_path() {
    return std::string(defaults::k_systemd_unit_dir) + "/" + unit_name(".service");
}

std::string guard_wants_path() {
    return std::string(defaults::k_systemd_unit_dir) + "/timers.target.wants/" + unit_name(".timer");
}

std::string guard_timer_text(const std::string& kernel_release, std::chrono::seconds deadline) {
    return fmt::format(
        "# Written by meshlink-agent kernel stage; removed by `meshlink-agent kernel confirm` or "
        "`rollback`.\n"
        "# Reboots a trial kernel that nobody confirmed; the reboot boots the previous kernel (GRUB's saved "
        "entry).\n"
        "[Unit]\n"
        "Description=meshlink kernel trial guard for {0}\n"
        "ConditionKernelVersion={0}\n"
        "\n"
        "[Timer]\n"
        "OnBootSec={1}\n"
        "AccuracySec=1s\n"
        "Unit={2}\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n",
        kernel_release, deadline.count(), unit_name(".service"));
}

std::string guard_service_text(const std::string& kernel_release) {
    return fmt::format("# Written by meshlink-agent kernel stage; removed by `meshlink-agent kernel confirm` "
                       "or `rollback`.\n"
                       "[Unit]\n"
                       "Description=meshlink kernel trial guard: reboot the unconfirmed trial kernel {0}\n"
                       "ConditionKernelVersion={0}\n"
                       "\n"
                       "[Service]\n"
                       "Type=oneshot\n"
                       "# uname -r again: systemd before v237 ignores ConditionKernelVersion. The guard "
                       "disables itself first,\n"
                       "# so it reboots at most once.\n"
                       "ExecStart=/bin/sh -c 'if [ \"$$(uname -r)\" = \"{0}\" ]; then rm -f {1}; exec "
                       "systemctl reboot; fi'\n",
                       kernel_release, guard_wants_path());
}

GuardState read_guard(const probe::Host& files) {
    GuardState state;
    std::error_code ec;
    auto timer = probe::read_text(files.in_root(guard_timer_path()), 64 * 1024);
    state.timer = timer.text.has_value();
    if (timer.text) {
        state.kernel = unit_value(*timer.text, "ConditionKernelVersion");
        state.deadline = unit_value(*timer.text, "OnBootSec");
    }
    state.service = fs::exists(files.in_root(guard_service_path()), ec);
    state.enabled = fs::is_symlink(files.in_root(guard_wants_path()), ec);
    return state;
}

util::Result<> arm_guard(Host& host, const std::string& kernel_release, std::chrono::seconds deadline) {
    const auto& files = host.files();
    // The service first and the symlink last: an interrupted arm never leaves an enabled timer without its
    // service.
    if (auto written = util::write_file_atomically(files.in_root(guard_service_path()),
                                                   guard_service_text(kernel_release));
        !written) {
        return written;
    }
    if (auto written = util::write_file_atomically(files.in_root(guard_timer_path()),
                                                   guard_timer_text(kernel_release, deadline));
        !written) {
        return written;
    }
    if (auto linked = util::write_symlink_atomically(files.in_root(guard_wants_path()), guard_timer_path());
        !linked) {
        return linked;
    }
    auto reloaded = host.run(Tool::systemctl, {"daemon-reload"}, defaults::k_tool_timeout);
    if (!reloaded) {
        return std::unexpected(reloaded.error());
    }
    if (!reloaded->ok()) {
        return util::fail(util::ErrorKind::generic,
                          "the guard is written but systemctl daemon-reload failed: " + reloaded->tail());
    }
    return {};
}

util::Result<> disarm_guard(Host& host) {
    const auto& files = host.files();
    const GuardState state = read_guard(files);
    if (state.absent()) {
        return {};
    }
    // On the trial kernel the timer is already running in systemd: stop it before its files go.
    auto stopped = host.run(Tool::systemctl, {"stop", unit_name(".timer")}, defaults::k_tool_timeout);
    if (!stopped) {
        return std::unexpected(stopped.error());
    }
    for (const auto& path : {guard_wants_path(), guard_timer_path(), guard_service_path()}) {
        if (auto removed = util::remove_file_durably(files.in_root(path)); !removed) {
            return removed;
        }
    }
    auto reloaded = host.run(Tool::systemctl, {"daemon-reload"}, defaults::k_tool_timeout);
    if (!reloaded) {
        return std::unexpected(reloaded.error());
    }
    return {};
}

} // namespace meshlink::agent::kernel
