#pragma once
// Step 4 of join, ca: one CA for the mesh where that is still cheap, per-peer client certificates where it is
// not. The local cluster's cilium-ca (or, for a pair where only the peer serves already, the peer's) is
// copied to every cluster whose clustermesh-apiserver is not enabled yet and whose CA differs, natively or
// through Helm's tls.ca values when Helm renders cilium-ca; clusters already serving with another CA are
// connected with per-peer certificates in step 6, so nothing is re-issued. Says which in Cluster::ca_note.

#include "plugin/mesh/session.hpp"
#include "util/error.hpp"

#include <vector>

namespace meshlink::plugin::mesh {

util::Result<void> step_ca(Session& session, std::vector<Cluster*>& clusters);

} // namespace meshlink::plugin::mesh
