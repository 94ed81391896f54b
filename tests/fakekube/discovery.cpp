#include "tests/fakekube/discovery.hpp"

#include "tests/fakekube/resources.hpp"

#include <functional>

namespace meshlink::fakekube::discovery {
namespace {

json group_version_entry(const std::string& group_version, const std::string& version) {
    return {{"groupVersion", group_version}, {"version", version}};
}

json api_group(const std::string& group) {
    json versions = json::array();
    for (const auto& gv : group_versions()) {
        if (gv.rfind(group + "/", 0) == 0) {
            versions.push_back(group_version_entry(gv, gv.substr(group.size() + 1)));
        }
    }
    return {{"name", group}, {"versions", versions}, {"preferredVersion", versions.at(0)}};
}

json subresource_entry(const ResourceInfo& info, const std::string& sub) {
    json entry = {{"name", info.plural + "/" + sub}, {"singularName", ""}, {"namespaced", info.namespaced}};
    if (sub == "status") {
        entry["kind"] = info.kind;
        entry["verbs"] = {"get", "patch", "update"};
    } else if (sub == "finalize") {
        entry["kind"] = info.kind;
        entry["verbs"] = {"update"};
    } else if (sub == "log") {
        entry["kind"] = "Pod";
        entry["verbs"] = {"get"};
    } else if (sub == "eviction") {
        entry["group"] = "policy";
        entry["version"] = "v1";
        entry["kind"] = "Eviction";
        entry["verbs"] = {"create"};
    } else if (sub == "token") {
        entry["group"] = "authentication.k8s.io";
        entry["version"] = "v1";
        entry["kind"] = "TokenRequest";
        entry["verbs"] = {"create"};
    } else if (sub == "exec") {
        entry["kind"] = "PodExecOptions";
        entry["verbs"] = {"create", "get"};
    }
    return entry;
}

json resource_list(const std::string& group, const std::string& version) {
    json resources = json::array();
    for (const auto& info : all_resources()) {
        if (info.group != group || info.version != version || !served(info)) {
            continue;
        }
        json entry = {{"name", info.plural},
                      {"singularName", info.singular},
                      {"namespaced", info.namespaced},
                      {"kind", info.kind},
                      {"verbs", info.verbs}};
        if (!info.short_names.empty()) {
            entry["shortNames"] = info.short_names;
        }
        if (!info.categories.empty()) {
            entry["categories"] = info.categories;
        }
        resources.push_back(entry);
        for (const auto& sub : info.subresources) {
            resources.push_back(subresource_entry(info, sub));
        }
    }
    if (resources.empty()) {
        return nullptr;
    }
    return {{"kind", "APIResourceList"},
            {"apiVersion", "v1"},
            {"groupVersion", group.empty() ? version : group + "/" + version},
            {"resources", resources}};
}

json gvk(const ResourceInfo& info) {
    return {{"group", info.group}, {"version", info.version}, {"kind", info.kind}};
}

json query_parameter(const char* name) {
    return {{"name", name}, {"in", "query"}, {"schema", {{"type", "string"}, {"uniqueItems", true}}}};
}

json operation(const ResourceInfo& info, const char* action, bool writes, bool patch) {
    json op = {{"operationId", std::string(action) + info.kind},
               {"x-kubernetes-action", action},
               {"x-kubernetes-group-version-kind", gvk(info)},
               {"responses", {{"200", {{"description", "OK"}}}}}};
    if (writes) {
        op["parameters"] = {query_parameter("dryRun"), query_parameter("fieldManager"),
                            query_parameter("fieldValidation")};
        // Strategic merge patch is deliberately not advertised: kubectl then computes apply patches from
        // its compiled-in types instead of needing full component schemas here.
        const json any_object = {{"schema", {{"type", "object"}}}};
        json content = json::object();
        if (patch) {
            content["application/json-patch+json"] = any_object;
            content["application/merge-patch+json"] = any_object;
        } else {
            content["application/json"] = any_object;
        }
        op["requestBody"] = {{"content", content}};
    }
    return op;
}

json gv_document(const std::string& group, const std::string& version) {
    json paths = json::object();
    for (const auto& info : all_resources()) {
        if (info.group != group || info.version != version || !served(info)) {
            continue;
        }
        const std::string base =
            info.api_prefix() + (info.namespaced ? "/namespaces/{namespace}/" : "/") + info.plural;
        json collection = {{"post", operation(info, "post", true, false)}};
        if (info.creatable) {
            collection["get"] = operation(info, "list", false, false);
            paths[base + "/{name}"] = {{"get", operation(info, "get", false, false)},
                                       {"put", operation(info, "put", true, false)},
                                       {"patch", operation(info, "patch", true, true)},
                                       {"delete", operation(info, "delete", false, false)}};
        }
        paths[base] = collection;
    }
    return {{"openapi", "3.0.0"},
            {"info", {{"title", "Kubernetes"}, {"version", "v1.33.0"}}},
            {"paths", paths},
            {"components", {{"schemas", json::object()}}}};
}

std::string openapi_key(const std::string& gv) {
    return gv.find('/') == std::string::npos ? "api/" + gv : "apis/" + gv;
}

} // namespace

json version_info() {
    return {{"major", "1"},
            {"minor", "33"},
            {"gitVersion", "v1.33.0"},
            {"gitCommit", "fakekube"},
            {"gitTreeState", "clean"},
            {"buildDate", "2024-12-11T00:00:00Z"},
            {"goVersion", "go1.23.3"},
            {"compiler", "gc"},
            {"platform", "linux/amd64"}};
}

std::optional<json> discovery_document(const std::string& path, const std::string& server_address) {
    if (path == "/api") {
        return json{{"kind", "APIVersions"},
                    {"versions", {"v1"}},
                    {"serverAddressByClientCIDRs",
                     {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
    }
    if (path == "/api/v1") {
        return resource_list("", "v1");
    }
    if (path == "/apis") {
        json groups = json::array();
        for (const auto& gv : group_versions()) {
            auto slash = gv.find('/');
            if (slash == std::string::npos) {
                continue;
            }
            const std::string group = gv.substr(0, slash);
            if (groups.empty() || groups.back()["name"] != group) {
                groups.push_back(api_group(group));
            }
        }
        return json{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
    }
    if (path.rfind("/apis/", 0) == 0) {
        std::string rest = path.substr(6);
        auto slash = rest.find('/');
        if (slash == std::string::npos) {
            for (const auto& gv : group_versions()) {
                if (gv.rfind(rest + "/", 0) == 0) {
                    json group = api_group(rest);
                    group["kind"] = "APIGroup";
                    group["apiVersion"] = "v1";
                    return group;
                }
            }
            return std::nullopt;
        }
        if (rest.find('/', slash + 1) == std::string::npos) {
            json list = resource_list(rest.substr(0, slash), rest.substr(slash + 1));
            if (!list.is_null()) {
                return list;
            }
        }
    }
    return std::nullopt;
}

std::optional<json> openapi_document(const std::string& path) {
    static const std::string k_prefix = "/openapi/v3";
    if (path == k_prefix || path == k_prefix + "/") {
        json paths = json::object();
        for (const auto& gv : group_versions()) {
            const std::string key = openapi_key(gv);
            const std::string hash = std::to_string(std::hash<std::string>{}(
                gv_document(gv.find('/') == std::string::npos ? "" : gv.substr(0, gv.find('/')),
                            gv.substr(gv.find('/') == std::string::npos ? 0 : gv.find('/') + 1))
                    .dump()));
            paths[key] = {{"serverRelativeURL", k_prefix + "/" + key + "?hash=" + hash}};
        }
        return json{{"paths", paths}};
    }
    if (path.rfind(k_prefix + "/", 0) != 0) {
        return std::nullopt;
    }
    const std::string key = path.substr(k_prefix.size() + 1);
    for (const auto& gv : group_versions()) {
        if (openapi_key(gv) == key) {
            auto slash = gv.find('/');
            return slash == std::string::npos ? gv_document("", gv)
                                              : gv_document(gv.substr(0, slash), gv.substr(slash + 1));
        }
    }
    return std::nullopt;
}

} // namespace meshlink::fakekube::discovery
