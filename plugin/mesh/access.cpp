#include "plugin/mesh/access.hpp"

#include "plugin/mesh/kube_api.hpp"
#include "plugin/preflight/preflight.hpp"

#include <fmt/format.h>

#include <chrono>

namespace meshlink::plugin::mesh {
namespace {

util::Result<KubeconfigSource> kubeconfig_source(const kube::Kubeconfig& config, const std::string& context) {
    auto ctx = config.contexts.find(context);
    if (ctx == config.contexts.end()) {
        return util::fail(util::ErrorKind::not_found,
                          fmt::format("context \"{}\" not found in the kubeconfig", context));
    }
    auto cluster = config.clusters.find(ctx->second.value.cluster);
    auto user = config.users.find(ctx->second.value.user);
    if (cluster == config.clusters.end() || user == config.users.end()) {
        return util::fail(
            util::ErrorKind::not_found,
            fmt::format("context \"{}\": its cluster \"{}\" or user \"{}\" is not in the kubeconfig", context,
                        ctx->second.value.cluster, ctx->second.value.user));
    }
    return KubeconfigSource{context, cluster->second, user->second, ctx->second.origin};
}

} // namespace

util::Result<ClusterAccess> open_cluster(std::string name, const std::string& context,
                                         const kube::Kubeconfig& kubeconfig, std::optional<std::string> file,
                                         std::shared_ptr<kube::Client> client) {
    auto source = kubeconfig_source(kubeconfig, context);
    if (!source) {
        return std::unexpected(source.error());
    }
    ClusterAccess access;
    access.context = std::move(name);
    access.tool_context = context;
    access.kubeconfig_file = std::move(file);
    access.api = make_kube_api(client);
    access.client = std::move(client);
    access.source = std::move(*source);
    access.summary = kubeconfig::summarize_context(kubeconfig, context, std::chrono::system_clock::now());
    return access;
}

Mesh::Mesh(const std::vector<ClusterAccess>& access) : m_owned(access.size()) {
    for (std::size_t i = 0; i < access.size(); ++i) {
        m_owned[i] = cluster_of(access[i]);
        m_clusters.push_back(&m_owned[i]);
    }
}

Cluster cluster_of(const ClusterAccess& access) {
    Cluster c;
    c.context = access.context;
    c.tool_context = access.tool_context;
    c.kubeconfig_file = access.kubeconfig_file;
    c.server = access.client ? access.client->config().server : std::string();
    c.source = access.source;
    c.api = access.api.get();
    return c;
}

std::vector<preflight::Check> preflight_checks(const std::vector<ClusterAccess>& access) {
    std::vector<preflight::ClusterTarget> targets;
    for (const auto& a : access) {
        targets.push_back(preflight::make_target(a.context, a.summary, a.client));
    }
    return preflight::run_preflight(targets, preflight::RunOptions{}).checks;
}

} // namespace meshlink::plugin::mesh
