#pragma once
// An in-memory PreflightApi for the unit tests: objects by kind/namespace/name, nodes, ServiceCIDRs, access
// rules to deny, and counters of what preflight asked.

#include "plugin/preflight/api.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace meshlink::plugin::preflight::testing {

class MemoryApi final : public PreflightApi {
public:
    std::optional<util::Error> unreachable; // every call fails with this
    kube::ServerVersion version{"v1.30.4", "1", "30", "linux/amd64"};
    std::map<std::string, nlohmann::json> objects; // "configmaps/kube-system/cilium-config"
    std::vector<nlohmann::json> nodes;
    std::vector<nlohmann::json> leases;                              // in the agents' namespace
    std::optional<util::Error> lease_error;                          // each_lease answers this
    std::vector<nlohmann::json> pod_list;                            // every Pod; selected by labels
    std::optional<std::vector<nlohmann::json>> service_cidr_objects; // nullopt: the API is not served
    std::set<std::string> denied;                                    // "create secrets/ kube-system"
    std::optional<util::Error> access_error;

    // What was asked.
    int calls = 0;
    int node_lists = 0;
    int lease_lists = 0;
    std::optional<bool> nodes_metadata_only;
    int reviews = 0;

    void put(std::string_view resource, std::string_view ns, std::string_view name, nlohmann::json object) {
        objects[key(resource, ns, name)] = std::move(object);
    }

    util::Result<kube::ServerVersion> server_version() override {
        ++calls;
        if (unreachable) {
            return std::unexpected(*unreachable);
        }
        return version;
    }
    util::Result<std::optional<nlohmann::json>> config_map(std::string_view ns,
                                                           std::string_view name) override {
        return find("configmaps", ns, name);
    }
    util::Result<std::optional<nlohmann::json>> daemon_set(std::string_view ns,
                                                           std::string_view name) override {
        return find("daemonsets", ns, name);
    }
    util::Result<std::optional<nlohmann::json>> service(std::string_view ns, std::string_view name) override {
        return find("services", ns, name);
    }
    util::Result<std::optional<std::string>> secret_value(std::string_view ns, std::string_view name,
                                                          std::string_view key_name) override {
        auto secret = find("secrets", ns, name);
        if (!secret) {
            return std::unexpected(secret.error());
        }
        if (!*secret || !(**secret).contains("stringData") || !(**secret)["stringData"].contains(key_name)) {
            return std::optional<std::string>();
        }
        return std::optional<std::string>((**secret)["stringData"][std::string(key_name)].get<std::string>());
    }
    util::Result<std::vector<nlohmann::json>> pods(std::string_view ns, std::string_view selector) override {
        ++calls;
        if (unreachable) {
            return std::unexpected(*unreachable);
        }
        std::vector<nlohmann::json> out;
        for (const auto& pod : pod_list) {
            if (pod["metadata"].value("namespace", "") == ns &&
                matches(pod["metadata"].value("labels", nlohmann::json::object()), selector)) {
                out.push_back(pod);
            }
        }
        return out;
    }
    util::Result<std::optional<std::vector<nlohmann::json>>> service_cidrs() override {
        ++calls;
        if (unreachable) {
            return std::unexpected(*unreachable);
        }
        return service_cidr_objects;
    }
    util::Result<void> each_node(bool metadata_only,
                                 const std::function<void(const nlohmann::json&)>& visit) override {
        ++calls;
        ++node_lists;
        nodes_metadata_only = metadata_only;
        if (unreachable) {
            return std::unexpected(*unreachable);
        }
        for (const auto& node : nodes) {
            if (metadata_only) {
                visit(nlohmann::json{{"apiVersion", "meta.k8s.io/v1"},
                                     {"kind", "PartialObjectMetadata"},
                                     {"metadata", node["metadata"]}});
            } else {
                visit(node);
            }
        }
        return {};
    }
    util::Result<void> each_lease(const std::function<void(const nlohmann::json&)>& visit) override {
        ++calls;
        ++lease_lists;
        if (unreachable) {
            return std::unexpected(*unreachable);
        }
        if (lease_error) {
            return std::unexpected(*lease_error);
        }
        for (const auto& lease : leases) {
            visit(lease);
        }
        return {};
    }
    util::Result<AccessDecision> review_access(const defaults::AccessRule& rule) override {
        ++calls;
        ++reviews;
        if (unreachable) {
            return std::unexpected(*unreachable);
        }
        if (access_error) {
            return std::unexpected(*access_error);
        }
        const std::string text = std::string(rule.verb) + " " + std::string(rule.resource) + "/" +
                                 std::string(rule.subresource) + " " + std::string(rule.namespace_name);
        return AccessDecision{denied.count(text) == 0, {}};
    }

private:
    static std::string key(std::string_view resource, std::string_view ns, std::string_view name) {
        return std::string(resource) + "/" + std::string(ns) + "/" + std::string(name);
    }
    util::Result<std::optional<nlohmann::json>> find(std::string_view resource, std::string_view ns,
                                                     std::string_view name) {
        ++calls;
        if (unreachable) {
            return std::unexpected(*unreachable);
        }
        auto it = objects.find(key(resource, ns, name));
        if (it == objects.end()) {
            return std::optional<nlohmann::json>();
        }
        return std::optional<nlohmann::json>(it->second);
    }
    // "a=b,c=d" equality selectors only: what preflight uses.
    static bool matches(const nlohmann::json& labels, std::string_view selector) {
        std::size_t pos = 0;
        while (pos < selector.size()) {
            auto end = selector.find(',', pos);
            auto term = selector.substr(pos, end == std::string_view::npos ? selector.npos : end - pos);
            auto eq = term.find('=');
            const std::string k(term.substr(0, eq));
            const std::string v(term.substr(eq + 1));
            if (!labels.contains(k) || labels[k] != v) {
                return false;
            }
            if (end == std::string_view::npos) {
                break;
            }
            pos = end + 1;
        }
        return true;
    }
};

} // namespace meshlink::plugin::preflight::testing
