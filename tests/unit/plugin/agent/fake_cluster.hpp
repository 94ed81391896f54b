#pragma once
// An in-memory ClusterApi for the agent verbs' unit tests: objects by path, a resourceVersion counter,
// server-side defaults on create (so "unchanged" must ignore fields the server adds), and a log of writes.

#include "plugin/agent/cluster_api.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::agent::testing {

class FakeCluster final : public ClusterApi {
public:
    std::map<std::string, nlohmann::json> objects; // by object path
    std::vector<std::string> writes;               // "POST path", "PATCH path", "DELETE path"
    int conflicts_to_inject = 0;                   // the next N patches answer 409 Conflict
    int resource_version = 100;

    util::Result<std::optional<nlohmann::json>> get(const std::string& path) override {
        auto it = objects.find(path);
        if (it == objects.end()) {
            return std::optional<nlohmann::json>();
        }
        return std::optional<nlohmann::json>(it->second);
    }

    util::Result<nlohmann::json> create(const std::string& collection,
                                        const nlohmann::json& object) override {
        writes.push_back("POST " + collection);
        const std::string path = collection + "/" + object["metadata"]["name"].get<std::string>();
        if (objects.count(path) > 0) {
            return util::fail(util::ErrorKind::already_exists, path + " already exists", 409);
        }
        nlohmann::json stored = object;
        stored["metadata"]["resourceVersion"] = std::to_string(++resource_version);
        stored["metadata"]["uid"] = "uid-" + std::to_string(resource_version);
        stored["status"] = nlohmann::json::object();
        // What the API server defaults inside a DaemonSet's containers.
        if (stored["kind"] == "DaemonSet") {
            for (auto& container : stored["spec"]["template"]["spec"]["containers"]) {
                container["terminationMessagePath"] = "/dev/termination-log";
            }
            stored["spec"]["revisionHistoryLimit"] = 10;
        }
        objects[path] = stored;
        return stored;
    }

    util::Result<nlohmann::json> merge_patch(const std::string& path, const nlohmann::json& patch) override {
        writes.push_back("PATCH " + path);
        auto it = objects.find(path);
        if (it == objects.end()) {
            return util::fail(util::ErrorKind::not_found, path + " not found", 404);
        }
        if (conflicts_to_inject > 0) {
            --conflicts_to_inject;
            ++resource_version; // someone else wrote it
            it->second["metadata"]["resourceVersion"] = std::to_string(resource_version);
            return util::fail(util::ErrorKind::conflict, "the object has been modified", 409);
        }
        if (patch.contains("metadata") && patch["metadata"].contains("resourceVersion") &&
            patch["metadata"]["resourceVersion"] != it->second["metadata"]["resourceVersion"]) {
            return util::fail(util::ErrorKind::conflict, "stale resourceVersion", 409);
        }
        it->second.merge_patch(patch);
        it->second["metadata"]["resourceVersion"] = std::to_string(++resource_version);
        return it->second;
    }

    util::Result<bool> remove(const std::string& path) override {
        writes.push_back("DELETE " + path);
        return objects.erase(path) > 0;
    }

    std::optional<util::Error> list_error; // list_each answers this (a forbidden Lease list, say)
    std::vector<std::string> lists;        // the collections listed, in order

    util::Result<void> list_each(const std::string& path,
                                 const std::function<void(const nlohmann::json& item)>& visit) override {
        lists.push_back(path);
        if (list_error) {
            return std::unexpected(*list_error);
        }
        for (const auto& [key, object] : objects) {
            if (key.starts_with(path + "/") && key.find('/', path.size() + 1) == std::string::npos) {
                visit(object);
            }
        }
        return {};
    }

    util::Result<void> list_metadata(const std::string& path, const std::string&,
                                     const std::function<void(const nlohmann::json& item)>& visit) override {
        lists.push_back(path);
        for (const auto& [key, object] : objects) {
            if (key.starts_with(path + "/") && key.find('/', path.size() + 1) == std::string::npos) {
                visit(nlohmann::json{{"metadata", object["metadata"]}});
            }
        }
        return {};
    }
};

} // namespace meshlink::plugin::agent::testing
