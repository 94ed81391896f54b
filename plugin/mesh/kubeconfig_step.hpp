#pragma once
// Step 3's input: where each cluster's original kubeconfig entries come from.

#include "kube/kubeconfig.hpp"

#include <filesystem>
#include <string>

namespace meshlink::plugin::mesh {

// The context (and its cluster and user) that reaches one cluster, as written in its file.
struct KubeconfigSource {
    std::string context;
    kube::Named<kube::Cluster> cluster;
    kube::Named<kube::AuthInfo> user;
    std::filesystem::path file; // the file that defines the context
};

// Builds the source for `context` from a merged kubeconfig; fails when the context, its cluster or its user
// is missing.
util::Result<KubeconfigSource> kubeconfig_source(const kube::Kubeconfig& config, const std::string& context);

// Removes the cluster, user and context named `name` from `file` (locked, atomic, backup): leave's undo of
// step 3. Entries that are not there are fine.
util::Result<void> remove_kubeconfig_entries(const std::filesystem::path& file, const std::string& name);

} // namespace meshlink::plugin::mesh
