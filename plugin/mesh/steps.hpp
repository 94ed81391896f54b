#pragma once
// The steps of join, one file each; every step is check -> apply -> verify, idempotent, and records what it
// changes in the clusters' journals before changing it. `peers` are the other clusters of the mesh.

#include "plugin/mesh/model.hpp"
#include "util/error.hpp"

#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

// 1. resolve.cpp: reads everything join needs from one cluster (cilium-config, the cilium DaemonSet, the Helm
// release, clustermesh-apiserver, cilium-ca and the clustermesh certificates, the mesh Secrets, nodes) and
// loads its journal. Fails when Cilium is not installed or has no cluster name.
util::Result<void> resolve(Session& session, Cluster& cluster);
// Decodes Helm's release Secret value (base64 of gzip of JSON; the Secret's own base64 already removed).
util::Result<json> decode_helm_release(std::string_view release);
// True when the object's labels or annotations say Helm renders it.
bool helm_owned(const json& object);

// 2. expose.cpp: NodePort Service meshlink-apiserver for the API server, its address and TLS server name.
util::Result<void> expose(Session& session, Cluster& cluster, const std::vector<std::string>& peers);

// 3. kubeconfig_step.cpp: merges every cluster's entry, named after its Cilium cluster name, into the user's
// kubeconfig (lock, atomic, backup), with the exposed server and the original CA and credentials. Records in
// clusters[0]'s journal (the local side).
struct KubeconfigSource; // defined in kubeconfig_step.hpp
util::Result<void> merge_kubeconfig(Session& session, std::vector<Cluster*>& clusters,
                                    const std::vector<KubeconfigSource>& sources);

// 4. ca.cpp: shares clusters[0]'s cilium-ca with every cluster whose clustermesh-apiserver is not enabled yet
// and whose CA differs; clusters already enabled with another CA are connected with per-peer certificates.
util::Result<void> share_ca(Session& session, std::vector<Cluster*>& clusters);

// 5. enable.cpp: a clustermesh-apiserver in every cluster, each on a distinct NodePort.
util::Result<void> enable(Session& session, std::vector<Cluster*>& clusters);

// 6. connect.cpp: every cluster learns every peer (native Secrets + hostAliases, or the cilium CLI / Helm).
util::Result<void> connect(Session& session, std::vector<Cluster*>& clusters);

// 7. wait.cpp: until every agent reports every peer ready, or the timeout; then a diagnosis.
util::Result<void> wait_connected(Session& session, std::vector<Cluster*>& clusters);

} // namespace meshlink::plugin::mesh
