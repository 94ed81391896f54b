#pragma once
// The kinds the embedded manifests (the agent's, the demo's, the kernel rollout's workload) and the objects
// `agent install`, `demo deploy` and the kernel rollout (plan ConfigMap, lock Lease) write may have, with
// their REST coordinates. Header-only: the build-time manifest embedder (embed_manifests.cpp) refuses a
// manifest whose kind is not here, so apply_objects can never meet an object it does not know how to write.

#include <array>
#include <optional>
#include <string_view>

namespace meshlink::plugin::agent {

struct ResourceKind {
    std::string_view api_version; // "apps/v1"
    std::string_view kind;        // "DaemonSet"
    std::string_view plural;      // "daemonsets"
    bool namespaced = false;
    // Served only by newer API servers: `agent install` asks discovery first and skips the object, saying
    // so, where the resource is not served (install.hpp, split_served).
    bool optional = false;
};

inline constexpr std::array<ResourceKind, 14> k_resource_kinds{{
    {"v1", "Namespace", "namespaces", false},
    {"v1", "ConfigMap", "configmaps", true},
    {"coordination.k8s.io/v1", "Lease", "leases", true},
    {"v1", "ServiceAccount", "serviceaccounts", true},
    {"rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false},
    {"rbac.authorization.k8s.io/v1", "Role", "roles", true},
    {"rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true},
    {"apps/v1", "DaemonSet", "daemonsets", true},
    {"v1", "Secret", "secrets", true},
    {"v1", "Service", "services", true},
    {"apps/v1", "Deployment", "deployments", true},
    // GA in Kubernetes 1.30 (README "The DaemonSet").
    {"admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", false,
     true},
    {"admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding",
     "validatingadmissionpolicybindings", false, true},
}};

inline std::optional<ResourceKind> find_resource_kind(std::string_view api_version, std::string_view kind) {
    for (const auto& entry : k_resource_kinds) {
        if (entry.api_version == api_version && entry.kind == kind) {
            return entry;
        }
    }
    return std::nullopt;
}

} // namespace meshlink::plugin::agent
