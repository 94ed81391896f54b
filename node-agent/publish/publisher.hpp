#pragma once
// Publishing a node report (probe/node_report.hpp): read what the agent's own Node carries, send one JSON
// merge patch on its metadata only when the report or a label changed, and renew the node's Lease in the
// agent's namespace every time. The agent never touches another Node.
//
// Liveness is the Lease, not the Node: every Node write reaches every Node watcher in the cluster
// (kube-scheduler, Cilium, kube-proxy, ...), so an unchanged report is never written again, and a steady
// cluster writes nothing to Nodes. Readers judge staleness from the Lease (README "What it publishes").

#include "kube/client.hpp"
#include "probe/node_report.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace meshlink::agent::publish {

// The calls the publisher makes, so unit tests can use an in-memory Node and Lease.
class NodeApi {
public:
    virtual ~NodeApi() = default;
    // The Node's metadata object (name, uid, labels, annotations, ...).
    virtual util::Result<nlohmann::json> get_metadata(std::string_view node) = 0;
    // Applies a JSON merge patch whose top level is {"metadata": {...}}.
    virtual util::Result<void> patch(std::string_view node, const nlohmann::json& merge_patch) = 0;
    // The Lease `name` in the agent's namespace; nullopt when there is none (404).
    virtual util::Result<std::optional<nlohmann::json>> get_lease(std::string_view name) = 0;
    // Creates `lease` (409 AlreadyExists when someone was first); returns the stored object.
    virtual util::Result<nlohmann::json> create_lease(const nlohmann::json& lease) = 0;
    // Replaces `lease` (PUT); its metadata.resourceVersion makes it conditional (409 Conflict when it changed
    // meanwhile, 404 when it is gone). Returns the stored object.
    virtual util::Result<nlohmann::json> update_lease(const nlohmann::json& lease) = 0;
};

// NodeApi on a kube::Client: a metadata-only GET and a merge patch of the Node, GET/POST/PUT of the Lease,
// all writes with strict field validation. Repeating the Node patch is harmless (it sets fixed values), so
// the client may retry it like an idempotent request.
std::unique_ptr<NodeApi> make_node_api(kube::Client& client);

enum class Change {
    none,   // the Node already carries this report: no write
    report, // the document or a label differs
};

std::string_view to_string(Change change);

struct PublishPlan {
    Change change = Change::none;
    nlohmann::json patch; // null when change == none
    std::string reason;   // for the log: "first report", "labels changed", ...
};

// Compares `desired` with the Node's `metadata` and returns the merge patch to send, if any. The patch
// carries desired.observed_at as "observedAt".
// The published document is compared without observedAt, without facts.boot.bootFreeBytes and without the
// checks' messages (they restate facts, the free space among them, which moves all the time); a missing,
// unreadable or different annotation, or a label with another value, is a change. A label the report has no
// value for is removed.
PublishPlan plan_publish(const probe::NodeReport& desired, const nlohmann::json& metadata);

// Keeps the node's Lease: the last object read or written, so a renewal is one PUT.
class LeaseKeeper {
public:
    LeaseKeeper(std::string node, std::chrono::seconds interval);

    // Renews the Lease at `now`, creating it (owned by the Node `node_uid`) when it does not exist. A 409
    // re-reads it and tries once more; a Lease deleted meanwhile is created again.
    util::Result<void> renew(NodeApi& api, std::string_view node_uid,
                             std::chrono::system_clock::time_point now);

private:
    util::Result<void> write(NodeApi& api, std::string_view node_uid,
                             std::chrono::system_clock::time_point now);

    std::string m_node;
    std::string m_name; // probe::lease_name(m_node)
    std::chrono::seconds m_interval;
    std::optional<nlohmann::json> m_lease; // as the server last returned it
};

struct PublishResult {
    Change change = Change::none;
    std::string reason;
};

// GET the Node, PATCH it when the report changed, then renew the Lease. Errors carry the request that failed
// and whether the server answered (Error::http_status != 0); a failed Lease renewal fails the publish, which
// the agent retries.
util::Result<PublishResult> publish(NodeApi& api, std::string_view node, const probe::NodeReport& desired,
                                    LeaseKeeper& lease, std::chrono::system_clock::time_point now);

} // namespace meshlink::agent::publish
