#pragma once
// `agent status`: the agent's DaemonSet and every node's report, read with the one reader
// (probe/node_report.hpp) so that it says fresh, stale, missing or invalid exactly where preflight does.

#include "plugin/agent/cluster_api.hpp"
#include "probe/node_report.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace meshlink::plugin::agent {

struct AgentOverview {
    bool daemonset_present = false;
    std::string image;
    std::string cilium_flag;               // the --cilium-version the DaemonSet passes, "" when none
    int desired = 0;                       // status.desiredNumberScheduled
    int ready = 0;                         // status.numberReady
    std::string leases_problem;            // why the agents' Leases could not be read ("" when they could)
    std::vector<probe::NodeReading> nodes; // sorted by name, without the parsed documents
};

// Reads the agent's DaemonSet, the agents' Leases (one paginated LIST in their namespace; when it fails, each
// report is judged by its observedAt and leases_problem says why) and every Node's metadata (paginated).
util::Result<AgentOverview> collect_overview(ClusterApi& api, std::chrono::system_clock::time_point now);

// {"daemonSet": {...} | null, "leases": {"readable", "problem"?}, "summary": {"total","fresh","stale",
// "missing","invalid"}, "nodes": [...]} (README "kubectl meshlink agent").
nlohmann::json to_json(const AgentOverview& overview);

} // namespace meshlink::plugin::agent
