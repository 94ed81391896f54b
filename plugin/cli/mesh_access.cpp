#include "plugin/cli/mesh_access.hpp"

#include "plugin/defaults.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

namespace meshlink::plugin::cli {
namespace {

mesh::ClusterAccess open_or_throw(Contexts& contexts, const std::string& name, const std::string& context) {
    auto client = contexts.client(context);
    if (!client) {
        throw util::Fatal(client.error());
    }
    return util::value_or_throw(mesh::open_cluster(name, context, contexts.kubeconfig(),
                                                   contexts.explicit_file(), std::move(*client)));
}

} // namespace

MeshAccess::MeshAccess(const Invocation& invocation, const std::vector<std::string>& peers,
                       const std::optional<std::string>& peer_kubeconfig)
    : m_contexts(Contexts::load(invocation.flags)) {
    const std::string local = m_contexts.first_context();
    for (const auto& peer : peers) {
        if (peer == local && !peer_kubeconfig) {
            throw util::UsageError(
                fmt::format("PEER \"{}\" is the local context: a cluster cannot mesh with itself", peer));
        }
        if (!peer_kubeconfig && !m_contexts.has_context(peer)) {
            throw util::UsageError(fmt::format(
                "PEER \"{}\" is not a context of the kubeconfig (use --peer-kubeconfig FILE for a "
                "cluster defined elsewhere)",
                peer));
        }
    }
    if (!m_contexts.has_context(local)) {
        throw util::UsageError(fmt::format("context \"{}\" not found in the kubeconfig", local));
    }
    m_clusters.push_back(open_or_throw(m_contexts, local, local));
    if (peer_kubeconfig) {
        m_peer_file.emplace(Contexts::load_file(invocation.flags, *peer_kubeconfig));
        m_clusters.push_back(open_or_throw(*m_peer_file, peers.front(), m_peer_file->first_context()));
        return;
    }
    for (const auto& peer : peers) {
        m_clusters.push_back(open_or_throw(m_contexts, peer, peer));
    }
}

mesh::OpenContext MeshAccess::open_context() {
    return [this](const std::string& context) -> util::Result<std::optional<mesh::ClusterAccess>> {
        if (context.empty() || !m_contexts.has_context(context)) {
            return std::optional<mesh::ClusterAccess>();
        }
        auto client = m_contexts.client(context);
        if (!client) {
            return std::unexpected(client.error());
        }
        auto access = mesh::open_cluster(context, context, m_contexts.kubeconfig(),
                                         m_contexts.explicit_file(), std::move(*client));
        if (!access) {
            return std::unexpected(access.error());
        }
        return std::optional<mesh::ClusterAccess>(std::move(*access));
    };
}

void MeshAccess::prepare(mesh::JoinOptions& options) const {
    if (const char* kubectl = std::getenv(std::string(defaults::k_kubectl_path_env).c_str());
        kubectl != nullptr && *kubectl != '\0') {
        options.kubectl = kubectl;
    }
    options.interactive = ::isatty(STDIN_FILENO) == 1 && ::isatty(STDERR_FILENO) == 1;
    options.kubeconfig_rules = m_contexts.rules();
}

} // namespace meshlink::plugin::cli
