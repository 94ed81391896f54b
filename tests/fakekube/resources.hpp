#pragma once
// The resources fakekube serves, as discovery lists them: group, version, plural, kind, scope, verbs,
// short names and subresources, plus the storage behaviours that differ between them.

#include <string>
#include <string_view>
#include <vector>

namespace meshlink::fakekube {

struct ResourceInfo {
    std::string group; // "" for core
    std::string version;
    std::string plural;
    std::string singular;
    std::string kind;
    bool namespaced = true;
    std::vector<std::string> short_names;
    std::vector<std::string> verbs;
    std::vector<std::string> categories;
    std::vector<std::string> subresources; // "status", "log", "eviction", "exec", "token"
    bool tracks_generation = false;        // metadata.generation bumps on spec changes
    bool returns_deleted_object = false;   // DELETE answers with the object instead of a Status
    bool creatable = true;                 // false for virtual resources (reviews) that are only POSTed

    [[nodiscard]] std::string group_version() const {
        return group.empty() ? version : group + "/" + version;
    }
    // "deployments.apps", or "configmaps" for the core group: how error messages name the resource.
    [[nodiscard]] std::string qualified() const { return group.empty() ? plural : plural + "." + group; }
    // Path prefix of the group version: "/api/v1" or "/apis/apps/v1".
    [[nodiscard]] std::string api_prefix() const {
        return group.empty() ? "/api/" + version : "/apis/" + group_version();
    }
    [[nodiscard]] bool has_subresource(std::string_view name) const;
    [[nodiscard]] bool has_status() const { return has_subresource("status"); }
};

const std::vector<ResourceInfo>& all_resources();

// Switches resources off for this process, like kube-apiserver's --runtime-config
// GROUP/VERSION/RESOURCE=false ("networking.k8s.io/v1/servicecidrs", "v1/events"): they leave discovery and
// the OpenAPI index, and find_resource/find_kind no longer know them. Call once, before serving. Returns the
// first name that is not a resource fakekube serves, or "".
std::string disable_resources(const std::vector<std::string>& names);
bool served(const ResourceInfo& info);

// Lookups; nullptr when fakekube does not serve it (or it is switched off).
const ResourceInfo* find_resource(std::string_view group, std::string_view version, std::string_view plural);
const ResourceInfo* find_kind(std::string_view api_version, std::string_view kind);

// Group versions in discovery order ("v1" first, then groups as kube-apiserver orders them).
std::vector<std::string> group_versions();

} // namespace meshlink::fakekube
