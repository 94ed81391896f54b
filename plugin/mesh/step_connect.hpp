#pragma once
// Step 6 of join, connect: every cluster learns every peer, both directions. Natively, in the formats the
// agents read (formats.hpp): the peer's entry in cilium-clustermesh (in cilium-kvstoremesh when KVStoreMesh
// runs, with the local endpoint in cilium-clustermesh), per-peer certificate files when the CAs differ, and
// hostAliases resolving <peer>.mesh.cilium.io to the peer's nodes on the pods that dial it. Where a tool owns
// Cilium: `cilium clustermesh connect`, or Helm's clustermesh.config values. Also the decisions status and
// step 7's diagnosis share.

#include "plugin/mesh/formats.hpp"
#include "plugin/mesh/session.hpp"
#include "util/error.hpp"

#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

util::Result<void> step_connect(Session& session, std::vector<Cluster*>& clusters);

// The addresses `peer`'s clustermesh-apiserver is reached on: its LoadBalancer's, else its nodes'
// InternalIPs.
std::vector<std::string> peer_ips(const Cluster& peer);

// The CA `local` checks its peers' clustermesh-apiserver certificates against when it connects with the
// common files: its remote certificate's ca.crt, else its cilium-ca.
std::string common_trust(const Cluster& local);

// common when `local`'s remote certificate chains to `peer`'s CA (and `peer`'s server certificate to
// `local`'s CA, when known): the shared-CA form; per_peer otherwise.
ClientFiles client_files(const Cluster& local, const Cluster& peer);

// The pod templates step 6 would change (hostAliases restart their pods), as lines for a confirmation.
util::Result<std::vector<std::string>> restarts_needed(Session& session, std::vector<Cluster*>& clusters);

} // namespace meshlink::plugin::mesh
