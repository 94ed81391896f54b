#pragma once
// Every name, selector, annotation key, port and timeout kubectl-meshlink uses, written once.

#include "probe/defaults.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace meshlink::plugin::defaults {

inline constexpr std::string_view k_plugin_name = "meshlink";
inline constexpr std::string_view k_binary_prefix = "kubectl-"; // argv[0] prefix when kubectl runs us

// kubeconfig: `list --check` waits this long for each server (kubecm's list uses the same 2 s); certificates
// expiring within the warning window are flagged by list and preflight.
inline constexpr std::chrono::seconds k_kubeconfig_check_timeout{2};
inline constexpr std::size_t k_kubeconfig_parallel_checks = 64; // servers asked at once
// kubeconfig merge: inputs from this size on get their heap reserved (and huge pages advised) up front, at
// most this much (util/heap.hpp).
inline constexpr std::uintmax_t k_large_kubeconfig_bytes = 1U << 20U;
inline constexpr std::uintmax_t k_large_kubeconfig_heap_cap = 512U << 20U;
inline constexpr std::chrono::days k_certificate_expiry_warning{30};

// preflight: where Cilium keeps what a mesh depends on (docs/cilium-clustermesh.md, "What preflight reads").
inline constexpr std::string_view k_cilium_namespace = "kube-system";
inline constexpr std::string_view k_cilium_config = "cilium-config";         // ConfigMap
inline constexpr std::string_view k_cilium_daemonset = "cilium";             // DaemonSet
inline constexpr std::string_view k_cilium_agent_container = "cilium-agent"; // its image tag is the version
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
// Node reports published by `meshlink-agent serve`: their keys, Leases and staleness rule are the node
// report's (probe/defaults.hpp). Nodes and Leases are listed page by page; verdicts on reported facts are
// cached by a digest of the facts, for at most this many distinct facts (nodes of one pool report the same).
inline constexpr int k_list_page_size = 500;
inline constexpr std::size_t k_verdict_cache_entries = 256;
// A probe message judged from a report quotes what the node wrote: at most this much of it is kept.
inline constexpr std::size_t k_report_message_limit = 1024;
inline constexpr std::string_view k_agent_install_command = "kubectl meshlink agent install";
// kernel: how often `kernel status --watch` and `kernel upgrade --wait` read the rollout again.
inline constexpr std::chrono::seconds k_rollout_follow_interval{2};

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

// agent: the objects `agent install` writes (manifests/agent/); its namespace is where the agents' Leases
// are.
inline constexpr std::string_view k_agent_namespace = probe::defaults::k_agent_namespace;
inline constexpr std::string_view k_agent_daemonset = "meshlink-agent";
inline constexpr std::string_view k_field_manager = "kubectl-meshlink";
// agent install: a namespace still terminating after an uninstall is waited for this long, looked at this
// often.
inline constexpr std::chrono::seconds k_terminating_namespace_timeout{120};
inline constexpr std::chrono::seconds k_terminating_namespace_poll{1};
// agent install: a create or patch that lost a race with another writer (409) is read again and retried.
inline constexpr int k_install_conflict_attempts = 3;

// mesh (join, status, leave): what meshlink creates, the Cilium objects it reads and writes, and the formats
// Cilium's agents read (docs/cilium-clustermesh.md).
inline constexpr std::string_view k_mesh_journal = "meshlink-journal"; // ConfigMap, per cluster
inline constexpr std::string_view k_mesh_journal_key = "journal.json"; // its one data key
inline constexpr std::string_view k_mesh_journal_secrets = "meshlink-journal-secrets"; // undo material
inline constexpr std::string_view k_mesh_apiserver_service = "meshlink-apiserver";     // exposed API server
inline constexpr std::string_view k_managed_by_label = "app.kubernetes.io/managed-by";
inline constexpr std::string_view k_managed_by_meshlink = "meshlink";
inline constexpr std::string_view k_endpointslice_managed_by_label = "endpointslice.kubernetes.io/managed-by";
inline constexpr std::string_view k_endpointslice_managed_by = "meshlink.io";
inline constexpr std::string_view k_endpointslice_service_label = "kubernetes.io/service-name";
inline constexpr std::string_view k_kube_apiserver_component =
    "kube-apiserver"; // component=, tier=control-plane
inline constexpr std::string_view k_kube_apiserver_secure_port_flag = "--secure-port=";
inline constexpr int k_kube_apiserver_default_port = 6443;
inline constexpr std::array<std::string_view, 2> k_control_plane_node_labels = {
    "node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"};
// Helm ownership: a release is a Secret sh.helm.release.v1.<release>.v<revision> (labels owner=helm,
// name=<release>, status=deployed); the objects it renders carry these.
inline constexpr std::string_view k_helm_release_secret_prefix = "sh.helm.release.v1.";
inline constexpr std::string_view k_helm_release_selector = "owner=helm";
inline constexpr std::string_view k_helm_managed_by = "Helm";
inline constexpr std::string_view k_helm_release_name_annotation = "meta.helm.sh/release-name";
inline constexpr std::string_view k_helm_release_namespace_annotation = "meta.helm.sh/release-namespace";
inline constexpr std::string_view k_helm_chart_repo = "https://helm.cilium.io"; // `helm upgrade --repo`
inline constexpr std::string_view k_helm_chart = "cilium";
// Cilium's mesh objects.
inline constexpr std::string_view k_cilium_clustermesh_secret = "cilium-clustermesh";
inline constexpr std::string_view k_cilium_kvstoremesh_secret = "cilium-kvstoremesh";
inline constexpr std::string_view k_clustermesh_remote_cert = "clustermesh-apiserver-remote-cert";
inline constexpr std::string_view k_clustermesh_server_cert = "clustermesh-apiserver-server-cert";
inline constexpr std::string_view k_kvstoremesh_container = "kvstoremesh";
inline constexpr std::string_view k_cilium_agent_selector = "k8s-app=cilium";
inline constexpr std::string_view k_clustermesh_domain = "mesh.cilium.io";
inline constexpr std::string_view k_clustermesh_config_dir = "/var/lib/cilium/clustermesh";
inline constexpr int k_clustermesh_port = 2379;
inline constexpr int k_clustermesh_chart_node_port = 32379; // the chart's default: identical everywhere
inline constexpr std::string_view k_cilium_ca_key_key = "ca.key";
inline constexpr std::array<std::string_view, 4> k_cilium_dbg_status = {"cilium-dbg", "status", "-o", "json"};
// The Secret keys of the certificates certgen writes (kubernetes.io/tls Secrets).
inline constexpr std::string_view k_tls_cert_key = "tls.crt";
inline constexpr std::string_view k_tls_key_key = "tls.key";
inline constexpr std::string_view k_tls_ca_key = "ca.crt";
// The Helm values the cilium CLI sets when it enables the clustermesh-apiserver: certgen renews its
// certificates by a CronJob on this schedule.
inline constexpr std::string_view k_clustermesh_cert_renew_schedule = "0 0 1 */4 *";
// The release name Cilium's install docs use, looked for when cilium-config names none.
inline constexpr std::string_view k_helm_default_release = "cilium";
inline constexpr int k_node_port_max = 32767; // the API server's default --service-node-port-range
// The programs join runs, looked up on PATH ($KUBECTL_PATH overrides kubectl, as kubectl's own plugins do).
inline constexpr std::string_view k_kubectl = "kubectl";
inline constexpr std::string_view k_kubectl_path_env = "KUBECTL_PATH";
inline constexpr std::string_view k_cilium_cli = "cilium";
inline constexpr std::string_view k_helm = "helm";
inline constexpr std::chrono::minutes k_join_timeout{10};      // step 7, --timeout
inline constexpr std::chrono::seconds k_join_poll_interval{2}; // step 7 asks the agents this often
inline constexpr std::chrono::seconds k_certificate_fetch_timeout{5};
inline constexpr std::chrono::seconds k_tool_timeout{600}; // cilium / helm runs (helm waits for hooks)
inline constexpr std::chrono::seconds k_exec_timeout{30};  // one `kubectl exec ... cilium-dbg status`
// A step's check-apply-verify is retried on transient API errors, this many attempts, backing off from the
// first delay (doubling) up to the second.
inline constexpr int k_step_attempts = 8;
inline constexpr std::chrono::milliseconds k_step_retry_delay{200};
inline constexpr std::chrono::milliseconds k_step_retry_delay_max{3000};
// At most this many threads at once for work on every cluster or every agent pod: clusters are few, agent
// pods can be many.
inline constexpr std::size_t k_parallel_width = 8;

} // namespace meshlink::plugin::defaults
