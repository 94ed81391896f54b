#pragma once
// The calls `meshlink-agent kernel run` makes in the cluster, as a narrow interface: one implementation on
// kube::Client, an in-memory one in the unit tests. Every name comes from the rollout's documents
// (probe/kernel_rollout.hpp) and node-agent/defaults.hpp; the agent only ever writes its own Node, the
// Lease, and Evictions of the Pods on its own Node.

#include "kube/client.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::agent::rollout {

class RolloutApi {
public:
    virtual ~RolloutApi() = default;
    // The plan ConfigMap, or nullopt when there is none (no rollout).
    virtual util::Result<std::optional<nlohmann::json>> get_plan() = 0;
    // The lock Lease, or nullopt.
    virtual util::Result<std::optional<nlohmann::json>> get_lease() = 0;
    // PUT of the Lease as given (its metadata.resourceVersion makes it conditional: ErrorKind::conflict on a
    // 409). Returns the stored Lease.
    virtual util::Result<nlohmann::json> update_lease(const nlohmann::json& lease) = 0;
    virtual util::Result<nlohmann::json> get_node(std::string_view node) = 0;
    // A JSON merge patch of the Node; a metadata.resourceVersion in it makes it conditional.
    virtual util::Result<void> patch_node(std::string_view node, const nlohmann::json& merge_patch) = 0;
    // Every Pod bound to the node (all namespaces).
    virtual util::Result<std::vector<nlohmann::json>> pods_on_node(std::string_view node) = 0;
    // The node's Cilium agent Pods (kube-system, k8s-app=cilium).
    virtual util::Result<std::vector<nlohmann::json>> cilium_pods(std::string_view node) = 0;
    // POST of a policy/v1 Eviction. Errors keep the server's answer: ErrorKind::too_many_requests for a 429
    // (a disruption budget), not_found when the Pod is gone, http_status for anything else.
    virtual util::Result<void> evict(const std::string& namespace_name, const std::string& pod) = 0;
};

std::unique_ptr<RolloutApi> make_rollout_api(kube::Client& client);

} // namespace meshlink::agent::rollout
