#pragma once
// Step 3 of join, kubeconfig: every cluster's entries (cluster, user, context) copied from the ones that
// reach it (Cluster::source) under its Cilium cluster name, pointing at the API server step 2 exposed, and
// merged into the user's kubeconfig by the kubeconfig library (kubectl's lock, atomic write, backup). The
// entries are recorded in the local cluster's journal (clusters[0]), so leave can remove them.

#include "plugin/mesh/session.hpp"
#include "util/error.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

// Merges every cluster's entries, retried on transient errors.
util::Result<void> step_kubeconfig(Session& session, std::vector<Cluster*>& clusters);

// Removes the cluster, user and context named `name` from `file` (locked, atomic, backup): leave's undo of
// step 3. Entries that are not there are fine.
util::Result<void> remove_kubeconfig_entries(const std::filesystem::path& file, const std::string& name);

} // namespace meshlink::plugin::mesh
