#pragma once
// `kubectl meshlink kubeconfig list`: every context with what it connects to and how.

#include "kube/kubeconfig.hpp"
#include "plugin/kubeconfig/classify.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::kubeconfig {

struct CertificateStatus {
    std::optional<CertificateExpiry> expiry; // set when the certificate could be read
    std::string error;                       // why it could not
};

struct ServerCheck {
    bool reachable = false; // the server answered over TLS (any HTTP status)
    std::string detail;     // "v1.32.1", "401 Unauthorized", or the connection error
};

struct ContextSummary {
    std::string name;
    bool current = false;
    std::string cluster;
    std::string user;
    std::string namespace_name;
    std::string server;
    ServerClass server_class = ServerClass::invalid;
    AuthSummary auth;
    std::optional<CertificateStatus> client_certificate;    // absent without a client certificate
    std::optional<CertificateStatus> certificate_authority; // absent when the system trust store is used
    std::string problem;                                    // e.g. `cluster "x" is not defined`
    std::optional<ServerCheck> check;                       // set by --check
};

// One context of the merged view, classified at `now`; nullopt when there is no context by that name.
std::optional<ContextSummary> summarize_context(const kube::Kubeconfig& config, const std::string& name,
                                                std::chrono::system_clock::time_point now);

// Every context of the merged view, by name, classified at `now`.
std::vector<ContextSummary> list_contexts(const kube::Kubeconfig& config,
                                          std::chrono::system_clock::time_point now);

// The list as JSON objects (stable keys, camelCase, times in RFC 3339 UTC).
nlohmann::json to_json(const std::vector<ContextSummary>& contexts);

} // namespace meshlink::plugin::kubeconfig
