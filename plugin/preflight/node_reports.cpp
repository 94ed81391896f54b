#include "plugin/preflight/node_reports.hpp"

#include "plugin/defaults.hpp"
#include "probe/checks.hpp"
#include "probe/report.hpp"
#include "util/json_path.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <charconv>
#include <ctime>

namespace meshlink::plugin::preflight {
namespace json_path = util::json_path;
namespace {

Status from_probe(probe::Status status) {
    switch (status) {
    case probe::Status::pass:
        return Status::pass;
    case probe::Status::warn:
        return Status::warn;
    case probe::Status::fail:
        return Status::fail;
    case probe::Status::unknown:
        return Status::unknown;
    }
    return Status::unknown;
}

} // namespace

NodeReportReader::NodeReportReader(probe::CiliumVersion cilium,
                                   std::function<bool(std::string_view id)> include,
                                   std::chrono::system_clock::time_point now)
    : m_cilium(cilium), m_include(std::move(include)), m_now(now) {}

void NodeReportReader::add(const nlohmann::json& node) {
    ++m_reports.total;
    const std::string name = json_path::string_at(node, {"metadata", "name"}, "(unnamed)");
    const nlohmann::json* text =
        json_path::find(node, {"metadata", "annotations", defaults::k_node_report_annotation});
    if (text == nullptr || !text->is_string()) {
        m_reports.missing.push_back(name);
        return;
    }
    auto doc = nlohmann::json::parse(text->get_ref<const std::string&>(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        m_reports.unreadable.emplace_back(name, "the annotation is not a JSON object");
        return;
    }
    if (json_path::int_at(doc, {"schemaVersion"}, -1) != probe::k_schema_version) {
        m_reports.unreadable.emplace_back(
            name,
            fmt::format("schemaVersion {} is not {} (agent and plugin versions differ)",
                        doc.contains("schemaVersion") ? doc["schemaVersion"].dump() : std::string("missing"),
                        probe::k_schema_version));
        return;
    }

    std::chrono::seconds interval = defaults::k_node_report_default_interval;
    if (auto it = doc.find("intervalSeconds");
        it != doc.end() && it->is_number_integer() && it->get<long long>() > 0) {
        interval = std::chrono::seconds(it->get<long long>());
    }
    std::optional<std::chrono::system_clock::time_point> observed;
    if (auto it = doc.find("observedAt"); it != doc.end() && it->is_string()) {
        if (auto parsed = util::parse_rfc3339(it->get_ref<const std::string&>())) {
            observed = *parsed;
        }
    }
    // Without a readable time a report cannot prove it is fresh; `agent status` calls it invalid too.
    if (!observed) {
        m_reports.unreadable.emplace_back(name, "no readable observedAt (RFC 3339)");
        return;
    }
    if (m_now - *observed > defaults::k_node_report_stale_intervals * interval) {
        m_reports.stale.push_back(name);
    } else {
        ++m_reports.fresh;
    }

    const auto facts = doc.find("facts");
    const std::string key = facts == doc.end() ? std::string() : facts->dump();
    auto verdicts = m_verdicts.find(key);
    if (verdicts == m_verdicts.end()) {
        verdicts = m_verdicts.emplace(key, probe_verdicts(doc)).first;
    }
    for (const auto& check : verdicts->second) {
        auto index = m_index.find(check.id);
        if (index == m_index.end()) {
            index = m_index.emplace(check.id, m_reports.checks.size()).first;
            m_reports.checks.push_back(NodeCheckTally{check.id, {}, Status::pass, {}, {}, {}});
        }
        auto& tally = m_reports.checks[index->second];
        switch (check.status) {
        case Status::pass:
            ++tally.counts.pass;
            break;
        case Status::warn:
            ++tally.counts.warn;
            break;
        case Status::fail:
            ++tally.counts.fail;
            tally.counts.failing.push_back(name);
            break;
        case Status::unknown:
            ++tally.counts.unknown;
            break;
        }
        if (tally.worst_node.empty() || severity(check.status) > severity(tally.worst)) {
            tally.worst = check.status;
            tally.worst_node = name;
            tally.worst_message = check.message;
            tally.worst_hint = check.hint;
        }
    }
}

std::vector<Check> NodeReportReader::probe_verdicts(const nlohmann::json& doc) const {
    std::vector<Check> out;
    const probe::NodeFacts facts = probe::facts_from_json(doc);
    for (auto& check : probe::evaluate(facts, m_cilium)) {
        if (!m_include || m_include(check.id)) {
            out.push_back(Check{std::move(check.id),
                                Scope::node,
                                {},
                                from_probe(check.status),
                                std::move(check.message),
                                std::move(check.hint),
                                std::nullopt});
        }
    }
    return out;
}

NodeReports NodeReportReader::finish() {
    for (auto& tally : m_reports.checks) {
        // Nodes without a usable report, or whose report has no verdict for this check (an older agent).
        auto& c = tally.counts;
        c.total = m_reports.total;
        c.missing = c.total - c.pass - c.warn - c.fail - c.unknown;
    }
    return std::move(m_reports);
}

} // namespace meshlink::plugin::preflight
