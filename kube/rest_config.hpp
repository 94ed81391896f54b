#pragma once
// What a client needs to talk to one API server: the kubeconfig context chosen by client-go's rules plus
// the command-line overrides, or the in-cluster service account. Files named by the kubeconfig (CA,
// client certificate and key) are read here, once, so a broken path fails before any request.

#include "kube/kubeconfig.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::kube {

// kubectl's --context --cluster --user -n --request-timeout (client-go ConfigOverrides). Unset = not given.
struct ConfigOverrides {
    std::optional<std::string> context;
    std::optional<std::string> cluster;        // replaces the context's cluster
    std::optional<std::string> user;           // replaces the context's user
    std::optional<std::string> namespace_name; // replaces the context's namespace
    // Per request attempt, already parsed by the caller (kubectl's --request-timeout); zero = none.
    std::optional<std::chrono::nanoseconds> request_timeout;
};

// The most one response body may hold once decoded: twice the largest list a 5,000-node cluster (Kubernetes'
// tested maximum) answers without paging. A Node stays under ~50 KB (kubelet reports at most 50 images,
// --node-status-max-images), so such a list is at most ~250 MB; list() pages 500 items at a time anyway.
// Past this, the request fails instead of growing memory without bound.
inline constexpr std::size_t k_max_response_bytes = std::size_t{512} << 20U;

// The resolved connection settings. PEM material is held in memory and never written to disk.
struct RestConfig {
    std::string context_name; // "" for in-cluster or --cluster/--user without a context
    std::string cluster_name;
    std::string user_name;
    bool in_cluster = false;

    std::string server; // "https://host:port" plus an optional path prefix, no trailing '/'
    std::string namespace_name = "default"; // -n, else the context's, else "default"
    bool namespace_overridden = false;      // true when -n was given
    std::chrono::nanoseconds timeout{0};    // per request attempt; 0 = none

    // TLS
    bool insecure_skip_tls_verify = false;
    std::string tls_server_name; // SNI and certificate verification name; "" = the server's host
    std::string ca_pem;          // "" = the system trust store
    std::string ca_origin;       // the CA file, or "certificate-authority-data", for messages
    std::string proxy_url;       // http://, https:// or socks5:// ; "" = the environment's proxy settings
    bool disable_compression = false;

    // Authentication. A token or token file and basic auth exclude each other; exec is used only when
    // none of token, basic auth or client certificate is set (client-go's precedence).
    std::string client_certificate_pem;
    std::string client_key_pem;
    std::string bearer_token;
    std::filesystem::path bearer_token_file; // re-read when it changes; wins over bearer_token when readable
    std::string username;
    std::string password;
    std::string impersonate_user;
    std::vector<std::string> impersonate_groups;
    std::optional<ExecConfig> exec;
    nlohmann::json exec_cluster_config; // the cluster's client.authentication.k8s.io/exec extension, or null

    std::string user_agent = "meshlink";
    std::size_t max_response_bytes = k_max_response_bytes; // a larger body fails the request

    // For messages: `context "x"`, `cluster "c"` or `in-cluster configuration`.
    [[nodiscard]] std::string describe() const;
};

// Applies `overrides` to a merged kubeconfig the way client-go's DirectClientConfig does: --context (else
// current-context) picks the context; --cluster/--user replace the context's; -n replaces the context's
// namespace (default "default"); --request-timeout sets the timeout. Errors name what is missing and list
// what exists, e.g. `context "x" not found in kubeconfig (contexts: a, b)`.
util::Result<RestConfig> resolve_rest_config(const Kubeconfig& kubeconfig, const ConfigOverrides& overrides);

// Where the in-cluster configuration comes from; injectable so tests can use a fixture directory.
struct InClusterEnvironment {
    std::filesystem::path service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
    std::optional<std::string> service_host;  // $KUBERNETES_SERVICE_HOST
    std::optional<std::string> service_port;  // $KUBERNETES_SERVICE_PORT
    std::optional<std::string> pod_namespace; // $POD_NAMESPACE, which wins over the namespace file

    static InClusterEnvironment from_process();
    // True when host, port and the token file are all present (client-go's "possible").
    [[nodiscard]] bool possible() const;
};

// The service account configuration a pod sees: server from KUBERNETES_SERVICE_HOST/PORT, the token file
// (re-read when kubelet rotates it), ca.crt and the namespace file. `overrides` may set namespace and
// timeout only.
util::Result<RestConfig> in_cluster_config(const InClusterEnvironment& environment,
                                           const ConfigOverrides& overrides = {});

// Loads the kubeconfig by `rules` and resolves it. Like client-go's deferred loading, falls back to the
// in-cluster configuration when no kubeconfig defines anything, no context or cluster is asked for, and
// `in_cluster` is possible.
util::Result<RestConfig>
load_rest_config(const LoadingRules& rules, const ConfigOverrides& overrides,
                 const InClusterEnvironment& in_cluster = InClusterEnvironment::from_process());

// The same on a kubeconfig already loaded by `rules` (a caller that reads it once for several clients).
util::Result<RestConfig>
rest_config_for(const Kubeconfig& kubeconfig, const LoadingRules& rules, const ConfigOverrides& overrides,
                const InClusterEnvironment& in_cluster = InClusterEnvironment::from_process());

} // namespace meshlink::kube
