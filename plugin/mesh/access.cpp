#include "plugin/mesh/access.hpp"

#include "build_info.hpp"
#include "plugin/defaults.hpp"
#include "plugin/kubeconfig/list.hpp"
#include "plugin/mesh/kube_api.hpp"
#include "plugin/preflight/kube_api.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

namespace meshlink::plugin::mesh {
namespace {

util::Result<ClusterAccess> open_one(const kube::Kubeconfig& config, const std::string& context,
                                     kube::ConfigOverrides overrides, const std::string& name,
                                     const std::optional<std::string>& file) {
    overrides.context = context;
    auto rest = kube::resolve_rest_config(config, overrides);
    if (!rest) {
        return std::unexpected(rest.error());
    }
    rest->user_agent = fmt::format("kubectl-meshlink/{} (linux)", build_info::k_version);
    auto client = kube::Client::from_config(*rest);
    if (!client) {
        return std::unexpected(client.error().with_context(
            "unable to create Kubernetes client for context \"" + context + "\""));
    }
    auto source = kubeconfig_source(config, context);
    if (!source) {
        return std::unexpected(source.error());
    }
    ClusterAccess access;
    access.context = name;
    access.tool_context = context;
    access.kubeconfig_file = file;
    access.rest = std::move(*rest);
    access.api = make_kube_api(std::move(*client));
    access.source = std::move(*source);
    return access;
}

} // namespace

util::Result<MeshClusters> open_clusters(const kube::LoadingRules& rules,
                                         const kube::ConfigOverrides& overrides,
                                         const std::vector<std::string>& peers,
                                         const std::optional<std::string>& peer_kubeconfig) {
    MeshClusters out;
    out.overrides = overrides;
    auto config = kube::load_kubeconfig(rules);
    if (!config) {
        return std::unexpected(config.error().with_context("unable to read the kubeconfig"));
    }
    out.kubeconfig = std::move(*config);
    const std::string local = overrides.context.value_or(out.kubeconfig.current_context);
    if (local.empty()) {
        return util::fail(util::ErrorKind::usage,
                          "no local cluster: the kubeconfig has no current-context; pass --context NAME");
    }
    const std::optional<std::string> file =
        rules.explicit_path ? std::optional<std::string>(rules.explicit_path->string()) : std::nullopt;
    for (const auto& peer : peers) {
        if (peer == local && !peer_kubeconfig) {
            return util::fail(
                util::ErrorKind::usage,
                fmt::format("PEER \"{}\" is the local context: a cluster cannot mesh with itself", peer));
        }
        if (!peer_kubeconfig && !out.kubeconfig.contexts.contains(peer)) {
            return util::fail(
                util::ErrorKind::usage,
                fmt::format(
                    "PEER \"{}\" is not a context of the kubeconfig (use --peer-kubeconfig FILE for a "
                    "cluster defined elsewhere)",
                    peer));
        }
    }
    if (!out.kubeconfig.contexts.contains(local)) {
        return util::fail(util::ErrorKind::usage,
                          fmt::format("context \"{}\" not found in the kubeconfig", local));
    }
    auto local_access = open_one(out.kubeconfig, local, overrides, local, file);
    if (!local_access) {
        return std::unexpected(local_access.error());
    }
    out.access.push_back(std::move(*local_access));
    kube::ConfigOverrides peer_overrides;
    peer_overrides.request_timeout = overrides.request_timeout;
    if (peer_kubeconfig) {
        kube::LoadingRules peer_rules;
        peer_rules.explicit_path = *peer_kubeconfig;
        auto peer_config = kube::load_kubeconfig(peer_rules);
        if (!peer_config) {
            return std::unexpected(peer_config.error().with_context("--peer-kubeconfig"));
        }
        out.peer_config = std::move(*peer_config);
        out.peer_file = *peer_kubeconfig;
        if (out.peer_config->current_context.empty()) {
            return util::fail(util::ErrorKind::usage,
                              *peer_kubeconfig + ": no current-context to take the peer from");
        }
        auto peer = open_one(*out.peer_config, out.peer_config->current_context, peer_overrides,
                             peers.front(), *peer_kubeconfig);
        if (!peer) {
            return std::unexpected(peer.error());
        }
        out.access.push_back(std::move(*peer));
        return out;
    }
    for (const auto& name : peers) {
        auto peer = open_one(out.kubeconfig, name, peer_overrides, name, file);
        if (!peer) {
            return std::unexpected(peer.error());
        }
        out.access.push_back(std::move(*peer));
    }
    return out;
}

util::Result<std::optional<ClusterAccess>> open_context(const MeshClusters& clusters,
                                                        const std::string& context) {
    if (context.empty() || !clusters.kubeconfig.contexts.contains(context)) {
        return std::optional<ClusterAccess>();
    }
    kube::ConfigOverrides overrides;
    overrides.request_timeout = clusters.overrides.request_timeout;
    auto access =
        open_one(clusters.kubeconfig, context, overrides, context, clusters.access.front().kubeconfig_file);
    if (!access) {
        return std::unexpected(access.error());
    }
    return std::optional<ClusterAccess>(std::move(*access));
}

std::vector<preflight::ClusterTarget> preflight_targets(const MeshClusters& clusters) {
    std::vector<preflight::ClusterTarget> targets;
    const auto now = std::chrono::system_clock::now();
    const auto summaries = kubeconfig::list_contexts(clusters.kubeconfig, now);
    std::vector<kubeconfig::ContextSummary> peer_summaries;
    if (clusters.peer_config) {
        peer_summaries = kubeconfig::list_contexts(*clusters.peer_config, now);
    }
    for (std::size_t i = 0; i < clusters.access.size(); ++i) {
        const ClusterAccess& access = clusters.access[i];
        preflight::ClusterTarget target;
        target.context = access.context;
        const auto& list = (i > 0 && clusters.peer_config) ? peer_summaries : summaries;
        for (const auto& summary : list) {
            if (summary.name == access.tool_context) {
                target.kubeconfig = summary;
            }
        }
        auto client = kube::Client::from_config(access.rest);
        if (!client) {
            target.connect_error = client.error().message;
        } else {
            target.api = preflight::make_kube_api(std::move(*client));
        }
        targets.push_back(std::move(target));
    }
    return targets;
}

void prepare_options(JoinOptions& options, const std::optional<std::string>& kubeconfig_flag) {
    if (const char* kubectl = std::getenv(std::string(defaults::k_kubectl_path_env).c_str());
        kubectl != nullptr && *kubectl != '\0') {
        options.kubectl = kubectl;
    }
    options.interactive = ::isatty(STDIN_FILENO) == 1 && ::isatty(STDERR_FILENO) == 1;
    options.kubeconfig_explicit = kubeconfig_flag;
}

} // namespace meshlink::plugin::mesh
