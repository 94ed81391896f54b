#pragma once
// In-memory storage: objects per resource keyed by (namespace, name) in etcd's key order, one global
// monotonic resourceVersion, and a bounded history of watch events. Not thread-safe: ApiServer holds
// its lock around every use.

#include "tests/fakekube/http.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace meshlink::fakekube {

struct ResourceInfo;

struct WatchEvent {
    uint64_t revision = 0;
    const ResourceInfo* resource = nullptr;
    std::string type; // ADDED, MODIFIED, DELETED
    json object;
    json previous; // the object before a MODIFIED, null otherwise
};

class Store {
public:
    static constexpr size_t k_history = 20000;

    [[nodiscard]] const json* get(const ResourceInfo& resource, const std::string& ns,
                                  const std::string& name) const;
    // Objects of `resource`, all namespaces when `ns` is empty, in (namespace, name) order.
    [[nodiscard]] std::vector<const json*> list(const ResourceInfo& resource, const std::string& ns) const;

    // Stores the object under a new resourceVersion (written into it) and records ADDED or MODIFIED.
    const json& put(const ResourceInfo& resource, json object);
    // Removes the object; the DELETED event carries it with the deletion's resourceVersion.
    json remove(const ResourceInfo& resource, const std::string& ns, const std::string& name);

    [[nodiscard]] uint64_t revision() const { return m_revision; }
    // The oldest revision a watch may resume from; older ones get 410 Gone.
    [[nodiscard]] uint64_t oldest_revision() const;
    // Events with a revision above `after`, for every resource.
    [[nodiscard]] std::vector<const WatchEvent*> events_after(uint64_t after) const;

private:
    using Key = std::pair<std::string, std::string>;
    std::map<const ResourceInfo*, std::map<Key, json>> m_objects;
    std::deque<WatchEvent> m_events;
    uint64_t m_revision = 100;
    uint64_t m_dropped_up_to = 0;

    void record(WatchEvent event);
};

} // namespace meshlink::fakekube
