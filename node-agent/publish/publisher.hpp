#pragma once
// Publishing a node report on the agent's own Node: read what the Node carries, decide whether anything
// changed, and send one JSON merge patch on metadata when it did. The agent never touches another Node.
//
// When nothing changed, nothing is written, with one exception: a heartbeat. Readers call a report stale
// when observedAt is older than three intervals, so an unchanged report gets a fresh observedAt once the
// published one is more than 1.5 intervals old (every second probe in steady state); a running agent's
// report is then never much older than two intervals.

#include "kube/client.hpp"
#include "node-agent/publish/node_report.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace meshlink::agent::publish {

// The two calls the publisher makes, so unit tests can use an in-memory Node.
class NodeApi {
public:
    virtual ~NodeApi() = default;
    // The Node's metadata object (name, labels, annotations, ...).
    virtual util::Result<nlohmann::json> get_metadata(std::string_view node) = 0;
    // Applies a JSON merge patch whose top level is {"metadata": {...}}.
    virtual util::Result<void> patch(std::string_view node, const nlohmann::json& merge_patch) = 0;
};

// NodeApi on a kube::Client: a metadata-only GET and a merge patch with strict field validation. Repeating
// the patch is harmless (it sets fixed values), so the client may retry it like an idempotent request.
std::unique_ptr<NodeApi> make_node_api(kube::Client& client);

enum class Change {
    none,      // the Node already carries this report: no write
    heartbeat, // only observedAt is refreshed
    report,    // the document or a label differs
};

std::string_view to_string(Change change);

struct PublishPlan {
    Change change = Change::none;
    nlohmann::json patch; // null when change == none
    std::string reason;   // for the log: "first report", "labels changed", "observedAt 25m old", ...
};

// Compares `desired` with the Node's `metadata` at `now` and returns the merge patch to send, if any. The
// patch carries desired.observed_at as "observedAt".
// The published document is compared without observedAt, without facts.boot.bootFreeBytes and without the
// checks' messages (they restate facts, the free space among them, which moves all the time); a missing,
// unreadable or different annotation, or a label with another value, is a change. A label the report has no
// value for is removed.
PublishPlan plan_publish(const NodeReport& desired, const nlohmann::json& metadata,
                         std::chrono::system_clock::time_point now);

struct PublishResult {
    Change change = Change::none;
    std::string reason;
};

// GET the Node, plan, and PATCH when needed. Errors carry the request that failed and whether the server
// answered (Error::http_status != 0).
util::Result<PublishResult> publish(NodeApi& api, std::string_view node, const NodeReport& desired,
                                    std::chrono::system_clock::time_point now);

} // namespace meshlink::agent::publish
