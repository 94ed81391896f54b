#pragma once
// Step 6's decisions, shared with status and the wait step's diagnosis.

#include "plugin/mesh/formats.hpp"
#include "plugin/mesh/model.hpp"

#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

// The addresses `peer`'s clustermesh-apiserver is reached on: its LoadBalancer's, else its nodes'
// InternalIPs.
std::vector<std::string> peer_ips(const Cluster& peer);

// common when `local`'s remote certificate chains to `peer`'s CA (and `peer`'s server certificate to
// `local`'s CA, when known): the shared-CA form; per_peer otherwise.
ClientFiles client_files(const Cluster& local, const Cluster& peer);

// The pod templates connect would change (hostAliases restart their pods), as lines for a confirmation.
util::Result<std::vector<std::string>> restarts_needed(Session& session, std::vector<Cluster*>& clusters);

} // namespace meshlink::plugin::mesh
