#include "tests/fakekube/store.hpp"

#include "tests/fakekube/resources.hpp"

#include <algorithm>

namespace meshlink::fakekube {
namespace {

std::string metadata_string(const json& object, const char* key) {
    const auto metadata = object.find("metadata");
    if (metadata == object.end() || !metadata->is_object()) {
        return {};
    }
    return metadata->value(key, "");
}

} // namespace

const json* Store::get(const ResourceInfo& resource, const std::string& ns, const std::string& name) const {
    auto objects = m_objects.find(&resource);
    if (objects == m_objects.end()) {
        return nullptr;
    }
    auto it = objects->second.find({resource.namespaced ? ns : "", name});
    return it == objects->second.end() ? nullptr : &it->second;
}

std::vector<const json*> Store::list(const ResourceInfo& resource, const std::string& ns) const {
    std::vector<const json*> out;
    auto objects = m_objects.find(&resource);
    if (objects == m_objects.end()) {
        return out;
    }
    for (const auto& [key, object] : objects->second) {
        if (ns.empty() || !resource.namespaced || key.first == ns) {
            out.push_back(&object);
        }
    }
    return out;
}

const json& Store::put(const ResourceInfo& resource, json object) {
    ++m_revision;
    object["metadata"]["resourceVersion"] = std::to_string(m_revision);
    Key key{resource.namespaced ? metadata_string(object, "namespace") : "", metadata_string(object, "name")};
    auto& objects = m_objects[&resource];
    auto it = objects.find(key);
    WatchEvent event{m_revision, &resource, it == objects.end() ? "ADDED" : "MODIFIED", object, nullptr};
    if (it != objects.end()) {
        event.previous = std::move(it->second);
        it->second = std::move(object);
    } else {
        it = objects.emplace(key, std::move(object)).first;
    }
    record(std::move(event));
    return it->second;
}

json Store::remove(const ResourceInfo& resource, const std::string& ns, const std::string& name) {
    auto& objects = m_objects[&resource];
    auto it = objects.find({resource.namespaced ? ns : "", name});
    if (it == objects.end()) {
        return nullptr;
    }
    json object = std::move(it->second);
    objects.erase(it);
    ++m_revision;
    object["metadata"]["resourceVersion"] = std::to_string(m_revision);
    record(WatchEvent{m_revision, &resource, "DELETED", object, nullptr});
    return object;
}

uint64_t Store::oldest_revision() const {
    return m_dropped_up_to;
}

std::vector<const WatchEvent*> Store::events_after(uint64_t after) const {
    std::vector<const WatchEvent*> out;
    auto first = std::upper_bound(m_events.begin(), m_events.end(), after,
                                  [](uint64_t rv, const WatchEvent& event) { return rv < event.revision; });
    for (auto it = first; it != m_events.end(); ++it) {
        out.push_back(&*it);
    }
    return out;
}

void Store::record(WatchEvent event) {
    m_events.push_back(std::move(event));
    while (m_events.size() > k_history) {
        m_dropped_up_to = m_events.front().revision;
        m_events.pop_front();
    }
}

} // namespace meshlink::fakekube
