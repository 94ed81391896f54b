// `kubectl meshlink preflight`: flags, the contexts' clients from connect.hpp, then plugin/preflight/
// gathers and judges; printing and the exit code here.

#include "plugin/preflight/preflight.hpp"

#include "plugin/cli/connect.hpp"
#include "plugin/cli/verb_handlers.hpp"
#include "plugin/kubeconfig/list.hpp"
#include "plugin/preflight/local.hpp"
#include "plugin/preflight/output.hpp"
#include "probe/requirements.hpp"
#include "util/cli_options.hpp"
#include "util/terminal.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

namespace meshlink::plugin::cli {
namespace {

namespace pf = plugin::preflight;

const char* const k_description =
    "Find every reason a Cilium ClusterMesh of the given clusters would fail, before anything changes.\n"
    "Checks the kubeconfig entries, each cluster (API access, permissions join needs, Cilium's name, ID,\n"
    "identity mode and clustermesh-apiserver), every pair of clusters (unique names and IDs, pod and "
    "service\n"
    "CIDR overlap, datapath, max-connected-clusters, native routing CIDR, NodePorts, CA), and every node "
    "from\n"
    "the reports `kubectl meshlink agent install` publishes, judged for the cluster's Cilium version.\n"
    "Reads only: nothing is changed in any cluster. The check IDs are listed in the README "
    "(\"Preflight\").\n"
    "A failed check exits 1; warnings and unknowns do not.";

} // namespace

int run_preflight(Invocation& invocation) {
    util::VerbOptions options(
        invocation.program,
        "preflight [--context A] [--peer B ...] [--local] [--cilium-version X.Y] [-o table|json]",
        k_description);
    options.add()("peer",
                  "Another context of the kubeconfig to mesh with (repeatable); every pair is checked",
                  cxxopts::value<std::vector<std::string>>())(
        "local", "Run the node probe on this machine instead of reading the agents' reports; alone (without "
                 "--context or --peer) it checks only this machine")(
        "cilium-version",
        "Judge nodes for this Cilium release, X.Y (default: each cluster's, from its cilium "
        "DaemonSet; with --local alone the newest known, " +
            probe::to_string(probe::newest_cilium()) + ")",
        cxxopts::value<std::string>());
    auto parsed = options.parse(invocation.args);
    if (!parsed) {
        return 0;
    }
    if (auto extra = util::VerbOptions::positionals(*parsed); !extra.empty() && !extra.front().empty()) {
        throw util::UsageError("preflight takes no arguments, got \"" + extra.front() +
                               "\" (peers are given with --peer)\n"
                               "Run '" +
                               invocation.program + " preflight --help' for usage.");
    }
    const std::string output = invocation.flags.output.value_or("table");
    if (output != "table" && output != "json") {
        throw util::UsageError("unknown output format \"" + output + "\" for preflight: use table or json");
    }
    std::optional<probe::CiliumVersion> cilium_override;
    if (parsed->count("cilium-version") > 0) {
        const std::string text = (*parsed)["cilium-version"].as<std::string>();
        cilium_override = probe::parse_cilium_version(text);
        if (!cilium_override) {
            throw util::UsageError("invalid --cilium-version \"" + text + "\": want X.Y, e.g. 1.16");
        }
    }
    const bool local = parsed->count("local") > 0;
    std::vector<std::string> peers;
    if (parsed->count("peer") > 0) {
        peers = (*parsed)["peer"].as<std::vector<std::string>>();
    }
    const bool clusters = !local || invocation.flags.context.has_value() || !peers.empty();

    const auto now = std::chrono::system_clock::now();
    std::vector<pf::ClusterTarget> targets;
    if (clusters) {
        auto contexts = Contexts::load(invocation.flags);
        std::vector<std::string> names{contexts.first_context(" (or --local to check only this machine)")};
        for (const auto& peer : peers) {
            if (std::find(names.begin(), names.end(), peer) != names.end()) {
                throw util::UsageError("context \"" + peer +
                                       "\" is given twice: a cluster cannot mesh with itself");
            }
            names.push_back(peer);
        }
        for (const auto& name : names) {
            targets.push_back(
                pf::make_target(name, plugin::kubeconfig::summarize_context(contexts.kubeconfig(), name, now),
                                contexts.client(name)));
        }
    }

    const bool progress_to_terminal = ::isatty(STDERR_FILENO) == 1;
    pf::RunOptions run;
    run.gather.cilium_override = cilium_override;
    run.gather.read_node_reports = !local;
    run.gather.now = now;
    run.progress = [&](const std::string& line) {
        if (progress_to_terminal || invocation.flags.verbosity > 0) {
            std::cerr << "preflight: " << line << "\n";
        }
    };
    pf::Outcome outcome = pf::run_preflight(targets, run);

    if (local) {
        pf::LocalOptions local_options;
        if (cilium_override) {
            local_options.cilium = *cilium_override;
        } else if (!outcome.clusters.empty()) {
            local_options.cilium = outcome.clusters.front().node_cilium;
        } else {
            local_options.cilium = probe::newest_cilium();
        }
        run.progress("probing this machine ...");
        for (auto& check : pf::local_checks(local_options)) {
            outcome.checks.push_back(std::move(check));
        }
    }

    if (output == "json") {
        std::cout << pf::to_json(outcome.checks)
                         .dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                  << "\n";
    } else {
        pf::print_table(outcome.checks, util::Terminal::detect(stdout), std::cout);
    }
    std::cout.flush();
    return pf::any_failed(outcome.checks) ? 1 : 0;
}

} // namespace meshlink::plugin::cli
