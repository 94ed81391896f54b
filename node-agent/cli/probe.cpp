// `meshlink-agent probe`: flags, then probe/ gathers and judges, then the table or the JSON document.

#include "node-agent/cli/probe_flags.hpp"
#include "node-agent/cli/verb_handlers.hpp"
#include "node-agent/defaults.hpp"
#include "probe/report.hpp"
#include "util/cli_options.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/terminal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <system_error>

namespace meshlink::agent::cli {
namespace {

util::Terminal::Tone tone(probe::Status status) {
    switch (status) {
    case probe::Status::pass:
        return util::Terminal::Tone::good;
    case probe::Status::warn:
        return util::Terminal::Tone::warn;
    case probe::Status::fail:
        return util::Terminal::Tone::bad;
    case probe::Status::unknown:
        return util::Terminal::Tone::dim;
    }
    return util::Terminal::Tone::plain;
}

void print_table(const probe::Report& report, const util::Terminal& term) {
    const auto& facts = report.facts;
    std::string os = facts.os.get("PRETTY_NAME");
    if (os.empty()) {
        os = facts.os.get("ID").empty() ? std::string("distribution unknown") : facts.os.get("ID");
    }
    std::cout << term.paint(util::Terminal::Tone::bold,
                            "Node " + (facts.node.empty() ? std::string("(unnamed)") : facts.node))
              << ": kernel " << (facts.kernel.release.empty() ? std::string("unknown") : facts.kernel.release)
              << ", " << os << "; requirements of Cilium " << probe::to_string(report.cilium) << "\n\n";

    std::size_t width = 0;
    for (const auto& check : report.checks) {
        width = std::max(width, check.id.size());
    }
    int counts[4] = {0, 0, 0, 0};
    const std::string indent(2 + (term.unicode ? 1 : 6) + 2 + width + 2, ' ');
    for (const auto& check : report.checks) {
        ++counts[static_cast<int>(check.status)];
        std::string id = check.id;
        id.resize(width, ' ');
        std::cout << "  " << term.status_mark(probe::to_string(check.status)) << "  " << id << "  "
                  << check.message << "\n";
        if (!check.hint.empty() && check.status != probe::Status::pass) {
            std::cout << indent
                      << term.paint(util::Terminal::Tone::dim, (term.unicode ? "→ " : "-> ") + check.hint)
                      << "\n";
        }
    }
    std::cout << "\n"
              << term.paint(tone(probe::Status::pass), fmt::format("{} passed", counts[0])) << ", "
              << term.paint(tone(probe::Status::warn),
                            fmt::format("{} warning{}", counts[1], counts[1] == 1 ? "" : "s"))
              << ", " << term.paint(tone(probe::Status::fail), fmt::format("{} failed", counts[2])) << ", "
              << fmt::format("{} unknown", counts[3]) << "\n";
}

} // namespace

int run_probe(Invocation& invocation) {
    util::VerbOptions options(
        invocation.program,
        "probe [--root DIR] [--proc DIR] [--sys DIR] [--mountinfo FILE] [--skip-bpf] [--cilium-version X.Y] "
        "[--keep-capabilities] [-o table|json] [-v N]",
        "Tell whether this node's kernel can run a Cilium version, and why not: kernel version, kernel "
        "config, "
        "BTF, BPF program/map types and helpers, modules, bpffs, cgroup v2 and the boot setup.");
    options.add()(
        "root",
        "Where the host's /boot, /etc, /lib/modules and /usr/lib/modules are (the DaemonSet uses /host)",
        cxxopts::value<std::string>())(
        "proc",
        "The host's procfs; the kernel release is read from <proc>/sys/kernel/osrelease (default /proc)",
        cxxopts::value<std::string>())("sys", "The host's sysfs (default /sys)",
                                       cxxopts::value<std::string>())(
        "mountinfo", "The host's mount table, its /proc/1/mountinfo (default <proc>/1/mountinfo)",
        cxxopts::value<std::string>())(
        "skip-bpf", "Leave out the live-kernel BPF probes (for a --root that is not the running node)")(
        "cilium-version",
        "Judge against this Cilium release, X.Y (default: the newest known, " +
            probe::to_string(probe::newest_cilium()) + ")",
        cxxopts::value<std::string>())("o,output", "Output format: table or json",
                                       cxxopts::value<std::string>()->default_value("table"))(
        "v,verbosity", "Log verbosity on stderr: 2 the capabilities dropped at start, 4 debug",
        cxxopts::value<int>()->default_value("0"));
    add_capabilities_flag(options.add());
    auto flags = options.parse(invocation.args);
    if (!flags) {
        return 0;
    }
    if (auto extra = util::VerbOptions::positionals(*flags); !extra.empty()) {
        throw util::UsageError("probe takes no arguments, got \"" + extra.front() + "\"\nRun '" +
                               invocation.program + " probe --help' for usage.");
    }
    const std::string output = (*flags)["output"].as<std::string>();
    if (output != "table" && output != "json") {
        throw util::UsageError("unknown output format \"" + output + "\": use table or json");
    }
    const probe::CiliumVersion cilium = cilium_version_flag(*flags);
    util::log::set_verbosity((*flags)["verbosity"].as<int>());

    probe::ProbeOptions probe_options;
    probe_options.host = host_flags(*flags);
    drop_capabilities_unless_kept(*flags);
    if (const char* node = std::getenv(std::string(defaults::k_node_name_env).c_str()); node != nullptr) {
        probe_options.node_name = node;
    }
    std::unique_ptr<probe::BpfKernel> kernel;
    std::optional<probe::BpfFeatures> features;
    if (flags->count("skip-bpf") == 0) {
        kernel = probe::make_libbpf_kernel();
        features.emplace(*kernel);
        probe_options.bpf = &*features;
    }

    bool extrapolated = false;
    const auto& row = probe::requirements_for(cilium, &extrapolated);
    if (extrapolated) {
        std::cerr << invocation.program << ": Cilium " << probe::to_string(cilium)
                  << " is newer than the requirements this agent knows; judging by those of Cilium "
                  << probe::to_string(row.last) << "\n";
    }
    const probe::Report report = probe::make_report(probe_options, cilium);
    if (output == "json") {
        std::cout << probe::to_json_text(report, 2) << "\n";
    } else {
        print_table(report, util::Terminal::detect(stdout));
    }
    std::cout.flush();
    return probe::any_failed(report.checks) ? 1 : 0;
}

} // namespace meshlink::agent::cli
