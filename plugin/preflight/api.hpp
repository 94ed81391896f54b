#pragma once
// The reads preflight makes in one cluster, and nothing else: no call here can change the cluster.
// (A SelfSubjectAccessReview is a question, not a write: the server stores nothing.) The real
// implementation is on kube::Client (kube_api.hpp); unit tests use an in-memory one.

#include "kube/client.hpp"
#include "plugin/defaults.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::plugin::preflight {

struct AccessDecision {
    bool allowed = false;
    std::string reason; // the authorizer's reason or evaluation error, when it gave one
};

class PreflightApi {
public:
    virtual ~PreflightApi() = default;

    // GET /version.
    virtual util::Result<kube::ServerVersion> server_version() = 0;

    // One namespaced object; nullopt when it does not exist (404).
    virtual util::Result<std::optional<nlohmann::json>> config_map(std::string_view ns,
                                                                   std::string_view name) = 0;
    virtual util::Result<std::optional<nlohmann::json>> daemon_set(std::string_view ns,
                                                                   std::string_view name) = 0;
    virtual util::Result<std::optional<nlohmann::json>> service(std::string_view ns,
                                                                std::string_view name) = 0;

    // One key of a Secret, decoded; nullopt when the Secret or the key does not exist. The rest of the
    // Secret never leaves the implementation.
    virtual util::Result<std::optional<std::string>> secret_value(std::string_view ns, std::string_view name,
                                                                  std::string_view key) = 0;

    // Pods of `ns` matching `label_selector`.
    virtual util::Result<std::vector<nlohmann::json>> pods(std::string_view ns,
                                                           std::string_view label_selector) = 0;

    // networking.k8s.io/v1 ServiceCIDR objects; nullopt when the server does not serve that API.
    virtual util::Result<std::optional<std::vector<nlohmann::json>>> service_cidrs() = 0;

    // Every Node, page by page. With `metadata_only` the items carry only apiVersion, kind and metadata
    // (labels and annotations included): what the node reports need, at a fraction of the bytes.
    virtual util::Result<void> each_node(bool metadata_only,
                                         const std::function<void(const nlohmann::json& node)>& visit) = 0;

    // Every coordination.k8s.io/v1 Lease in the agents' namespace, page by page: the agents' liveness
    // (probe/node_report.hpp). An error (forbidden, not served) is not fatal: reports are then judged by
    // their observedAt.
    virtual util::Result<void> each_lease(const std::function<void(const nlohmann::json& lease)>& visit) = 0;

    // SelfSubjectAccessReview: may the caller do `rule`?
    virtual util::Result<AccessDecision> review_access(const defaults::AccessRule& rule) = 0;
};

} // namespace meshlink::plugin::preflight
