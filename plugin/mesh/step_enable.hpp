#pragma once
// Step 5 of join, enable: a clustermesh-apiserver in every cluster, each reachable on a NodePort no other
// cluster of the mesh uses (with identical NodePorts and kube-proxy replacement, a node's own NodePort
// answers, so agents silently connect to their own cluster). Enabling goes through the tool that owns Cilium
// (`cilium clustermesh enable`, or `helm upgrade` with the values the cilium CLI sets); a cluster no tool
// owns must have one already (the gate refuses otherwise). A cluster enabled here is read again (step 1's
// resolve): the tools bring certificates and Secrets.

#include "plugin/mesh/session.hpp"
#include "util/error.hpp"

#include <vector>

namespace meshlink::plugin::mesh {

util::Result<void> step_enable(Session& session, std::vector<Cluster*>& clusters);

} // namespace meshlink::plugin::mesh
