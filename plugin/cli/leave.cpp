// `kubectl meshlink leave PEER`: undo what join recorded for the pair, on both sides.
#include "plugin/mesh/leave.hpp"

#include "plugin/cli/mesh_access.hpp"
#include "plugin/cli/verb_handlers.hpp"
#include "plugin/mesh/kube_api.hpp"
#include "plugin/mesh/output.hpp"
#include "util/cli_options.hpp"

#include <iostream>

namespace meshlink::plugin::cli {

int run_leave(Invocation& invocation) {
    util::VerbOptions options(
        invocation.program, "leave PEER [--keep-kubeconfig] [--yes] [--dry-run]",
        "Undo, on the current cluster (--context) and PEER, exactly what `join` recorded in their\n"
        "journals for this pair: cilium-clustermesh / cilium-kvstoremesh entries, hostAliases, the\n"
        "meshlink-apiserver Services, a copied CA, NodePort moves, the cilium CLI's or Helm's connect\n"
        "and enable, and the kubeconfig entries. What another peer still needs, and everything meshlink\n"
        "did not create, stays. Removing hostAliases restarts pods: --yes (or y on a terminal).\n\n"
        "Exit codes: 0 left, 1 nothing recorded for the pair or not confirmed, 2 usage or runtime error.");
    options.add()("keep-kubeconfig", "Keep the kubeconfig entries join added")(
        "yes", "Answer yes to every confirmation")("dry-run", "Print what would be undone; write nothing")(
        "peer-kubeconfig", "PEER's cluster is this kubeconfig's current context",
        cxxopts::value<std::string>());
    auto parsed = options.parse(invocation.args);
    if (!parsed) {
        return 0;
    }
    const auto peers = util::VerbOptions::positionals(*parsed);
    if (peers.size() != 1 || peers.front().empty()) {
        throw util::UsageError("leave needs exactly one PEER\nRun '" + invocation.program +
                               " leave --help' for usage.");
    }
    mesh::JoinOptions settings;
    settings.keep_kubeconfig = parsed->count("keep-kubeconfig") > 0;
    settings.yes = parsed->count("yes") > 0;
    settings.dry_run = parsed->count("dry-run") > 0;
    std::optional<std::string> peer_kubeconfig;
    if (parsed->count("peer-kubeconfig") > 0) {
        peer_kubeconfig = (*parsed)["peer-kubeconfig"].as<std::string>();
    }
    MeshAccess clusters(invocation, peers, peer_kubeconfig);
    clusters.prepare(settings);
    auto host = mesh::make_system_host();
    mesh::Session session(settings, *host, mesh::stderr_progress("leave"), mesh::terminal_confirm());
    const auto outcome = mesh::run_leave(session, clusters.clusters());
    if (settings.dry_run && outcome.exit_code == 0) {
        mesh::print_plan(outcome.plan, false, std::cout);
    }
    if (outcome.exit_code != 0) {
        std::cout.flush();
        std::cerr << invocation.program << ": error: " << outcome.message << "\n";
        return outcome.exit_code;
    }
    std::cout << outcome.message << "\n";
    return 0;
}

} // namespace meshlink::plugin::cli
