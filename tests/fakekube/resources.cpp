#include "tests/fakekube/resources.hpp"

#include <algorithm>
#include <set>

namespace meshlink::fakekube {
namespace {

const std::vector<std::string> k_crud = {"create", "delete", "deletecollection", "get",
                                         "list",   "patch",  "update",           "watch"};

ResourceInfo make(std::string group, std::string plural, std::string singular, std::string kind,
                  bool namespaced, std::vector<std::string> short_names,
                  std::vector<std::string> subresources = {}) {
    ResourceInfo info;
    info.group = std::move(group);
    info.version = "v1";
    info.plural = std::move(plural);
    info.singular = std::move(singular);
    info.kind = std::move(kind);
    info.namespaced = namespaced;
    info.short_names = std::move(short_names);
    info.verbs = k_crud;
    info.subresources = std::move(subresources);
    return info;
}

std::vector<ResourceInfo> build() {
    std::vector<ResourceInfo> out;
    auto add = [&out](ResourceInfo info) -> ResourceInfo& { return out.emplace_back(std::move(info)); };

    auto& namespaces =
        add(make("", "namespaces", "namespace", "Namespace", false, {"ns"}, {"status", "finalize"}));
    namespaces.verbs = {"create", "delete", "get", "list", "patch", "update", "watch"};
    namespaces.returns_deleted_object = true;
    add(make("", "nodes", "node", "Node", false, {"no"}, {"status"}));
    auto& pods = add(make("", "pods", "pod", "Pod", true, {"po"}, {"status", "log", "eviction", "exec"}));
    pods.categories = {"all"};
    pods.returns_deleted_object = true;
    auto& services = add(make("", "services", "service", "Service", true, {"svc"}, {"status"}));
    services.categories = {"all"};
    services.returns_deleted_object = true;
    add(make("", "endpoints", "endpoints", "Endpoints", true, {"ep"}));
    add(make("", "configmaps", "configmap", "ConfigMap", true, {"cm"}));
    add(make("", "secrets", "secret", "Secret", true, {}));
    add(make("", "serviceaccounts", "serviceaccount", "ServiceAccount", true, {"sa"}, {"token"}));
    add(make("", "events", "event", "Event", true, {"ev"}));

    auto& deployments =
        add(make("apps", "deployments", "deployment", "Deployment", true, {"deploy"}, {"status"}));
    deployments.categories = {"all"};
    deployments.tracks_generation = true;
    auto& daemonsets = add(make("apps", "daemonsets", "daemonset", "DaemonSet", true, {"ds"}, {"status"}));
    daemonsets.categories = {"all"};
    daemonsets.tracks_generation = true;
    auto& replicasets =
        add(make("apps", "replicasets", "replicaset", "ReplicaSet", true, {"rs"}, {"status"}));
    replicasets.categories = {"all"};
    replicasets.tracks_generation = true;
    auto& jobs = add(make("batch", "jobs", "job", "Job", true, {}, {"status"}));
    jobs.categories = {"all"};
    jobs.tracks_generation = true;
    jobs.returns_deleted_object = true;

    add(make("rbac.authorization.k8s.io", "roles", "role", "Role", true, {}));
    add(make("rbac.authorization.k8s.io", "rolebindings", "rolebinding", "RoleBinding", true, {}));
    add(make("rbac.authorization.k8s.io", "clusterroles", "clusterrole", "ClusterRole", false, {}));
    add(make("rbac.authorization.k8s.io", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding",
             false, {}));
    add(make("coordination.k8s.io", "leases", "lease", "Lease", true, {}));
    add(make("discovery.k8s.io", "endpointslices", "endpointslice", "EndpointSlice", true, {}));
    auto& pdbs = add(make("policy", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget",
                          true, {"pdb"}, {"status"}));
    pdbs.tracks_generation = true;
    const std::string admission = "admissionregistration.k8s.io";
    auto& policies = add(make(admission, "validatingadmissionpolicies", "validatingadmissionpolicy",
                              "ValidatingAdmissionPolicy", false, {}, {"status"}));
    policies.categories = {"api-extensions"};
    policies.tracks_generation = true;
    auto& bindings =
        add(make(admission, "validatingadmissionpolicybindings", "validatingadmissionpolicybinding",
                 "ValidatingAdmissionPolicyBinding", false, {}));
    bindings.categories = {"api-extensions"};
    auto& validating =
        add(make(admission, "validatingwebhookconfigurations", "validatingwebhookconfiguration",
                 "ValidatingWebhookConfiguration", false, {}));
    validating.categories = {"api-extensions"};
    auto& mutating = add(make(admission, "mutatingwebhookconfigurations", "mutatingwebhookconfiguration",
                              "MutatingWebhookConfiguration", false, {}));
    mutating.categories = {"api-extensions"};
    add(make("networking.k8s.io", "servicecidrs", "servicecidr", "ServiceCIDR", false, {}, {"status"}));
    auto& ssar = add(make("authorization.k8s.io", "selfsubjectaccessreviews", "selfsubjectaccessreview",
                          "SelfSubjectAccessReview", false, {}));
    ssar.verbs = {"create"};
    ssar.creatable = false;
    return out;
}

std::set<std::string>& disabled() {
    static std::set<std::string> k_disabled;
    return k_disabled;
}

} // namespace

std::string disable_resources(const std::vector<std::string>& names) {
    for (const auto& name : names) {
        const bool known =
            std::any_of(all_resources().begin(), all_resources().end(), [&](const ResourceInfo& info) {
                return info.group_version() + "/" + info.plural == name;
            });
        if (!known) {
            return name;
        }
        disabled().insert(name);
    }
    return "";
}

bool served(const ResourceInfo& info) {
    return !disabled().contains(info.group_version() + "/" + info.plural);
}

bool ResourceInfo::has_subresource(std::string_view name) const {
    return std::find(subresources.begin(), subresources.end(), name) != subresources.end();
}

const std::vector<ResourceInfo>& all_resources() {
    static const std::vector<ResourceInfo> k_resources = build();
    return k_resources;
}

const ResourceInfo* find_resource(std::string_view group, std::string_view version, std::string_view plural) {
    for (const auto& info : all_resources()) {
        if (info.group == group && info.version == version && info.plural == plural) {
            return served(info) ? &info : nullptr;
        }
    }
    return nullptr;
}

const ResourceInfo* find_kind(std::string_view api_version, std::string_view kind) {
    for (const auto& info : all_resources()) {
        if (info.group_version() == api_version && info.kind == kind) {
            return served(info) ? &info : nullptr;
        }
    }
    return nullptr;
}

std::vector<std::string> group_versions() {
    std::vector<std::string> out;
    for (const auto& info : all_resources()) {
        if (served(info) && std::find(out.begin(), out.end(), info.group_version()) == out.end()) {
            out.push_back(info.group_version());
        }
    }
    return out;
}

} // namespace meshlink::fakekube
