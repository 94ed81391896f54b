#pragma once
// `kubectl meshlink preflight` as a library: gather facts from every cluster at once (one thread each), then
// judge them: kubeconfig and cluster checks per cluster, mesh checks for every pair, node checks per
// cluster. Nothing is written anywhere. `join` runs the same and stops on any failing check.

#include "kube/client.hpp"
#include "plugin/kubeconfig/list.hpp"
#include "plugin/preflight/api.hpp"
#include "plugin/preflight/check.hpp"
#include "plugin/preflight/facts.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::preflight {

// One cluster to check, as the caller resolved it from the kubeconfig.
struct ClusterTarget {
    std::string context;
    std::optional<kubeconfig::ContextSummary> kubeconfig; // nullopt: the context does not exist
    std::unique_ptr<PreflightApi> api;                    // nullptr: no client (connect_error says why)
    std::string connect_error;
};

// The target named `name`, with the kubeconfig checks of `summary` (nullopt: its context does not exist),
// reading through `client`, the invocation's one client of that cluster (when none could be made, its error
// makes the cluster checks unknown).
ClusterTarget make_target(std::string name, std::optional<kubeconfig::ContextSummary> summary,
                          const util::Result<std::shared_ptr<kube::Client>>& client);

struct RunOptions {
    GatherOptions gather;
    // Called from the gathering threads (serialised) with one line of progress, e.g. for stderr.
    std::function<void(const std::string& line)> progress;
};

struct Outcome {
    std::vector<ClusterFacts> clusters; // in the order of the targets
    std::vector<Check> checks;
};

// Gathers from every target concurrently, then judges.
Outcome run_preflight(std::vector<ClusterTarget>& targets, const RunOptions& options);

// The judging half alone: kubeconfig.* and cluster.* per cluster, mesh.* for every pair (in target
// order), node.* per cluster when node reports were read.
std::vector<Check> judge(const std::vector<ClusterFacts>& clusters, bool node_reports);

} // namespace meshlink::plugin::preflight
