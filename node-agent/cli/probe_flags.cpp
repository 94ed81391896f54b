#include "node-agent/cli/probe_flags.hpp"

#include "node-agent/defaults.hpp"
#include "node-agent/privileges/capabilities.hpp"
#include "util/cli_options.hpp"
#include "util/error.hpp"

#include <filesystem>
#include <system_error>

namespace meshlink::agent::cli {

probe::Host host_flags(const cxxopts::ParseResult& flags) {
    probe::Host host;
    host.root = util::VerbOptions::directory(flags, "root", defaults::k_host_root);
    host.proc = util::VerbOptions::directory(flags, "proc", defaults::k_host_proc);
    host.sys = util::VerbOptions::directory(flags, "sys", defaults::k_host_sys);
    if (flags.count("mountinfo") > 0) {
        host.mountinfo = flags["mountinfo"].as<std::string>();
        std::error_code error;
        if (!std::filesystem::is_regular_file(host.mountinfo, error)) {
            throw util::UsageError("--mountinfo " + host.mountinfo.string() +
                                   ": not a file; pass the host's /proc/1/mountinfo (mounted into the pod)");
        }
    }
    return host;
}

probe::CiliumVersion cilium_version_flag(const cxxopts::ParseResult& flags) {
    if (flags.count("cilium-version") == 0) {
        return probe::newest_cilium();
    }
    const std::string text = flags["cilium-version"].as<std::string>();
    auto parsed = probe::parse_cilium_version(text);
    if (!parsed) {
        throw util::UsageError("invalid --cilium-version \"" + text + "\": want X.Y, e.g. 1.18");
    }
    return *parsed;
}

void add_capabilities_flag(cxxopts::OptionAdder&& options) {
    options(std::string(defaults::k_keep_capabilities_flag),
            "Keep SYS_ADMIN and SYS_RESOURCE even on kernels whose probes do not need them (by default they "
            "are dropped at start from 5.8 and 5.11 on; for comparing reports)");
}

void drop_capabilities_unless_kept(const cxxopts::ParseResult& flags) {
    if (flags.count(std::string(defaults::k_keep_capabilities_flag)) == 0) {
        privileges::drop_unneeded();
    }
}

} // namespace meshlink::agent::cli
