#pragma once
// Step 2 of join, expose: each API server on a NodePort every peer can reach (Service
// kube-system/meshlink-apiserver selecting the kubeadm API server pods, or a copy of default/kubernetes'
// endpoints where there are none), its address (a Ready control-plane node's InternalIP and the node port)
// and the name its certificate answers to there.

#include "plugin/mesh/session.hpp"
#include "util/error.hpp"

#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

// Exposes every cluster concurrently, each with retries on transient errors.
util::Result<void> step_expose(Session& session, std::vector<Cluster*>& clusters);

// Exposes one cluster for `peers` (the other clusters' names, recorded as the ones its changes serve); sets
// cluster.exposed_server and cluster.tls_server_name.
util::Result<void> expose(Session& session, Cluster& cluster, const std::vector<std::string>& peers);

} // namespace meshlink::plugin::mesh
