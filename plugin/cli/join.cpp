// `kubectl meshlink join PEER...`: flags, the clusters' clients (mesh_access.hpp, shared with status.cpp and
// leave.cpp), then plugin/mesh/ does the work; printing and the exit code here.
#include "plugin/mesh/join.hpp"

#include "plugin/cli/mesh_access.hpp"
#include "plugin/cli/verb_handlers.hpp"
#include "plugin/defaults.hpp"
#include "plugin/mesh/kube_api.hpp"
#include "plugin/mesh/output.hpp"
#include "plugin/preflight/output.hpp"
#include "util/cli_options.hpp"
#include "util/duration.hpp"
#include "util/terminal.hpp"

#include <fmt/format.h>

#include <iostream>

namespace meshlink::plugin::cli {
namespace {

const char* const k_description =
    "Take the current cluster (--context) and every PEER to a connected Cilium ClusterMesh, in both "
    "directions\n"
    "(several peers: a full mesh). PEER is a kubeconfig context, or the name given to the cluster of\n"
    "--peer-kubeconfig FILE. Steps, each checked before and verified after, shown on stderr:\n"
    "  1 resolve both sides and run preflight (stops on a failing check)\n"
    "  2 expose each API server (NodePort Service kube-system/meshlink-apiserver)\n"
    "  3 merge kubeconfig entries named after the Cilium clusters, with the exposed servers\n"
    "  4 share the CA before a clustermesh-apiserver exists, else use per-peer client certificates\n"
    "  5 enable clustermesh-apiserver where absent (cilium CLI or helm for Helm installs), distinct "
    "NodePorts\n"
    "  6 connect both directions (cilium-clustermesh/cilium-kvstoremesh entries and hostAliases, or the "
    "tools)\n"
    "  7 wait until every agent reports every peer connected (kubectl exec cilium-dbg status), or diagnose\n"
    "Everything is recorded in ConfigMap kube-system/meshlink-journal of each cluster: a re-run resumes, a "
    "re-run\n"
    "on a joined mesh writes nothing, and `leave` undoes exactly that.\n\n"
    "Exit codes: 0 joined (or planned, with --dry-run), 1 a preflight check failed, a confirmation was "
    "refused\n"
    "or the agents did not connect in time, 2 usage or runtime error.";

} // namespace

int run_join(Invocation& invocation) {
    util::VerbOptions options(
        invocation.program,
        "join PEER... [--peer-kubeconfig FILE] [--service-type NodePort|LoadBalancer] [--backend "
        "auto|native|cilium-cli|helm] [--dry-run [-o yaml]] [--yes] [--timeout 10m] [--skip-preflight]",
        k_description);
    options.add()("peer-kubeconfig",
                  "Read the (single) PEER from this kubeconfig's current context; PEER is its name",
                  cxxopts::value<std::string>())(
        "service-type", "clustermesh-apiserver Service type when join enables it: NodePort or LoadBalancer",
        cxxopts::value<std::string>()->default_value("NodePort"))(
        "backend",
        "How to change Cilium: auto (native unless Helm installed it; then the cilium CLI, else helm), "
        "native, cilium-cli or helm",
        cxxopts::value<std::string>()->default_value("auto"))(
        "dry-run", "Print the plan, every object and command; write nothing")(
        "yes", "Answer yes to every confirmation (pod restarts from hostAliases)")(
        "timeout", "How long to wait for the agents to connect (Go duration)",
        cxxopts::value<std::string>()->default_value(util::format_duration(defaults::k_join_timeout)))(
        "skip-preflight", "Do not stop on failing preflight checks");
    auto parsed = options.parse(invocation.args);
    if (!parsed) {
        return 0;
    }
    const auto peers = util::VerbOptions::positionals(*parsed);
    if (peers.empty() || peers.front().empty()) {
        throw util::UsageError("join needs at least one PEER (a kubeconfig context)\nRun '" +
                               invocation.program + " join --help' for usage.");
    }
    mesh::JoinOptions join;
    join.dry_run = parsed->count("dry-run") > 0;
    join.yes = parsed->count("yes") > 0;
    join.skip_preflight = parsed->count("skip-preflight") > 0;
    join.service_type = (*parsed)["service-type"].as<std::string>();
    if (join.service_type != "NodePort" && join.service_type != "LoadBalancer") {
        throw util::UsageError("--service-type must be NodePort or LoadBalancer, not \"" + join.service_type +
                               "\"");
    }
    const std::string backend = (*parsed)["backend"].as<std::string>();
    const auto chosen = mesh::parse_backend(backend);
    if (!chosen) {
        throw util::UsageError("--backend must be auto, native, cilium-cli or helm, not \"" + backend + "\"");
    }
    join.backend = *chosen;
    auto timeout = util::parse_go_duration((*parsed)["timeout"].as<std::string>());
    if (!timeout || timeout->count() <= 0) {
        throw util::UsageError("invalid --timeout \"" + (*parsed)["timeout"].as<std::string>() +
                               "\": want a duration like 10m");
    }
    join.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout);
    const std::string output = invocation.flags.output.value_or("");
    if (!output.empty() && (output != "yaml" || !join.dry_run)) {
        throw util::UsageError("-o yaml goes with --dry-run (join prints its plan as YAML); got -o \"" +
                               output + "\"");
    }
    std::optional<std::string> peer_kubeconfig;
    if (parsed->count("peer-kubeconfig") > 0) {
        peer_kubeconfig = (*parsed)["peer-kubeconfig"].as<std::string>();
        if (peers.size() != 1) {
            throw util::UsageError("--peer-kubeconfig reads one peer; give exactly one PEER name");
        }
    }
    MeshAccess clusters(invocation, peers, peer_kubeconfig);
    clusters.prepare(join);
    auto host = mesh::make_system_host();
    mesh::Session session(join, *host, mesh::stderr_progress("join"), mesh::terminal_confirm());
    const auto outcome = mesh::run_join(session, clusters.clusters());
    if (!outcome.failed_checks.empty()) {
        preflight::print_table(outcome.failed_checks, util::Terminal::detect(stderr), std::cerr);
    }
    if (join.dry_run && outcome.exit_code == 0) {
        mesh::print_plan(outcome.plan, output == "yaml", std::cout);
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
