#include "node-agent/cli/api_flags.hpp"

#include "build_info.hpp"
#include "kube/kubeconfig.hpp"
#include "node-agent/defaults.hpp"
#include "util/error.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace meshlink::agent::cli {

kube::RestConfig api_config(const cxxopts::ParseResult& flags) {
    util::Result<kube::RestConfig> config;
    if (flags.count("kubeconfig") > 0) {
        kube::LoadingRules rules;
        rules.explicit_path = flags["kubeconfig"].as<std::string>();
        // An explicit kubeconfig must be used as given: no fallback to the pod's service account.
        config = kube::load_rest_config(rules, {}, kube::InClusterEnvironment{});
    } else {
        const auto environment = kube::InClusterEnvironment::from_process();
        if (!environment.possible()) {
            throw util::Fatal(
                "not running in a pod (no KUBERNETES_SERVICE_HOST/PORT or service account token); "
                "pass --kubeconfig FILE to run outside a cluster");
        }
        config = kube::in_cluster_config(environment);
    }
    if (!config) {
        throw util::Fatal(config.error().with_context("unable to load the API server configuration"));
    }
    if (config->timeout.count() == 0) {
        config->timeout = defaults::k_api_request_timeout;
    }
    config->user_agent = fmt::format("{}/{}", defaults::k_agent_name, build_info::k_version);
    return std::move(*config);
}

std::string node_name_flag(const cxxopts::ParseResult& flags) {
    std::string node;
    if (flags.count("node-name") > 0) {
        node = flags["node-name"].as<std::string>();
    } else if (const char* env = std::getenv(std::string(defaults::k_node_name_env).c_str());
               env != nullptr) {
        node = env;
    }
    if (node.empty()) {
        throw util::UsageError("no node name: pass --node-name or set $NODE_NAME (the DaemonSet sets it from "
                               "spec.nodeName)");
    }
    return node;
}

} // namespace meshlink::agent::cli
