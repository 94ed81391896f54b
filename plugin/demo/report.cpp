#include "plugin/demo/report.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshlink::plugin::demo {
namespace {

using Tone = util::Terminal::Tone;

std::string padded(std::string text, std::size_t width) {
    if (text.size() < width) {
        text.resize(width, ' ');
    }
    return text;
}

std::string counts(const std::map<std::string, int>& by) {
    std::string out;
    for (const auto& [key, count] : by) {
        out += fmt::format("{}{}: {}", out.empty() ? "" : ", ", key, count);
    }
    return out.empty() ? "none" : out;
}

std::string pods_column(const DirectionResult& d) {
    if (!d.ran) {
        return "-";
    }
    const auto ok = std::count_if(d.pods.begin(), d.pods.end(), [](const PodResult& p) { return p.ok; });
    return fmt::format("{}/{} answered", ok, d.pods.size());
}

} // namespace

std::string render_table(const DemoReport& report, const util::Terminal& term) {
    std::string out = term.paint(Tone::bold, "CHECKS") + "\n";
    std::size_t id_width = 0;
    std::size_t cluster_width = 0;
    for (const auto& f : report.findings) {
        id_width = std::max(id_width, f.id.size());
        cluster_width = std::max(cluster_width, f.cluster.size());
    }
    for (const auto& f : report.findings) {
        out += fmt::format("  {}  {}  {}  {}\n", term.status_mark(f.status), padded(f.id, id_width),
                           padded(f.cluster, cluster_width), f.message);
    }
    out += "\n" +
           term.paint(
               Tone::bold,
               fmt::format(
                   "TRAFFIC ({} requests to Service rebel-base and {} to each remote rebel-base Pod, from a "
                   "Job in each cluster)",
                   report.requests, report.pod_requests)) +
           "\n";
    std::size_t from_width = 4;
    std::size_t replies_width = 15;
    for (const auto& d : report.directions) {
        from_width = std::max(from_width, d.from.size());
        replies_width = std::max(replies_width, counts(d.replies).size());
    }
    out += fmt::format("  {}  {}  {}  {}  {}\n", padded("FROM", from_width), padded("RESULT", 6),
                       padded("SERVICE REPLIES", replies_width), padded("REMOTE POD IPS", 14), "ERRORS");
    for (const auto& d : report.directions) {
        out += fmt::format("  {}  {}  {}  {}  {}\n", padded(d.from, from_width),
                           term.paint(d.pass ? Tone::good : Tone::bad, padded(d.pass ? "pass" : "FAIL", 6)),
                           padded(d.ran ? counts(d.replies) : "-", replies_width), padded(pods_column(d), 14),
                           d.ran ? counts(d.errors) : "-");
    }
    for (const auto& d : report.directions) {
        for (const auto& cause : d.causes) {
            out += fmt::format("\n  {} ({}): {}\n", d.from, cause.kind, cause.message);
            if (!cause.hint.empty()) {
                out += "    " + term.paint(Tone::dim, (term.unicode ? "→ " : "-> ") + cause.hint) + "\n";
            }
        }
    }
    std::string names;
    for (const auto& name : report.clusters) {
        names += (names.empty() ? "" : ", ") + name;
    }
    out += "\n" +
           (report.pass
                ? term.paint(Tone::good, "verified") +
                      fmt::format(": {} reach each other through the global Service rebel-base, and every "
                                  "remote rebel-base Pod answered\n",
                                  names)
                : term.paint(Tone::bad, "failed") +
                      ": not every cluster got replies from every other one (causes above)\n");
    return out;
}

nlohmann::json render_json(const DemoReport& report) {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : report.findings) {
        findings.push_back(to_json(f));
    }
    nlohmann::json directions = nlohmann::json::array();
    for (const auto& d : report.directions) {
        directions.push_back(to_json(d));
    }
    return {{"schemaVersion", 1},          {"result", report.pass ? "pass" : "fail"},
            {"namespace", report.ns},      {"clusters", report.clusters},
            {"requests", report.requests}, {"podRequests", report.pod_requests},
            {"checks", findings},          {"directions", directions}};
}

std::string summary_line(const DemoReport& report) {
    std::string out;
    for (const auto& d : report.directions) {
        std::string replies;
        for (const auto& [who, count] : d.replies) {
            replies += fmt::format("{}{} {}", replies.empty() ? "" : ", ", who, count);
        }
        out += fmt::format("{}{}: {}", out.empty() ? "" : "; ", d.from,
                           d.ran ? (replies.empty() ? "no replies" : replies) : "did not run");
    }
    for (const auto& d : report.directions) {
        if (!d.causes.empty()) {
            out += fmt::format(" ({} {}: {})", d.from, d.causes.front().kind, d.causes.front().message);
            break;
        }
    }
    return out;
}

} // namespace meshlink::plugin::demo
