#include "plugin/agent/node_reports.hpp"

#include "kube/exec_credential.hpp"
#include "plugin/defaults.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

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

} // namespace

std::string_view to_string(ReportState state) {
    switch (state) {
    case ReportState::fresh:
        return "fresh";
    case ReportState::stale:
        return "stale";
    case ReportState::missing:
        return "missing";
    case ReportState::invalid:
        return "invalid";
    }
    return "missing";
}

NodeReportStatus classify_node(const json& metadata, Clock::time_point now) {
    NodeReportStatus status;
    status.node = metadata.value("name", "");
    const json& labels = member_or_empty(metadata, "labels");
    const json& annotations = member_or_empty(metadata, "annotations");
    if (auto it = labels.find(std::string(defaults::k_kernel_ready_label));
        it != labels.end() && it->is_string()) {
        if (*it == "true" || *it == "false") {
            status.kernel_ready = *it == "true";
        }
    }
    if (auto it = labels.find(std::string(defaults::k_kernel_version_label));
        it != labels.end() && it->is_string()) {
        status.kernel_version = it->get<std::string>();
    }
    status.interval = defaults::k_node_report_default_interval;

    auto it = annotations.find(std::string(defaults::k_node_report_annotation));
    if (it == annotations.end() || !it->is_string()) {
        status.state = ReportState::missing;
        return status;
    }
    const json document = json::parse(it->get<std::string>(), nullptr, false);
    if (document.is_discarded() || !document.is_object()) {
        status.state = ReportState::invalid;
        status.problem = "the annotation is not a JSON object";
        return status;
    }
    if (auto interval = document.find("intervalSeconds");
        interval != document.end() && interval->is_number_integer() && interval->get<std::int64_t>() > 0) {
        status.interval = std::chrono::seconds(interval->get<std::int64_t>());
    }
    status.cilium_version = document.value("ciliumVersion", "");
    if (auto checks = document.find("checks"); checks != document.end() && checks->is_array()) {
        for (const auto& check : *checks) {
            if (check.is_object() && check.value("status", "") == "fail") {
                status.failing.push_back(check.value("id", ""));
            }
        }
    }
    const auto stamp = document.find("observedAt");
    if (stamp == document.end() || !stamp->is_string()) {
        status.state = ReportState::invalid;
        status.problem = "the report has no observedAt";
        return status;
    }
    auto observed = util::parse_rfc3339(stamp->get<std::string>());
    if (!observed) {
        status.state = ReportState::invalid;
        status.problem = observed.error().message;
        return status;
    }
    status.observed_at = *observed;
    status.state = now - *observed > defaults::k_node_report_stale_intervals * status.interval
                       ? ReportState::stale
                       : ReportState::fresh;
    return status;
}

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
    auto listed = api.list_metadata(kube::api_path("", "v1", "nodes"), "", [&](const json& item) {
        overview.nodes.push_back(classify_node(member_or_empty(item, "metadata"), now));
    });
    if (!listed) {
        return std::unexpected(listed.error().with_context("listing nodes"));
    }
    std::sort(overview.nodes.begin(), overview.nodes.end(),
              [](const auto& a, const auto& b) { return a.node < b.node; });
    return overview;
}

json to_json(const AgentOverview& overview, Clock::time_point now) {
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
            entry["observedAt"] = util::format_rfc3339(*node.observed_at);
            entry["ageSeconds"] =
                std::chrono::duration_cast<std::chrono::seconds>(now - *node.observed_at).count();
            entry["intervalSeconds"] = node.interval.count();
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
