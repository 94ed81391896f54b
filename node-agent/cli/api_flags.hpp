#pragma once
// The flags of the agent's verbs that talk to the cluster (`serve`, `kernel run`): which API server
// (--kubeconfig, else the pod's service account) and which Node is this one (--node-name, else $NODE_NAME).

#include "kube/rest_config.hpp"

#include <cxxopts.hpp>

#include <string>

namespace meshlink::agent::cli {

// The API server configuration: --kubeconfig as given (no fallback), else in-cluster. Throws util::Fatal when
// neither works; sets the agent's request timeout (when the config has none) and User-Agent.
kube::RestConfig api_config(const cxxopts::ParseResult& flags);

// --node-name, else $NODE_NAME (the Downward API's spec.nodeName); a usage error when neither is set.
std::string node_name_flag(const cxxopts::ParseResult& flags);

} // namespace meshlink::agent::cli
