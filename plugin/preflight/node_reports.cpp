#include "plugin/preflight/node_reports.hpp"

#include "node-agent/probe/checks.hpp"
#include "node-agent/probe/report.hpp"
#include "plugin/defaults.hpp"
#include "plugin/preflight/json_path.hpp"

#include <fmt/format.h>

#include <charconv>
#include <ctime>

namespace meshlink::plugin::preflight {
namespace {

namespace probe = agent::probe;

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

bool digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
    if (pos + count > text.size()) {
        return false;
    }
    const auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + count, out);
    return ec == std::errc() && end == text.data() + pos + count;
}

} // namespace

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (text.size() < 20 || !digits(text, 0, 4, year) || text[4] != '-' || !digits(text, 5, 2, month) ||
        text[7] != '-' || !digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't') ||
        !digits(text, 11, 2, hour) || text[13] != ':' || !digits(text, 14, 2, minute) || text[16] != ':' ||
        !digits(text, 17, 2, second)) {
        return std::nullopt;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    std::chrono::nanoseconds fraction{0};
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        long long scale = 100'000'000;
        const std::size_t start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            fraction += std::chrono::nanoseconds((text[pos] - '0') * scale);
            scale /= 10;
            ++pos;
        }
        if (pos == start) {
            return std::nullopt;
        }
    }
    int offset_minutes = 0;
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
        ++pos;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        int oh = 0, om = 0;
        if (!digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
            !digits(text, pos + 4, 2, om)) {
            return std::nullopt;
        }
        offset_minutes = (text[pos] == '-' ? -1 : 1) * (oh * 60 + om);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != text.size()) {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    const std::time_t seconds = ::timegm(&tm);
    return std::chrono::system_clock::from_time_t(seconds) - std::chrono::minutes(offset_minutes) +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(fraction);
}

NodeReportReader::NodeReportReader(agent::probe::CiliumVersion cilium,
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
        observed = parse_rfc3339(it->get_ref<const std::string&>());
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
