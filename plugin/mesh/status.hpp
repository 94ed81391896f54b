#pragma once
// `kubectl meshlink status`: the clusters the local one is meshed with (from its cilium-clustermesh /
// cilium-kvstoremesh Secrets and its journal) and, per pair: configured on both sides, agents connected
// (x/y, both sides), clustermesh-apiserver readiness, endpoints, CA match, certificate expiry.

#include "plugin/mesh/join.hpp"

#include <functional>
#include <optional>
#include <string>

namespace meshlink::plugin::mesh {

// Connects to a peer: by the context the journal recorded for it, else a context named after it (join's
// kubeconfig entries). nullopt when there is none.
using PeerConnector = std::function<util::Result<std::optional<ClusterAccess>>(const std::string& peer,
                                                                               const std::string& context)>;

struct StatusReport {
    json document; // -o json
    std::string table;
};

util::Result<StatusReport> run_status(Session& session, ClusterAccess& local,
                                      const PeerConnector& connect_peer);

} // namespace meshlink::plugin::mesh
