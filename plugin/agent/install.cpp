#include "plugin/agent/install.hpp"

#include "plugin/agent/manifests.hpp"
#include "plugin/agent/resources.hpp"
#include "plugin/defaults.hpp"

#include <fmt/format.h>

#include <map>
#include <set>
#include <thread>

namespace meshlink::plugin::agent {
namespace {

using nlohmann::json;

std::string group_of(std::string_view api_version) {
    const auto slash = api_version.find('/');
    return slash == std::string_view::npos ? std::string() : std::string(api_version.substr(0, slash));
}

std::string version_of(std::string_view api_version) {
    const auto slash = api_version.find('/');
    return std::string(slash == std::string_view::npos ? api_version : api_version.substr(slash + 1));
}

bool is_terminating(const json& object) {
    if (object.contains("metadata") && object["metadata"].contains("deletionTimestamp")) {
        return true;
    }
    return object.contains("status") && object["status"].value("phase", "") == "Terminating";
}

void sleep_for(const ApplyOptions& options, std::chrono::milliseconds delay) {
    if (options.sleep) {
        options.sleep(delay);
    } else {
        std::this_thread::sleep_for(delay);
    }
}

// Waits for a terminating object to disappear. Returns the object when it is still there at the deadline.
util::Result<std::optional<json>> wait_until_gone(ClusterApi& api, const std::string& path,
                                                  const std::string& name, const ApplyOptions& options,
                                                  std::optional<json> current) {
    const auto step = defaults::k_terminating_namespace_poll;
    if (options.progress) {
        options.progress(fmt::format("waiting for {} to finish terminating (a recent uninstall)", name));
    }
    for (auto waited = std::chrono::seconds(0); waited < options.terminating_namespace_timeout;
         waited += step) {
        sleep_for(options, step);
        auto again = api.get(path);
        if (!again) {
            return std::unexpected(again.error());
        }
        current = std::move(*again);
        if (!current || !is_terminating(*current)) {
            return current;
        }
    }
    return util::fail(
        util::ErrorKind::timeout,
        fmt::format("{} is still terminating after {}s; wait until `kubectl get {}` no longer shows "
                    "it, then run the command again",
                    name, options.terminating_namespace_timeout.count(), name));
}

util::Result<ApplyAction> apply_one(ClusterApi& api, const json& desired, const ApplyOptions& options) {
    auto paths = paths_of(desired);
    if (!paths) {
        return std::unexpected(paths.error());
    }
    const std::string name = describe(desired);
    for (int attempt = 1;; ++attempt) {
        auto current = api.get(paths->object);
        if (!current) {
            return std::unexpected(current.error().with_context("reading " + name));
        }
        if (*current && is_terminating(**current)) {
            auto after = wait_until_gone(api, paths->object, name, options, std::move(*current));
            if (!after) {
                return std::unexpected(after.error());
            }
            *current = std::move(*after);
        }
        if (!*current) {
            auto created = api.create(paths->collection, desired);
            if (created) {
                return ApplyAction::created;
            }
            // Created by someone else between our GET and POST: compare with theirs.
            if (created.error().kind == util::ErrorKind::already_exists &&
                attempt < defaults::k_install_conflict_attempts) {
                continue;
            }
            return std::unexpected(created.error().with_context("creating " + name));
        }
        if (covers(**current, desired)) {
            return ApplyAction::unchanged;
        }
        json patch = desired;
        patch["metadata"]["resourceVersion"] = (**current)["metadata"].value("resourceVersion", "");
        auto patched = api.merge_patch(paths->object, patch);
        if (patched) {
            return ApplyAction::updated;
        }
        if (patched.error().kind == util::ErrorKind::conflict &&
            attempt < defaults::k_install_conflict_attempts) {
            continue; // changed between our GET and PATCH: read it again
        }
        return std::unexpected(patched.error().with_context("updating " + name));
    }
}

} // namespace

util::Result<ObjectPaths> paths_of(const json& object) {
    const std::string api_version = object.value("apiVersion", "");
    const std::string kind = object.value("kind", "");
    const auto resource = find_resource_kind(api_version, kind);
    if (!resource) {
        return util::fail(util::ErrorKind::invalid,
                          fmt::format("{} {} is not a kind meshlink writes (plugin/agent/resources.hpp)",
                                      api_version, kind));
    }
    const json& metadata = object.contains("metadata") ? object["metadata"] : json::object();
    const std::string name = metadata.value("name", "");
    const std::string ns = resource->namespaced ? metadata.value("namespace", "") : std::string();
    if (name.empty() || (resource->namespaced && ns.empty())) {
        return util::fail(util::ErrorKind::invalid, fmt::format("{} without a name or namespace", kind));
    }
    ObjectPaths paths;
    paths.collection = kube::api_path(group_of(api_version), version_of(api_version), resource->plural, ns);
    paths.object = kube::api_path(group_of(api_version), version_of(api_version), resource->plural, ns, name);
    return paths;
}

bool covers(const json& actual, const json& desired) {
    if (desired.is_object()) {
        if (!actual.is_object()) {
            return false;
        }
        for (const auto& [key, value] : desired.items()) {
            const auto it = actual.find(key);
            if (it == actual.end()) {
                // An empty map or list the server drops, or a null, is the same as absent.
                if (value.is_null() || ((value.is_object() || value.is_array()) && value.empty())) {
                    continue;
                }
                return false;
            }
            if (!covers(*it, value)) {
                return false;
            }
        }
        return true;
    }
    if (desired.is_array()) {
        if (!actual.is_array() || actual.size() != desired.size()) {
            return false;
        }
        for (std::size_t i = 0; i < desired.size(); ++i) {
            if (!covers(actual[i], desired[i])) {
                return false;
            }
        }
        return true;
    }
    return actual == desired;
}

std::string_view to_string(ApplyAction action) {
    switch (action) {
    case ApplyAction::created:
        return "created";
    case ApplyAction::updated:
        return "configured";
    case ApplyAction::unchanged:
        return "unchanged";
    }
    return "unchanged";
}

std::string_view to_string(DeleteAction action) {
    return action == DeleteAction::deleted ? "deleted" : "not found";
}

util::Result<std::vector<ApplyStep>> apply_objects(ClusterApi& api, const std::vector<json>& objects,
                                                   const ApplyOptions& options) {
    std::vector<ApplyStep> steps;
    for (const auto& object : objects) {
        auto action = apply_one(api, object, options);
        if (!action) {
            return std::unexpected(action.error());
        }
        steps.push_back({describe(object), *action});
    }
    return steps;
}

util::Result<ServedSplit> split_served(ClusterApi& api, std::vector<json> objects) {
    ServedSplit split;
    std::map<std::string, std::set<std::string>> discovered; // group version -> resources it serves
    for (auto& object : objects) {
        const std::string api_version = object.value("apiVersion", "");
        const auto resource = find_resource_kind(api_version, object.value("kind", ""));
        if (!resource || !resource->optional) {
            split.served.push_back(std::move(object));
            continue;
        }
        auto known = discovered.find(api_version);
        if (known == discovered.end()) {
            // The discovery document of the group version: /apis/GROUP/VERSION (/api/v1 for the core group).
            const std::string path = (group_of(api_version).empty() ? "/api/" : "/apis/") + api_version;
            auto list = api.get(path);
            if (!list) {
                return std::unexpected(
                    list.error().with_context(fmt::format("discovering what {} serves", api_version)));
            }
            std::set<std::string> names;
            // Absent (404): the group version is not served at all.
            if (*list && (**list).contains("resources") && (**list)["resources"].is_array()) {
                for (const auto& entry : (**list)["resources"]) {
                    if (entry.is_object() && entry.contains("name") && entry["name"].is_string()) {
                        names.insert(entry["name"].get<std::string>());
                    }
                }
            }
            known = discovered.emplace(api_version, std::move(names)).first;
        }
        (known->second.contains(std::string(resource->plural)) ? split.served : split.unserved)
            .push_back(std::move(object));
    }
    return split;
}

util::Result<std::vector<DeleteStep>> delete_objects(ClusterApi& api, const std::vector<json>& objects) {
    std::vector<DeleteStep> steps;
    for (auto it = objects.rbegin(); it != objects.rend(); ++it) {
        auto paths = paths_of(*it);
        if (!paths) {
            return std::unexpected(paths.error());
        }
        auto removed = api.remove(paths->object);
        if (!removed) {
            return std::unexpected(removed.error().with_context("deleting " + describe(*it)));
        }
        steps.push_back({describe(*it), *removed ? DeleteAction::deleted : DeleteAction::absent});
    }
    return steps;
}

util::Result<int> purge_reports(ClusterApi& api) {
    const std::string annotation(probe::defaults::k_report_annotation);
    const std::string ready(probe::defaults::k_kernel_ready_label);
    const std::string version(probe::defaults::k_kernel_version_label);
    std::vector<std::string> carrying;
    auto listed = api.list_metadata(kube::api_path("", "v1", "nodes"), "", [&](const json& item) {
        const json& metadata = item.contains("metadata") ? item["metadata"] : json::object();
        const json& annotations = metadata.contains("annotations") ? metadata["annotations"] : json::object();
        const json& labels = metadata.contains("labels") ? metadata["labels"] : json::object();
        if (annotations.contains(annotation) || labels.contains(ready) || labels.contains(version)) {
            carrying.push_back(metadata.value("name", ""));
        }
    });
    if (!listed) {
        return std::unexpected(listed.error().with_context("listing nodes"));
    }
    const json patch = {
        {"metadata",
         {{"annotations", {{annotation, nullptr}}}, {"labels", {{ready, nullptr}, {version, nullptr}}}}}};
    int patched = 0;
    for (const auto& node : carrying) {
        auto result = api.merge_patch(kube::api_path("", "v1", "nodes", "", node), patch);
        if (!result) {
            if (result.error().kind == util::ErrorKind::not_found) {
                continue; // the node left the cluster meanwhile
            }
            return std::unexpected(
                result.error().with_context(fmt::format("removing the report of node \"{}\"", node)));
        }
        ++patched;
    }
    return patched;
}

util::Result<std::optional<std::string>> detect_cilium_version(ClusterApi& api) {
    auto daemonset = api.get(kube::api_path("apps", "v1", "daemonsets", defaults::k_cilium_namespace,
                                            defaults::k_cilium_daemonset));
    if (!daemonset) {
        return std::unexpected(daemonset.error().with_context("reading Cilium's DaemonSet"));
    }
    if (!*daemonset) {
        return std::optional<std::string>();
    }
    const json& containers = (**daemonset)["spec"]["template"]["spec"]["containers"];
    if (!containers.is_array() || containers.empty()) {
        return std::optional<std::string>();
    }
    // The agent container is "cilium-agent" in Cilium's chart; fall back to the first container.
    const json* chosen = &containers.front();
    for (const auto& container : containers) {
        if (container.value("name", "") == defaults::k_cilium_agent_container) {
            chosen = &container;
        }
    }
    return cilium_version_from_image(chosen->value("image", ""));
}

} // namespace meshlink::plugin::agent
