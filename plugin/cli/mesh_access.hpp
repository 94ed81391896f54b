#pragma once
// The clusters join, leave and status work on, reached through connect.hpp (one client per cluster): the
// first context and every PEER context of the user's kubeconfig, or the one peer of --peer-kubeconfig.

#include "plugin/cli/command.hpp"
#include "plugin/cli/connect.hpp"
#include "plugin/mesh/access.hpp"
#include "plugin/mesh/session.hpp"

#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::cli {

class MeshAccess {
public:
    // Connects the first context (--context, else current-context) and each of `peers`; with
    // `peer_kubeconfig` the single peer is that file's current context, named `peers[0]`. Throws
    // util::UsageError for a PEER that is the first context or not a context, util::Fatal when a cluster
    // cannot be reached through the kubeconfig.
    MeshAccess(const Invocation& invocation, const std::vector<std::string>& peers,
               const std::optional<std::string>& peer_kubeconfig);
    MeshAccess(const MeshAccess&) = delete;
    MeshAccess& operator=(const MeshAccess&) = delete;

    // [0] the first context, then the peers.
    [[nodiscard]] const std::vector<mesh::ClusterAccess>& clusters() const { return m_clusters; }

    // Opens another context of the user's kubeconfig, with its one client (status's peers).
    mesh::OpenContext open_context();

    // The options' parts that come from the environment: $KUBECTL_PATH, whether stdin and stderr are a
    // terminal, the kubeconfig's loading rules.
    void prepare(mesh::JoinOptions& options) const;

private:
    Contexts m_contexts;
    std::optional<Contexts> m_peer_file;
    std::vector<mesh::ClusterAccess> m_clusters;
};

} // namespace meshlink::plugin::cli
