#pragma once
// The checks, one file per group: pure functions from gathered facts (facts.hpp) to verdicts. Every ID is
// always emitted for every cluster (or pair); what cannot be judged is `unknown` with the reason, so the
// list of IDs in the output does not depend on what went wrong.

#include "plugin/preflight/check.hpp"
#include "plugin/preflight/facts.hpp"

#include <chrono>
#include <string_view>
#include <vector>

namespace meshlink::plugin::preflight {

// kubeconfig.* for one context (kubeconfig_checks.cpp).
std::vector<Check> kubeconfig_checks(const ClusterFacts& facts);

// cluster.* for one cluster (cluster_checks.cpp).
std::vector<Check> cluster_checks(const ClusterFacts& facts);

// mesh.* for one pair of clusters (mesh_checks.cpp).
std::vector<Check> mesh_checks(const ClusterFacts& a, const ClusterFacts& b);

// node.report.present and the probe's checks aggregated over the cluster's nodes (node_checks.cpp).
std::vector<Check> node_checks(const ClusterFacts& facts);

// Whether a probe check matters for a cluster with this cilium-config: the node.feature.* checks only
// when the feature is switched on (tunnel only in tunnel mode, WireGuard only with encryption, ...);
// every other check always. Without a config (nullptr) every check applies.
bool node_check_applies(std::string_view id, const CiliumConfig* config);

// Cilium's cluster-name rules (pkg/clustermesh/types): "" when `name` is valid, else why not.
std::string cluster_name_problem(std::string_view name);

// The hint to change one Helm value of Cilium: "helm upgrade cilium cilium/cilium -n kube-system
// --reuse-values
// --set <value>".
std::string helm_set(std::string_view value);

} // namespace meshlink::plugin::preflight
