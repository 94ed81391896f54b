// Deletion as kube-apiserver and kube-controller-manager carry it out: propagation policies with the
// foregroundDeletion and orphan finalizers, the garbage collector following ownerReferences, and the
// namespace controller emptying a Terminating namespace before its "kubernetes" finalizer goes.
#include "tests/fakekube/apiserver.hpp"
#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/util.hpp"
#include "util/time.hpp"

#include <algorithm>

namespace meshlink::fakekube {
namespace {

constexpr const char* k_foreground = "foregroundDeletion";
constexpr const char* k_orphan = "orphan";
constexpr const char* k_namespace_finalizer = "kubernetes";

const json& meta(const json& object) {
    return child(object, "metadata");
}

bool has_finalizer(const json& object, const std::string& finalizer) {
    const json finalizers = meta(object).value("finalizers", json::array());
    return std::find(finalizers.begin(), finalizers.end(), finalizer) != finalizers.end();
}

void remove_finalizer(json& object, const std::string& finalizer) {
    json& finalizers = object["metadata"]["finalizers"];
    if (!finalizers.is_array()) {
        return;
    }
    finalizers.erase(std::remove(finalizers.begin(), finalizers.end(), finalizer), finalizers.end());
    if (finalizers.empty()) {
        object["metadata"].erase("finalizers");
    }
}

struct Entry {
    const ResourceInfo* resource;
    json object;
};

bool owned_by(const json& object, const std::string& uid) {
    for (const auto& ref : meta(object).value("ownerReferences", json::array())) {
        if (ref.value("uid", "") == uid) {
            return true;
        }
    }
    return false;
}

} // namespace

std::pair<json, bool> ApiServer::delete_object(const ResourceInfo& resource, const std::string& ns,
                                               const std::string& name, std::string propagation) {
    const json* current = m_store.get(resource, ns, name);
    if (current == nullptr) {
        return {nullptr, true};
    }
    if (propagation.empty()) {
        // batch/v1 Jobs keep their Pods unless told otherwise (the REST default kept for compatibility);
        // everything else deletes its dependents in the background.
        propagation = resource.kind == "Job" ? "Orphan" : "Background";
    }
    json object = *current;
    json& m = object["metadata"];
    const bool already = m.contains("deletionTimestamp");
    const std::string extra = propagation == "Foreground" ? k_foreground
                              : propagation == "Orphan"   ? k_orphan
                                                          : "";
    if (!extra.empty() && !has_finalizer(object, extra)) {
        if (!m["finalizers"].is_array()) {
            m["finalizers"] = json::array();
        }
        m["finalizers"].push_back(extra);
    }
    if (meta(object).value("finalizers", json::array()).empty()) {
        return {delete_now(resource, ns, name), true};
    }
    if (!already) {
        m["deletionTimestamp"] = util::format_rfc3339(std::chrono::system_clock::now());
        m["deletionGracePeriodSeconds"] = 0;
    }
    m_collect = true;
    return {m_store.put(resource, std::move(object)), false};
}

void ApiServer::collect_garbage() {
    std::vector<Entry> all;
    std::set<std::string> live;
    for (const auto& info : all_resources()) {
        if (!info.creatable) {
            continue;
        }
        for (const json* object : m_store.list(info, "")) {
            all.push_back({&info, *object});
            live.insert(meta(*object).value("uid", ""));
        }
    }
    for (auto& [resource, object] : all) {
        const json& m = meta(object);
        const std::string ns = m.value("namespace", "");
        const std::string name = m.value("name", "");
        const std::string uid = m.value("uid", "");
        if (m_store.get(*resource, ns, name) == nullptr || !m.contains("deletionTimestamp")) {
            continue;
        }
        std::vector<Entry*> dependents;
        for (auto& other : all) {
            if (owned_by(other.object, uid) &&
                m_store.get(*other.resource, meta(other.object).value("namespace", ""),
                            meta(other.object).value("name", "")) != nullptr) {
                dependents.push_back(&other);
            }
        }
        json updated = *m_store.get(*resource, ns, name);
        if (has_finalizer(updated, k_orphan)) {
            for (Entry* dependent : dependents) {
                json copy = *m_store.get(*dependent->resource, meta(dependent->object).value("namespace", ""),
                                         meta(dependent->object).value("name", ""));
                json& refs = copy["metadata"]["ownerReferences"];
                refs.erase(std::remove_if(refs.begin(), refs.end(),
                                          [&](const json& ref) { return ref.value("uid", "") == uid; }),
                           refs.end());
                if (refs.empty()) {
                    copy["metadata"].erase("ownerReferences");
                }
                m_store.put(*dependent->resource, std::move(copy));
            }
            remove_finalizer(updated, k_orphan);
        } else if (has_finalizer(updated, k_foreground)) {
            if (!dependents.empty()) {
                // Dependents go first, each in the foreground too; the owner waits for them.
                for (Entry* dependent : dependents) {
                    delete_object(*dependent->resource, meta(dependent->object).value("namespace", ""),
                                  meta(dependent->object).value("name", ""), "Foreground");
                }
                m_collect = true;
                continue;
            }
            remove_finalizer(updated, k_foreground);
        } else {
            continue;
        }
        if (meta(updated).value("finalizers", json::array()).empty()) {
            delete_now(*resource, ns, name);
        } else {
            m_store.put(*resource, std::move(updated));
        }
    }
    // Background deletion: objects whose every owner was deleted while fakekube ran are garbage. (Owners that
    // never existed here, as in seeds describing a cluster only partly, are left alone.)
    for (auto& [resource, object] : all) {
        const json& m = meta(object);
        const json refs = m.value("ownerReferences", json::array());
        if (refs.empty() || m.contains("deletionTimestamp")) {
            continue;
        }
        bool any_live = false;
        bool any_deleted = false;
        for (const auto& ref : refs) {
            const std::string owner = ref.value("uid", "");
            any_live = any_live || (live.contains(owner) && m_deleted_uids.count(owner) == 0);
            any_deleted = any_deleted || m_deleted_uids.contains(owner);
        }
        if (any_deleted && !any_live &&
            m_store.get(*resource, m.value("namespace", ""), m.value("name", "")) != nullptr) {
            delete_object(*resource, m.value("namespace", ""), m.value("name", ""), "Background");
            m_collect = true;
        }
    }
}

void ApiServer::sync_namespace(json ns) {
    if (!meta(ns).contains("deletionTimestamp")) {
        return;
    }
    const std::string name = meta(ns).value("name", "");
    std::map<std::string, long long> remaining;  // resource -> instances
    std::map<std::string, long long> finalizers; // finalizer -> instances
    for (const auto& info : all_resources()) {
        if (!info.namespaced || !info.creatable) {
            continue;
        }
        std::vector<std::string> names;
        for (const json* item : m_store.list(info, name)) {
            names.push_back(meta(*item).value("name", ""));
        }
        for (const auto& item : names) {
            auto [object, gone] = delete_object(info, name, item, "Background");
            if (!gone) {
                remaining[info.qualified()] += 1;
                for (const auto& finalizer : meta(object).value("finalizers", json::array())) {
                    finalizers[finalizer.get<std::string>()] += 1;
                }
            }
        }
    }
    auto describe = [](const std::map<std::string, long long>& counts, const std::string& what) {
        std::string text;
        for (const auto& [key, count] : counts) {
            text += (text.empty() ? "" : ", ") + key + " " + what + " " + std::to_string(count) +
                    " resource instances";
        }
        return text;
    };
    const std::string time = util::format_rfc3339(std::chrono::system_clock::now());
    auto ns_condition = [&](const std::string& type, bool status, const std::string& reason,
                            const std::string& message) {
        json c = {{"type", type},
                  {"status", status ? "True" : "False"},
                  {"lastTransitionTime", time},
                  {"reason", reason},
                  {"message", message}};
        for (const auto& old : child(ns, "status").value("conditions", json::array())) {
            if (old.value("type", "") == type && old.value("status", "") == c["status"]) {
                c["lastTransitionTime"] = old["lastTransitionTime"];
            }
        }
        return c;
    };
    json conditions = json::array(
        {ns_condition("NamespaceDeletionDiscoveryFailure", false, "ResourcesDiscovered",
                      "All resources successfully discovered"),
         ns_condition("NamespaceDeletionGroupVersionParsingFailure", false, "ParsedGroupVersions",
                      "All legacy kube types successfully parsed"),
         ns_condition("NamespaceDeletionContentFailure", false, "ContentDeleted",
                      "All content successfully deleted, may be waiting on finalization"),
         remaining.empty() ? ns_condition("NamespaceContentRemaining", false, "ContentRemoved",
                                          "All content successfully removed")
                           : ns_condition("NamespaceContentRemaining", true, "SomeResourcesRemain",
                                          "Some resources are remaining: " + describe(remaining, "has")),
         finalizers.empty() ? ns_condition("NamespaceFinalizersRemaining", false, "ContentHasNoFinalizers",
                                           "All content-preserving finalizers finished")
                            : ns_condition("NamespaceFinalizersRemaining", true, "SomeFinalizersRemain",
                                           "Some content in the namespace has finalizers remaining: " +
                                               describe(finalizers, "in"))});
    const ResourceInfo& namespaces = *find_resource("", "v1", "namespaces");
    ns["status"]["conditions"] = conditions;
    if (remaining.empty()) {
        // Content gone: the namespace controller's finalizer goes; the namespace follows once no other
        // finalizer (spec or metadata) holds it.
        json& spec_finalizers = ns["spec"]["finalizers"];
        if (spec_finalizers.is_array()) {
            spec_finalizers.erase(
                std::remove(spec_finalizers.begin(), spec_finalizers.end(), k_namespace_finalizer),
                spec_finalizers.end());
        }
        if (child(ns, "spec").value("finalizers", json::array()).empty() &&
            meta(ns).value("finalizers", json::array()).empty()) {
            delete_now(namespaces, "", name);
            return;
        }
    }
    if (*m_store.get(namespaces, "", name) != ns) {
        m_store.put(namespaces, ns);
    }
    sync_later(namespaces, ns);
}

} // namespace meshlink::fakekube
