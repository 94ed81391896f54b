#pragma once
// Reading the agents' reports back from Node metadata: is a node's report fresh, stale or missing, and what
// does it say. `agent status` prints this; preflight's node.report.present can use the same rule.

#include "plugin/agent/cluster_api.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::plugin::agent {

enum class ReportState {
    fresh,   // observedAt is at most three of the report's intervals old
    stale,   // older: the agent is gone, stuck, or cannot reach the API server
    missing, // no annotation: no agent ran on the node (or it never could publish)
    invalid, // an annotation that is not the agent's JSON document, or without a readable observedAt
};
std::string_view to_string(ReportState state);

struct NodeReportStatus {
    std::string node;
    ReportState state = ReportState::missing;
    std::string problem; // why invalid
    std::optional<std::chrono::system_clock::time_point> observed_at;
    std::chrono::seconds interval{0};          // intervalSeconds, or the agent's default when absent
    std::optional<bool> kernel_ready;          // the meshlink.io/kernel-ready label
    std::optional<std::string> kernel_version; // the meshlink.io/kernel-version label
    std::string cilium_version;                // the release the report was judged for
    std::vector<std::string> failing;          // IDs of checks with status "fail"
};

// Classifies one Node from its metadata (labels and annotations) at `now`. Stale means older than
// defaults::k_node_report_stale_intervals (3) times the report's intervalSeconds; a report without
// intervalSeconds (none written by this agent) is judged against the agent's default interval.
NodeReportStatus classify_node(const nlohmann::json& metadata, std::chrono::system_clock::time_point now);

struct AgentOverview {
    bool daemonset_present = false;
    std::string image;
    std::string cilium_flag;             // the --cilium-version the DaemonSet passes, "" when none
    int desired = 0;                     // status.desiredNumberScheduled
    int ready = 0;                       // status.numberReady
    std::vector<NodeReportStatus> nodes; // sorted by name
};

// Reads the agent's DaemonSet and every Node's metadata (paginated, metadata only).
util::Result<AgentOverview> collect_overview(ClusterApi& api, std::chrono::system_clock::time_point now);

// {"daemonSet": {...} | null, "summary": {"total","fresh","stale","missing","invalid"}, "nodes": [...]}.
nlohmann::json to_json(const AgentOverview& overview, std::chrono::system_clock::time_point now);

} // namespace meshlink::plugin::agent
