#pragma once
// The clusters of the mesh the current context belongs to, as `join` names them, for the verbs that work on
// the whole mesh afterwards (`verify`, `demo`): this context, then every peer its join journal records,
// reached through the context the journal names for it, else a kubeconfig context named after the peer (join
// adds one). With PEER arguments, exactly those contexts instead.

#include "plugin/mesh/access.hpp"
#include "plugin/mesh/session.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

struct Member {
    std::optional<ClusterAccess> owned; // a peer opened from the journal's record
    const ClusterAccess* access = nullptr;
    Cluster
        cluster; // resolved: cilium-config cluster-name, clustermesh-apiserver, mesh Secrets, nodes, journal
};

// Takes `given` ([0] the local cluster, then the PEER contexts when `peers_given`), resolves each and,
// without PEERs, adds the peers the local journal records (through `open_context`). Fails when a recorded
// peer has no context, when no peer is known, or when two members share a Cilium cluster-name.
util::Result<std::vector<std::unique_ptr<Member>>> open_members(Session& session,
                                                                const std::vector<ClusterAccess>& given,
                                                                const OpenContext& open_context,
                                                                bool peers_given);

} // namespace meshlink::plugin::mesh
