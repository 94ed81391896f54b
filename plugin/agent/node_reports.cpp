#include "plugin/agent/node_reports.hpp"

#include "plugin/defaults.hpp"
#include "util/rfc3339.hpp"

#include <algorithm>

namespace meshlink::plugin::agent {
namespace {

using nlohmann::json;
using Clock = std::chrono::system_clock;

const json& member_or_empty(const json& object, const char* key) {
    static const json empty = json::object();
    if (!object.is_object()) {
        return empty;
    }
    auto it = object.find(key);
    return it == object.end() || !it->is_object() ? empty : *it;
}

int integer_at(const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_number_integer() ? it->get<int>() : 0;
}

json time_or_null(const std::optional<Clock::time_point>& time) {
    return time ? json(util::format_rfc3339(*time)) : json();
}

} // namespace

util::Result<AgentOverview> collect_overview(ClusterApi& api, Clock::time_point now) {
    AgentOverview overview;
    auto daemonset = api.get(
        kube::api_path("apps", "v1", "daemonsets", defaults::k_agent_namespace, defaults::k_agent_daemonset));
    if (!daemonset) {
        return std::unexpected(daemonset.error().with_context("reading the agent's DaemonSet"));
    }
    if (*daemonset) {
        const json& ds = **daemonset;
        overview.daemonset_present = true;
        const json& status = member_or_empty(ds, "status");
        overview.desired = integer_at(status, "desiredNumberScheduled");
        overview.ready = integer_at(status, "numberReady");
        const json& pod_spec =
            member_or_empty(member_or_empty(member_or_empty(ds, "spec"), "template"), "spec");
        if (auto containers = pod_spec.find("containers");
            containers != pod_spec.end() && containers->is_array() && !containers->empty()) {
            const json& container = containers->front();
            overview.image = container.value("image", "");
            if (auto args = container.find("args"); args != container.end() && args->is_array()) {
                for (const auto& arg : *args) {
                    if (arg.is_string() && arg.get<std::string>().starts_with("--cilium-version=")) {
                        overview.cilium_flag = arg.get<std::string>().substr(17);
                    }
                }
            }
        }
    }
    probe::LeaseIndex leases;
    auto leased = api.list_each(
        kube::api_path("coordination.k8s.io", "v1", "leases", probe::defaults::k_agent_namespace),
        [&](const json& lease) { leases.add(lease); });
    if (!leased) {
        leases.set_unavailable(leased.error().message);
        overview.leases_problem = leased.error().message;
    }
    auto listed = api.list_metadata(kube::api_path("", "v1", "nodes"), "", [&](const json& item) {
        auto reading = probe::read_node(item, leases, now);
        reading.report.reset(); // status needs the summary only: keep memory per node small
        overview.nodes.push_back(std::move(reading));
    });
    if (!listed) {
        return std::unexpected(listed.error().with_context("listing nodes"));
    }
    std::sort(overview.nodes.begin(), overview.nodes.end(),
              [](const auto& a, const auto& b) { return a.node < b.node; });
    return overview;
}

json to_json(const AgentOverview& overview) {
    json out = json::object();
    if (overview.daemonset_present) {
        out["daemonSet"] = {
            {"namespace", defaults::k_agent_namespace},
            {"name", defaults::k_agent_daemonset},
            {"image", overview.image},
            {"ciliumVersion", overview.cilium_flag.empty() ? json() : json(overview.cilium_flag)},
            {"desired", overview.desired},
            {"ready", overview.ready}};
    } else {
        out["daemonSet"] = nullptr;
    }
    out["leases"] = {{"readable", overview.leases_problem.empty()}};
    if (!overview.leases_problem.empty()) {
        out["leases"]["problem"] = overview.leases_problem;
    }
    json summary = {
        {"total", overview.nodes.size()}, {"fresh", 0}, {"stale", 0}, {"missing", 0}, {"invalid", 0}};
    json nodes = json::array();
    for (const auto& node : overview.nodes) {
        summary[std::string(to_string(node.state))] =
            summary[std::string(to_string(node.state))].get<int>() + 1;
        json entry = {{"name", node.node}, {"report", std::string(to_string(node.state))}};
        if (!node.problem.empty()) {
            entry["problem"] = node.problem;
        }
        if (node.observed_at) {
            entry["observedAt"] = time_or_null(node.observed_at);
            entry["lastSeen"] = time_or_null(node.last_seen);
            entry["ageSeconds"] = node.age_seconds ? json(*node.age_seconds) : json();
            entry["intervalSeconds"] = node.interval.count();
            entry["liveness"] = std::string(to_string(node.liveness));
            if (!node.liveness_note.empty()) {
                entry["livenessNote"] = node.liveness_note;
            }
        }
        entry["kernelReady"] = node.kernel_ready ? json(*node.kernel_ready) : json();
        entry["kernelVersion"] = node.kernel_version ? json(*node.kernel_version) : json();
        entry["ciliumVersion"] = node.cilium_version.empty() ? json() : json(node.cilium_version);
        entry["failing"] = node.failing;
        nodes.push_back(std::move(entry));
    }
    out["summary"] = std::move(summary);
    out["nodes"] = std::move(nodes);
    return out;
}

} // namespace meshlink::plugin::agent
