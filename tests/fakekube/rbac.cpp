#include "tests/fakekube/rbac.hpp"

#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/status.hpp"
#include "tests/fakekube/store.hpp"

#include <algorithm>

namespace meshlink::fakekube {
namespace {

const ResourceInfo& rbac_resource(const char* plural) {
    return *find_resource("rbac.authorization.k8s.io", "v1", plural);
}

bool has(const json& list, const std::string& value) {
    if (!list.is_array()) {
        return false;
    }
    return std::any_of(list.begin(), list.end(),
                       [&](const json& item) { return item == "*" || item == value; });
}

bool rule_allows(const json& rule, const Attributes& what) {
    if (!has(rule.value("verbs", json::array()), what.verb)) {
        return false;
    }
    if (!what.resource_request) {
        for (const auto& url : rule.value("nonResourceURLs", json::array())) {
            const std::string pattern = url.get<std::string>();
            if (pattern == "*" || pattern == what.path ||
                (pattern.ends_with("*") && what.path.starts_with(pattern.substr(0, pattern.size() - 1)))) {
                return true;
            }
        }
        return false;
    }
    if (!has(rule.value("apiGroups", json::array()), what.group)) {
        return false;
    }
    const std::string combined =
        what.subresource.empty() ? what.resource : what.resource + "/" + what.subresource;
    bool resource_ok = false;
    for (const auto& item : rule.value("resources", json::array())) {
        const std::string r = item.get<std::string>();
        if (r == "*" || r == combined ||
            (!what.subresource.empty() && (r == "*/" + what.subresource || r == what.resource + "/*"))) {
            resource_ok = true;
        }
    }
    if (!resource_ok) {
        return false;
    }
    const json names = rule.value("resourceNames", json::array());
    return names.empty() || (!what.name.empty() && has(names, what.name));
}

bool subject_matches(const json& subject, const Identity& who, const std::string& binding_ns) {
    const std::string kind = subject.value("kind", "");
    const std::string name = subject.value("name", "");
    if (kind == "User") {
        return name == who.user;
    }
    if (kind == "Group") {
        return std::find(who.groups.begin(), who.groups.end(), name) != who.groups.end();
    }
    if (kind == "ServiceAccount") {
        const std::string ns = subject.value("namespace", binding_ns);
        return who.user == "system:serviceaccount:" + ns + ":" + name;
    }
    return false;
}

// Rules of the role a binding points at ("" namespace for ClusterRoles).
json role_rules(const Store& store, const json& role_ref, const std::string& ns) {
    const std::string kind = role_ref.value("kind", "");
    const std::string name = role_ref.value("name", "");
    const json* role = kind == "ClusterRole" ? store.get(rbac_resource("clusterroles"), "", name)
                                             : store.get(rbac_resource("roles"), ns, name);
    return role != nullptr ? role->value("rules", json::array()) : json::array();
}

bool binding_allows(const Store& store, const json& binding, const Identity& who, const Attributes& what,
                    const std::string& ns, std::string& reason) {
    const json subjects = binding.value("subjects", json::array());
    for (const auto& subject : subjects) {
        if (!subject_matches(subject, who, ns)) {
            continue;
        }
        for (const auto& rule : role_rules(store, binding.value("roleRef", json::object()), ns)) {
            if (rule_allows(rule, what)) {
                const json meta = binding.value("metadata", json::object());
                reason = "RBAC: allowed by " +
                         std::string(ns.empty() ? "ClusterRoleBinding " : "RoleBinding ") +
                         go_quote(meta.value("name", "")) + " of " + binding["roleRef"].value("kind", "") +
                         " " + go_quote(binding["roleRef"].value("name", "")) + " to " +
                         subject.value("kind", "") + " " + go_quote(subject.value("name", ""));
                return true;
            }
        }
    }
    return false;
}

bool is_discovery_path(const std::string& path) {
    static const char* k_open[] = {"/api", "/apis", "/version", "/openapi", "/healthz", "/livez", "/readyz"};
    return std::any_of(std::begin(k_open), std::end(k_open), [&](const char* prefix) {
        return path == prefix || path.starts_with(std::string(prefix) + "/");
    });
}

} // namespace

bool rbac_enabled_by_config(const Store& store) {
    const json* config =
        store.get(*find_resource("", "v1", "configmaps"), "kube-system", "fakekube-authorization");
    return config != nullptr && config->value("data", json::object()).value("mode", "") == "RBAC";
}

Decision authorize(const Store& store, bool rbac, const Identity& who, const Attributes& what) {
    if (!rbac) {
        return {true, "fakekube: allow-all authorization"};
    }
    if (std::find(who.groups.begin(), who.groups.end(), "system:masters") != who.groups.end()) {
        return {true, "RBAC: allowed because the user is in group \"system:masters\""};
    }
    if (!what.resource_request && is_discovery_path(what.path)) {
        return {true, "RBAC: allowed by ClusterRoleBinding \"system:discovery\""};
    }
    if (what.resource_request && what.group == "authorization.k8s.io" &&
        what.resource == "selfsubjectaccessreviews") {
        return {true, "RBAC: allowed by ClusterRoleBinding \"system:basic-user\""};
    }
    std::string reason;
    for (const json* binding : store.list(rbac_resource("clusterrolebindings"), "")) {
        if (binding_allows(store, *binding, who, what, "", reason)) {
            return {true, reason};
        }
    }
    if (what.resource_request && !what.ns.empty()) {
        for (const json* binding : store.list(rbac_resource("rolebindings"), what.ns)) {
            if (binding_allows(store, *binding, who, what, what.ns, reason)) {
                return {true, reason};
            }
        }
    }
    return {false, ""};
}

std::string forbidden_message(const Identity& who, const Attributes& what,
                              const std::string& qualified_resource) {
    if (!what.resource_request) {
        return "forbidden: User " + go_quote(who.user) + " cannot " + what.verb + " path " +
               go_quote(what.path);
    }
    std::string subject = qualified_resource;
    if (!what.name.empty()) {
        subject += " " + go_quote(what.name);
    }
    const std::string resource =
        what.subresource.empty() ? what.resource : what.resource + "/" + what.subresource;
    std::string message = subject + " is forbidden: User " + go_quote(who.user) + " cannot " + what.verb +
                          " resource " + go_quote(resource) + " in API group " + go_quote(what.group);
    message += what.ns.empty() ? " at the cluster scope" : " in the namespace " + go_quote(what.ns);
    return message;
}

} // namespace meshlink::fakekube
