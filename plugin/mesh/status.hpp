#pragma once
// `kubectl meshlink status`: the clusters the local one is meshed with (from its cilium-clustermesh /
// cilium-kvstoremesh Secrets and its journal) and, per pair: configured on both sides, agents connected
// (x/y, both sides), clustermesh-apiserver readiness, endpoints, CA match, certificate expiry.

#include "plugin/mesh/access.hpp"
#include "plugin/mesh/session.hpp"

#include <string>

namespace meshlink::plugin::mesh {

struct StatusReport {
    json document; // -o json
    std::string table;
};

// The status of `local` and every peer its Secrets or journal name. A peer is reached through the context
// its journal record names, else a context named after it (join adds one), both opened by `open_context`.
util::Result<StatusReport> run_status(Session& session, const ClusterAccess& local,
                                      const OpenContext& open_context);

} // namespace meshlink::plugin::mesh
