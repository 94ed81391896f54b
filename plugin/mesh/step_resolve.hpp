#pragma once
// Step 1 of join, resolve: what join (and leave and status) need to know about each cluster, read once:
// cilium-config, the cilium DaemonSet, the Helm release, the clustermesh-apiserver, cilium-ca and the
// clustermesh certificates, the mesh Secrets, the nodes; and the cluster's journal, loaded.

#include "plugin/mesh/session.hpp"
#include "util/error.hpp"

#include <string_view>
#include <vector>

namespace meshlink::plugin::mesh {

// Resolves every cluster concurrently, each with retries on transient errors.
util::Result<void> step_resolve(Session& session, std::vector<Cluster*>& clusters);

// Resolves one cluster. Fails when Cilium is not installed or has no cluster name.
util::Result<void> resolve(Session& session, Cluster& cluster);

// Decodes Helm's release Secret value (base64 of gzip of JSON; the Secret's own base64 already removed).
// A release that decompresses to more than defaults::k_max_helm_release_bytes fails with ErrorKind::invalid
// (nothing more is decompressed); one that is not JSON fails with ErrorKind::parse.
util::Result<json> decode_helm_release(std::string_view release);

// True when the object's labels or annotations say Helm renders it.
bool helm_owned(const json& object);

} // namespace meshlink::plugin::mesh
