#pragma once
// Every name, selector, annotation key, port and timeout kubectl-meshlink uses, written once.

#include <array>
#include <chrono>
#include <cstddef>
#include <string_view>

namespace meshlink::plugin::defaults {

inline constexpr std::string_view k_plugin_name = "meshlink";
inline constexpr std::string_view k_binary_prefix = "kubectl-"; // argv[0] prefix when kubectl runs us

// kubeconfig: `list --check` waits this long for each server (kubecm's list uses the same 2 s); certificates
// expiring within the warning window are flagged by list and preflight.
inline constexpr std::chrono::seconds k_kubeconfig_check_timeout{2};
inline constexpr std::chrono::days k_certificate_expiry_warning{30};

// preflight: where Cilium keeps what a mesh depends on (../shared/reference/cilium-clustermesh.md §2a, §4).
inline constexpr std::string_view k_cilium_namespace = "kube-system";
inline constexpr std::string_view k_cilium_config = "cilium-config";          // ConfigMap
inline constexpr std::string_view k_cilium_daemonset = "cilium";              // DaemonSet
inline constexpr std::string_view k_cilium_agent_container = "cilium-agent";  // its image tag is the version
inline constexpr std::string_view k_clustermesh_apiserver = "clustermesh-apiserver"; // Service, Deployment
inline constexpr std::string_view k_cilium_ca_secret = "cilium-ca";
inline constexpr std::string_view k_cilium_ca_cert_key = "ca.crt"; // the only key preflight reads from it
// Cilium's defaults when cilium-config leaves a key out.
inline constexpr int k_cilium_default_max_connected_clusters = 255;
inline constexpr std::size_t k_cilium_cluster_name_max_length = 32;
inline constexpr std::string_view k_cilium_reserved_cluster_name = "default";
// Service CIDR sources, in order: ServiceCIDR objects, the API server's flag, the `kubernetes` Service.
inline constexpr std::string_view k_kube_apiserver_selector = "component=kube-apiserver,tier=control-plane";
inline constexpr std::string_view k_kube_apiserver_namespace = "kube-system";
inline constexpr std::string_view k_service_cidr_flag = "--service-cluster-ip-range";
inline constexpr std::string_view k_kubernetes_service_namespace = "default";
inline constexpr std::string_view k_kubernetes_service = "kubernetes";
// Node reports published by `meshlink-agent serve` (README "Node probe").
inline constexpr std::string_view k_node_report_annotation = "meshlink.io/node-report";
inline constexpr std::chrono::seconds k_node_report_default_interval{600}; // when the report has none
inline constexpr int k_node_report_stale_intervals = 3; // older than this many intervals = stale
inline constexpr int k_node_list_page_size = 500;       // paginated, metadata-only node lists
inline constexpr std::string_view k_agent_install_command = "kubectl meshlink agent install";

// Every access `kubectl meshlink join` needs in a cluster, asked with SelfSubjectAccessReview by preflight's
// cluster.rbac.sufficient. One row per (verb, resource); an empty namespace means cluster-wide.
struct AccessRule {
    std::string_view verb;
    std::string_view group; // "" = core
    std::string_view resource;
    std::string_view subresource;
    std::string_view namespace_name;
};
inline constexpr std::array k_join_access = {
    AccessRule{"get", "", "secrets", "", "kube-system"},
    AccessRule{"create", "", "secrets", "", "kube-system"},
    AccessRule{"update", "", "secrets", "", "kube-system"},
    AccessRule{"patch", "", "secrets", "", "kube-system"},
    AccessRule{"delete", "", "secrets", "", "kube-system"},
    AccessRule{"get", "", "configmaps", "", "kube-system"},
    AccessRule{"create", "", "configmaps", "", "kube-system"},
    AccessRule{"update", "", "configmaps", "", "kube-system"},
    AccessRule{"patch", "", "configmaps", "", "kube-system"},
    AccessRule{"delete", "", "configmaps", "", "kube-system"},
    AccessRule{"get", "", "services", "", "kube-system"},
    AccessRule{"create", "", "services", "", "kube-system"},
    AccessRule{"update", "", "services", "", "kube-system"},
    AccessRule{"patch", "", "services", "", "kube-system"},
    AccessRule{"delete", "", "services", "", "kube-system"},
    AccessRule{"get", "discovery.k8s.io", "endpointslices", "", "kube-system"},
    AccessRule{"create", "discovery.k8s.io", "endpointslices", "", "kube-system"},
    AccessRule{"update", "discovery.k8s.io", "endpointslices", "", "kube-system"},
    AccessRule{"patch", "discovery.k8s.io", "endpointslices", "", "kube-system"},
    AccessRule{"delete", "discovery.k8s.io", "endpointslices", "", "kube-system"},
    AccessRule{"get", "apps", "daemonsets", "", "kube-system"},
    AccessRule{"patch", "apps", "daemonsets", "", "kube-system"},
    AccessRule{"get", "apps", "deployments", "", "kube-system"},
    AccessRule{"patch", "apps", "deployments", "", "kube-system"},
    AccessRule{"list", "", "nodes", "", ""},
    AccessRule{"list", "", "pods", "", "kube-system"},
    AccessRule{"create", "", "pods", "exec", "kube-system"},
};

// agent: the objects `agent install` writes (manifests/agent/) and the labels the agents set next to their
// report (k_node_report_annotation; the same keys as node-agent/defaults.hpp).
inline constexpr std::string_view k_agent_namespace = "meshlink-system";
inline constexpr std::string_view k_agent_daemonset = "meshlink-agent";
inline constexpr std::string_view k_kernel_ready_label = "meshlink.io/kernel-ready";
inline constexpr std::string_view k_kernel_version_label = "meshlink.io/kernel-version";
inline constexpr std::string_view k_field_manager = "kubectl-meshlink";

} // namespace meshlink::plugin::defaults
