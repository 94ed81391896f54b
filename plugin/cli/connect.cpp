#include "plugin/cli/connect.hpp"

#include "build_info.hpp"

#include <fmt/core.h>

namespace meshlink::plugin::cli {

kube::LoadingRules loading_rules(const GlobalFlags& flags) {
    return kube::LoadingRules::from_environment(flags.kubeconfig);
}

kube::ConfigOverrides config_overrides(const GlobalFlags& flags) {
    kube::ConfigOverrides overrides;
    overrides.context = flags.context;
    overrides.cluster = flags.cluster;
    overrides.user = flags.user;
    overrides.namespace_name = flags.namespace_name;
    overrides.request_timeout = flags.request_timeout;
    return overrides;
}

util::Result<kube::Client> connect(const GlobalFlags& flags) {
    const std::string prefix = "unable to create Kubernetes client";
    auto config = kube::load_rest_config(loading_rules(flags), config_overrides(flags));
    if (!config) {
        // A bad --request-timeout is the user's typo, not a client failure: report it as usage.
        if (config.error().kind == util::ErrorKind::usage) {
            return std::unexpected(config.error());
        }
        return std::unexpected(config.error().with_context(prefix));
    }
    config->user_agent = fmt::format("kubectl-meshlink/{} (linux)", build_info::k_version);
    auto client = kube::Client::from_config(std::move(*config));
    if (!client) {
        return std::unexpected(client.error().with_context(prefix));
    }
    return client;
}

} // namespace meshlink::plugin::cli
