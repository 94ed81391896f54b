#pragma once
// `kubectl meshlink kubeconfig export`: one context as a kubeconfig that stands on its own.

#include "kube/kubeconfig.hpp"
#include "util/error.hpp"

#include <string>
#include <vector>

namespace meshlink::plugin::kubeconfig {

struct ExportResult {
    std::string yaml;                  // the kubeconfig, credentials included
    std::vector<std::string> warnings; // why it may not work on another machine
};

// The context `context` of the merged view with its cluster and user, current-context set to it. Relative
// paths become absolute; `flatten` inlines certificates and keys instead. Warnings cover exec, token-file
// and auth-provider credentials, loopback/link-local/cluster-internal servers, and file references left
// without `flatten`. A missing context, or a cluster or user it names that no file defines, is an error.
util::Result<ExportResult> export_context(const kube::Kubeconfig& config, const std::string& context,
                                          bool flatten);

} // namespace meshlink::plugin::kubeconfig
