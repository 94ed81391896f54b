#include "plugin/preflight/node_reports.hpp"

#include "plugin/defaults.hpp"
#include "probe/report.hpp"

#include <fmt/format.h>

namespace meshlink::plugin::preflight {
namespace {

// Cuts `text` to at most `limit` bytes at a UTF-8 character boundary, marking the cut.
void cut(std::string& text, std::size_t limit) {
    if (text.size() <= limit) {
        return;
    }
    std::size_t end = limit;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0U) == 0x80U) {
        --end;
    }
    text.resize(end);
    text += " [...]";
}

} // namespace

NodeReportReader::NodeReportReader(probe::CiliumVersion cilium,
                                   std::function<bool(std::string_view id)> include,
                                   std::chrono::system_clock::time_point now, probe::LeaseIndex leases)
    : m_cilium(cilium), m_include(std::move(include)), m_now(now), m_leases(std::move(leases)) {
    m_reports.leases_problem = m_leases.unavailable_reason();
}

void NodeReportReader::add(const nlohmann::json& node) {
    ++m_reports.total;
    const probe::NodeReading reading = probe::read_node(node, m_leases, m_now);
    const std::string& name = reading.node;
    switch (reading.state) {
    case probe::ReportState::missing:
        m_reports.missing.push_back(name);
        return;
    case probe::ReportState::invalid:
        m_reports.unreadable.emplace_back(name, reading.problem);
        return;
    case probe::ReportState::stale:
        m_reports.stale.push_back(name);
        break;
    case probe::ReportState::fresh:
        ++m_reports.fresh;
        break;
    }
    if (reading.liveness == probe::Liveness::observed_at) {
        ++m_reports.judged_by_observed_at;
    }

    for (const auto& check : verdicts_for(*reading.report)) {
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

const std::vector<Check>& NodeReportReader::verdicts_for(const probe::ReportDocument& report) {
    const util::Sha256 key = probe::facts_digest(report);
    if (auto found = m_verdicts.find(key); found != m_verdicts.end()) {
        return found->second;
    }
    if (m_verdicts.size() >= defaults::k_verdict_cache_entries) {
        m_verdicts.erase(m_verdict_order.front());
        m_verdict_order.pop_front();
    }
    m_verdict_order.push_back(key);
    return m_verdicts.emplace(key, probe_verdicts(report.document)).first->second;
}

std::vector<Check> NodeReportReader::probe_verdicts(const nlohmann::json& document) const {
    std::vector<Check> out;
    const probe::NodeFacts facts = probe::facts_from_json(document);
    for (auto& verdict : probe::evaluate(facts, m_cilium)) {
        if (!m_include || m_include(verdict.id)) {
            Check check = from_probe(std::move(verdict), {});
            // The facts are the node's own text: keep what is quoted of them small.
            cut(check.message, defaults::k_report_message_limit);
            cut(check.hint, defaults::k_report_message_limit);
            out.push_back(std::move(check));
        }
    }
    return out;
}

NodeReportReader::CacheSize NodeReportReader::verdict_cache_size() const {
    CacheSize size;
    size.entries = m_verdicts.size();
    for (const auto& [key, checks] : m_verdicts) {
        size.bytes += key.size();
        for (const auto& check : checks) {
            size.bytes += check.id.size() + check.message.size() + check.hint.size();
        }
    }
    return size;
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
