#pragma once
// The clusters join, leave and status work on, as the caller connected them (plugin/cli/connect gives each
// cluster one client for the whole invocation): the client and the MeshApi on it, the kubeconfig entries
// step 3 copies, and preflight's view of the same clusters through the same clients.

#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "plugin/kubeconfig/list.hpp"
#include "plugin/mesh/api.hpp"
#include "plugin/mesh/model.hpp"
#include "plugin/preflight/check.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

// One cluster, as the caller reached it.
struct ClusterAccess {
    std::string context;      // the kubeconfig context (for --peer-kubeconfig: the name given to the cluster)
    std::string tool_context; // the context kubectl, cilium and helm are given
    std::optional<std::string> kubeconfig_file;        // the file they read (--kubeconfig, --peer-kubeconfig)
    std::shared_ptr<kube::Client> client;              // the invocation's one client of the cluster
    std::unique_ptr<MeshApi> api;                      // on `client`
    KubeconfigSource source;                           // step 3 copies these entries
    std::optional<kubeconfig::ContextSummary> summary; // for preflight's kubeconfig checks
};

// The cluster named `name`, reached through `context` of `kubeconfig` (whose file the caller named
// explicitly, when `file` is set) with `client`. Fails when the context, its cluster or its user is not in
// the kubeconfig.
util::Result<ClusterAccess> open_cluster(std::string name, const std::string& context,
                                         const kube::Kubeconfig& kubeconfig, std::optional<std::string> file,
                                         std::shared_ptr<kube::Client> client);

// Opens a context of the user's kubeconfig (status's peers); nullopt when it has none by that name ("" too).
using OpenContext = std::function<util::Result<std::optional<ClusterAccess>>(const std::string& context)>;

// The clusters the steps work on, one per ClusterAccess (same order, nothing read yet: step 1 does that).
class Mesh {
public:
    explicit Mesh(const std::vector<ClusterAccess>& access);
    Mesh(const Mesh&) = delete;
    Mesh& operator=(const Mesh&) = delete;

    [[nodiscard]] std::vector<Cluster*>& clusters() { return m_clusters; }

private:
    std::vector<Cluster> m_owned;
    std::vector<Cluster*> m_clusters;
};

// One Cluster reached through `access`.
Cluster cluster_of(const ClusterAccess& access);

// Preflight's checks of every cluster and pair, read through the clusters' own clients.
std::vector<preflight::Check> preflight_checks(const std::vector<ClusterAccess>& access);

} // namespace meshlink::plugin::mesh
