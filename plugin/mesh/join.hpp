#pragma once
// `kubectl meshlink join` as a library: takes the local cluster and its peers (already connected by the
// caller) through the seven steps of steps.hpp to a verified ClusterMesh, each pair in both directions
// (several peers: a full mesh). Resumable: every step checks first, so a re-run after a failure or a kill
// finishes the work and a re-run on a joined mesh writes nothing.

#include "plugin/mesh/kubeconfig_step.hpp"
#include "plugin/mesh/model.hpp"
#include "plugin/preflight/check.hpp"
#include "util/error.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

// One cluster to join, as the caller resolved it.
struct ClusterAccess {
    std::string context;      // the kubeconfig context (for --peer-kubeconfig: the name given to the cluster)
    std::string tool_context; // the context kubectl/cilium/helm are given
    std::optional<std::string> kubeconfig_file;
    kube::RestConfig rest;
    std::unique_ptr<MeshApi> api;
    KubeconfigSource source; // for step 3
};

struct JoinOutcome {
    int exit_code = 0; // 0 joined, 1 stopped by preflight or not verified in time, 2 runtime error
    std::string message;
    std::vector<preflight::Check> failed_checks;
    std::vector<PlannedAction> plan; // --dry-run
};

// The preflight step, provided by the caller (it builds the clients preflight reads through).
using PreflightRunner = std::function<std::vector<preflight::Check>()>;

// Runs join with clusters[0] as the local side. Errors that end the run are in the outcome, never thrown.
JoinOutcome run_join(Session& session, std::vector<ClusterAccess>& clusters,
                     const PreflightRunner& preflight);

// Checks preflight may fail that join itself fixes: the NodePort collision (join gives each cluster its own).
bool join_fixes(const preflight::Check& check);

} // namespace meshlink::plugin::mesh
