#pragma once
// From the global flags to a Kubernetes client: the one place verbs get a connection to the current
// context's cluster (client-go's loading rules and overrides, see kube/rest_config.hpp).

#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "kube/rest_config.hpp"
#include "plugin/cli/global_flags.hpp"

namespace meshlink::plugin::cli {

// --kubeconfig, $KUBECONFIG and ~/.kube/config, as kubectl reads them.
kube::LoadingRules loading_rules(const GlobalFlags& flags);

// --context --cluster --user -n --request-timeout.
kube::ConfigOverrides config_overrides(const GlobalFlags& flags);

// Loads the kubeconfig, applies the flags and builds a client. Failures read
// "unable to create Kubernetes client: <cause>"; an invalid --request-timeout is a usage error.
util::Result<kube::Client> connect(const GlobalFlags& flags);

} // namespace meshlink::plugin::cli
