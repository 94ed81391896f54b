#pragma once
// The agents' node reports (annotation meshlink.io/node-report, README "Node probe"), read from the Node
// objects of one cluster and judged again for the cluster's Cilium version, then tallied per check so that
// thousands of nodes become one line per check with counts and the failing nodes' names.

#include "plugin/preflight/check.hpp"
#include "probe/requirements.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::plugin::preflight {

// One probe check over all nodes of a cluster.
struct NodeCheckTally {
    std::string id;
    NodeCounts counts; // missing and total are filled by NodeReports::finish
    Status worst = Status::pass;
    std::string worst_node;    // the first node with the worst status
    std::string worst_message; // its message and hint
    std::string worst_hint;
};

struct NodeReports {
    int total = 0; // nodes listed
    int fresh = 0;
    std::vector<std::string> stale;   // names, with a report older than the stale limit
    std::vector<std::string> missing; // names, without a report
    std::vector<std::pair<std::string, std::string>> unreadable; // name, why the report cannot be used
    std::vector<NodeCheckTally> checks;                          // in the probe's order
};

class NodeReportReader {
public:
    // `include` says which probe check IDs matter for this cluster (feature checks depend on its Helm
    // values); `now` decides staleness.
    NodeReportReader(probe::CiliumVersion cilium, std::function<bool(std::string_view id)> include,
                     std::chrono::system_clock::time_point now);

    // One Node object (metadata is enough).
    void add(const nlohmann::json& node);

    // The tallies; every check's counts cover every node (those without a usable report as missing).
    NodeReports finish();

private:
    // The probe's verdicts on a report's facts, judged for m_cilium, filtered by m_include.
    [[nodiscard]] std::vector<Check> probe_verdicts(const nlohmann::json& doc) const;

    probe::CiliumVersion m_cilium;
    std::function<bool(std::string_view)> m_include;
    std::chrono::system_clock::time_point m_now;
    NodeReports m_reports;
    std::map<std::string, std::size_t, std::less<>> m_index; // check id -> position in m_reports.checks
    // Verdicts by facts document: nodes of one pool report identical facts, so each distinct document is
    // judged once.
    std::map<std::string, std::vector<Check>, std::less<>> m_verdicts;
};

} // namespace meshlink::plugin::preflight
