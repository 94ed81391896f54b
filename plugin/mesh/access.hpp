#pragma once
// From kubeconfig contexts to the clusters join, status and leave work on: clients, the entries step 3
// copies, and the preflight targets for the same contexts.

#include "kube/kubeconfig.hpp"
#include "kube/rest_config.hpp"
#include "plugin/mesh/join.hpp"
#include "plugin/preflight/preflight.hpp"

#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

struct MeshClusters {
    kube::Kubeconfig kubeconfig;                 // the user's
    std::optional<kube::Kubeconfig> peer_config; // --peer-kubeconfig
    std::optional<std::string> peer_file;
    std::vector<ClusterAccess> access; // [0] local, then the peers
    kube::ConfigOverrides overrides;   // the local side's (--request-timeout applies to all)
};

// Opens the local context (overrides.context, else current-context) and each peer context; with
// `peer_kubeconfig` the single peer is that file's current context, named `peers[0]`. Usage errors (unknown
// contexts, a peer equal to the local context) are ErrorKind::usage.
util::Result<MeshClusters> open_clusters(const kube::LoadingRules& rules,
                                         const kube::ConfigOverrides& overrides,
                                         const std::vector<std::string>& peers,
                                         const std::optional<std::string>& peer_kubeconfig);

// One more context of the same kubeconfig (status's peers); nullopt when it does not exist.
util::Result<std::optional<ClusterAccess>> open_context(const MeshClusters& clusters,
                                                        const std::string& context);

// preflight's view of the same clusters (new clients: preflight reads through its own narrow interface).
std::vector<preflight::ClusterTarget> preflight_targets(const MeshClusters& clusters);

// Fills in what comes from the environment: $KUBECTL_PATH, whether stdin/stderr are a terminal, --kubeconfig.
void prepare_options(JoinOptions& options, const std::optional<std::string>& kubeconfig_flag);

} // namespace meshlink::plugin::mesh
