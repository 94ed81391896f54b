#pragma once
// `kubectl meshlink join` as a library: takes the local cluster and its peers (connected by the caller)
// through seven steps to a verified ClusterMesh, each pair in both directions (several peers: a full mesh).
// Each step has its header, step_<name>.hpp:
//   1 resolve   read each cluster (then the gate, step_gate.hpp: whatever stops a join stops it there)
//   2 expose    each API server on a NodePort
//   3 kubeconfig entries named after the Cilium clusters, with the exposed servers
//   4 ca        one CA where possible, per-peer certificates where not
//   5 enable    a clustermesh-apiserver in each cluster, on distinct NodePorts
//   6 connect   every cluster learns every peer
//   7 wait      every agent reports every peer connected
// Every step is check -> apply -> verify and records what it changes in the clusters' journals before
// changing it, so a re-run after a failure or a kill finishes the work and a re-run on a joined mesh writes
// nothing.

#include "plugin/mesh/access.hpp"
#include "plugin/mesh/session.hpp"
#include "plugin/preflight/check.hpp"

#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

struct JoinOutcome {
    int exit_code = 0; // 0 joined, 1 stopped by the gate or not verified in time, 2 runtime error
    std::string message;
    std::vector<preflight::Check> failed_checks;
    std::vector<PlannedAction> plan; // --dry-run
};

// Runs join with clusters[0] as the local side. Errors that end the run are in the outcome, never thrown.
JoinOutcome run_join(Session& session, const std::vector<ClusterAccess>& clusters);

} // namespace meshlink::plugin::mesh
