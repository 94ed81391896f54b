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
// `preflight --local` runs the node probe through this binary (plugin/preflight/local.cpp says why): the one
// next to the plugin's own executable (the Krew archive ships both), else the first on PATH.
inline constexpr std::string_view k_agent_binary = "meshlink-agent";
inline constexpr std::chrono::seconds k_local_probe_timeout{60};
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
// A journal write that conflicts with another writer is merged into what is stored and written again, at most
// this many times before the step fails (and its retries start over).
inline constexpr int k_journal_merge_attempts = 5;
// A journal entry that is not even an object is shown by at most this much of its JSON.
inline constexpr std::size_t k_rejected_entry_shown = 80;
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
// The most a Helm release may decompress to. A Cilium release (chart files, values, rendered manifest) is a
// few MiB, and its Secret holds at most 1 MiB of gzip; gzip can grow 1 MiB into 1 GiB, so a planted release
// would otherwise take that much memory. 64 MiB is over ten times any real release.
inline constexpr std::size_t k_max_helm_release_bytes = std::size_t{64} << 20U;
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

// demo (`kubectl meshlink demo deploy|verify|delete`): Cilium's rebel-base / x-wing global-service example as
// examples/kubernetes/clustermesh/ in cilium/cilium publishes it (manifests/demo/, docs in README "Demo"),
// and the Job that sends traffic across the clusters. The upstream names, labels and port are kept as they
// are.
inline constexpr std::string_view k_demo_namespace = "meshlink-demo";
inline constexpr std::string_view k_demo_service = "rebel-base";              // the global Service
inline constexpr std::string_view k_demo_server = "rebel-base";               // Deployment and its container
inline constexpr std::string_view k_demo_server_selector = "name=rebel-base"; // its Pods
inline constexpr std::string_view k_demo_client = "x-wing";                   // Deployment
inline constexpr std::string_view k_demo_client_selector = "name=x-wing";
inline constexpr std::string_view k_demo_client_container = "x-wing-container";
inline constexpr std::string_view k_demo_response_configmap = "rebel-base-response";
inline constexpr std::string_view k_demo_response_key = "message";
inline constexpr int k_demo_port = 80;
// Images: the example's own (docker.io nginx, Cilium's json-mock) and cilium-cli's curl image for the Job, so
// a registry mirrored for `cilium connectivity test` already has it. The Job runs plugin/demo/client.sh.
inline constexpr std::string_view k_demo_server_image = "docker.io/nginx:1.27.1";
inline constexpr std::string_view k_demo_client_image =
    "quay.io/cilium/json-mock:v1.3.8@sha256:5aad04835eda9025fe4561ad31be77fd55309af8158ca8663a72f6abb78c2603";
inline constexpr std::string_view k_probe_image =
    "quay.io/cilium/"
    "alpine-curl:v1.10.0@sha256:913e8c9f3d960dde03882defa0edd3a919d529c2eb167caa7f54194528bde364";
inline constexpr std::string_view k_probe_container = "probe";
inline constexpr std::int64_t k_probe_user = 65534; // nobody: the Job needs no privilege at all
// What Cilium reads on Services and Namespaces (cilium/cilium pkg/annotation; legacy aliases still honoured).
inline constexpr std::string_view k_global_service_annotation = "service.cilium.io/global";
inline constexpr std::string_view k_global_service_legacy_annotation = "io.cilium/global-service";
inline constexpr std::string_view k_shared_service_annotation = "service.cilium.io/shared";
inline constexpr std::string_view k_shared_service_legacy_annotation = "io.cilium/shared-service";
inline constexpr std::string_view k_service_affinity_annotation = "service.cilium.io/affinity";
inline constexpr std::string_view k_service_affinity_legacy_annotation = "io.cilium/service-affinity";
// Cilium 1.19+: only Services in global namespaces are shared; cilium-config decides for unannotated ones.
inline constexpr std::string_view k_global_namespace_annotation = "clustermesh.cilium.io/global";
inline constexpr std::string_view k_default_global_namespace_key = "clustermesh-default-global-namespace";
inline constexpr std::string_view k_global_namespace_since = "1.19";
inline constexpr std::string_view k_pod_security_enforce_label = "pod-security.kubernetes.io/enforce";
// The demo's own images run as root (nginx on port 80, json-mock), which `restricted` forbids; the Job's Pod
// meets `restricted` on its own.
inline constexpr std::string_view k_demo_pod_security = "baseline";
inline constexpr std::string_view k_role_label = "meshlink.io/role";
inline constexpr std::string_view k_role_demo_verify = "demo-verify";
inline constexpr std::string_view k_role_mesh_verify = "mesh-verify";
inline constexpr std::string_view k_node_label = "meshlink.io/node"; // mesh verify: the node a probe runs on
inline constexpr std::string_view k_verify_job_prefix = "meshlink-verify-";
inline constexpr std::string_view k_job_name_label = "job-name"; // set by the Job controller on its Pods
// The Job: N requests to the Service (each its own connection), M to each remote pod IP. P(no remote reply
// among 20 with 2 local and 2 remote backends) = 2^-20.
inline constexpr int k_demo_requests = 20;
inline constexpr int k_demo_pod_requests = 2;
inline constexpr std::chrono::seconds k_demo_connect_timeout{2}; // cilium-cli's curl defaults: 2 s, 10 s
inline constexpr std::chrono::seconds k_demo_request_timeout{5};
inline constexpr std::chrono::milliseconds k_demo_request_pause{200};
inline constexpr std::chrono::seconds k_verify_job_slack{
    120};                                                    // scheduling and image pull, beyond the requests
inline constexpr std::chrono::seconds k_verify_job_ttl{600}; // the TTL controller removes a forgotten Job
inline constexpr std::size_t k_probe_log_limit = 512U * 1024U;  // limitBytes when reading a Job's log
inline constexpr std::chrono::minutes k_demo_deploy_timeout{5}; // cilium-cli's LongTimeout
inline constexpr std::chrono::seconds k_demo_backend_wait{60};  // agents learning the remote backends
inline constexpr std::chrono::minutes k_demo_delete_timeout{2};
inline constexpr std::chrono::milliseconds k_demo_poll_first{100}; // polls double from here ...
inline constexpr std::chrono::seconds k_demo_poll_max{2};          // ... up to this
inline constexpr std::array<std::string_view, 5> k_cilium_dbg_service_list = {"cilium-dbg", "service", "list",
                                                                              "-o", "json"};
// Where the last verify results live: one ConfigMap in the Cilium namespace, owned by the join journal (so
// the garbage collector removes it with the journal at the last `leave`); `demo delete` removes the demo's
// key.
inline constexpr std::string_view k_verify_result_configmap = "meshlink-verify";
inline constexpr std::string_view k_verify_result_mesh_key = "mesh.json";
inline constexpr std::string_view k_verify_result_demo_key = "demo.json";
// Ports named in datapath hints (Cilium's firewall requirements).
inline constexpr int k_vxlan_port = 8472;
inline constexpr int k_geneve_port = 6081;
inline constexpr int k_wireguard_port = 51871;
inline constexpr int k_health_port = 4240;

// mesh verify (`kubectl meshlink verify`): a TCP connection from every node to each peer's clustermesh and
// API server endpoints, from a short-lived host-network Job per node (plugin/verify/tcp_probe.sh).
inline constexpr int k_tcp_probe_attempts = 3;
inline constexpr std::chrono::seconds k_tcp_probe_timeout{3};
inline constexpr std::string_view k_clustermesh_apiserver_selector = "k8s-app=clustermesh-apiserver";

} // namespace meshlink::plugin::defaults
