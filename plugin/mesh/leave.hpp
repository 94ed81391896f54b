#pragma once
// `kubectl meshlink leave PEER`: undoes, on both sides, exactly what the journals say join did for this pair
// (Secret entries, hostAliases, the meshlink-apiserver Services, a shared CA, NodePort moves, the tools'
// connect/enable, kubeconfig entries; changes.hpp), newest first, and nothing else. Changes another peer
// still needs stay. Resumable like join: an undo that was done already is a no-op.

#include "plugin/mesh/access.hpp"
#include "plugin/mesh/session.hpp"

#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

struct LeaveOutcome {
    int exit_code = 0; // 0 left, 1 nothing recorded for the pair or not confirmed, 2 runtime error
    std::string message;
    std::vector<PlannedAction> plan; // --dry-run
};

// clusters[0] is the local side, clusters[1] the peer.
LeaveOutcome run_leave(Session& session, const std::vector<ClusterAccess>& clusters);

} // namespace meshlink::plugin::mesh
