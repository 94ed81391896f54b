#pragma once
// The agents' node reports, read from the Node objects of one cluster with the one reader
// (probe/node_report.hpp), judged again for the cluster's Cilium version, then tallied per check so that
// thousands of nodes become one line per check with counts and the failing nodes' names.

#include "plugin/preflight/check.hpp"
#include "probe/node_report.hpp"
#include "probe/requirements.hpp"
#include "util/digest.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <deque>
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
    std::vector<std::string> stale;                              // names, with a report the agent left
    std::vector<std::string> missing;                            // names, without a report
    std::vector<std::pair<std::string, std::string>> unreadable; // name, why the reader refused the report
    std::string leases_problem;         // why the agents' Leases could not be read ("" when they could)
    int judged_by_observed_at = 0;      // reports without a usable Lease, judged by observedAt alone
    std::vector<NodeCheckTally> checks; // in the probe's order
};

class NodeReportReader {
public:
    // `include` says which probe check IDs matter for this cluster (feature checks depend on its Helm
    // values); `now` and `leases` decide staleness.
    NodeReportReader(probe::CiliumVersion cilium, std::function<bool(std::string_view id)> include,
                     std::chrono::system_clock::time_point now, probe::LeaseIndex leases);

    // One Node object (metadata is enough).
    void add(const nlohmann::json& node);

    // The tallies; every check's counts cover every node (those without a usable report as missing).
    NodeReports finish();

    // What the verdict cache holds: its entries and their bytes (keys, IDs, messages, hints). Bounded by
    // defaults::k_verdict_cache_entries whatever the nodes report.
    struct CacheSize {
        std::size_t entries = 0;
        std::size_t bytes = 0;
    };
    [[nodiscard]] CacheSize verdict_cache_size() const;

private:
    // The probe's verdicts on a report's facts, judged for m_cilium, filtered by m_include.
    [[nodiscard]] std::vector<Check> probe_verdicts(const nlohmann::json& document) const;
    const std::vector<Check>& verdicts_for(const probe::ReportDocument& report);

    probe::CiliumVersion m_cilium;
    std::function<bool(std::string_view)> m_include;
    std::chrono::system_clock::time_point m_now;
    probe::LeaseIndex m_leases;
    NodeReports m_reports;
    std::map<std::string, std::size_t, std::less<>> m_index; // check id -> position in m_reports.checks
    // Verdicts by a digest of the facts: nodes of one pool report identical facts, so each distinct set is
    // judged once. The oldest entry goes when the cache is full.
    std::map<util::Sha256, std::vector<Check>> m_verdicts;
    std::deque<util::Sha256> m_verdict_order;
};

} // namespace meshlink::plugin::preflight
