#include "plugin/preflight/output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace meshlink::plugin::preflight {
namespace {

using Tone = util::Terminal::Tone;

Tone tone(Status status) {
    switch (status) {
    case Status::pass:
        return Tone::good;
    case Status::warn:
        return Tone::warn;
    case Status::fail:
        return Tone::bad;
    case Status::unknown:
        return Tone::dim;
    }
    return Tone::plain;
}

std::string padded(std::string text, std::size_t width) {
    if (text.size() < width) {
        text.resize(width, ' ');
    }
    return text;
}

} // namespace

void print_table(const std::vector<Check>& checks, const util::Terminal& term, std::ostream& out) {
    std::size_t id_width = 0;
    std::size_t cluster_width = 0;
    // Messages quote what clusters and nodes wrote (node reports above all): printed escaped.
    std::vector<std::array<std::string, 4>> cells; // id, cluster, message, hint
    cells.reserve(checks.size());
    for (const auto& check : checks) {
        cells.push_back({util::printable(check.id), util::printable(check.cluster),
                         util::printable(check.message), util::printable(check.hint)});
        id_width = std::max(id_width, cells.back()[0].size());
        cluster_width = std::max(cluster_width, cells.back()[1].size());
    }
    // The mark is one column wide with symbols and six ("[pass]") without.
    const std::string indent(2 + (term.unicode ? 1 : 6) + 2 + id_width + 2 + cluster_width + 2, ' ');
    std::array<int, 4> counts{};
    bool first = true;
    for (Scope scope : {Scope::kubeconfig, Scope::cluster, Scope::mesh, Scope::node}) {
        bool header = false;
        for (std::size_t i = 0; i < checks.size(); ++i) {
            const auto& check = checks[i];
            const auto& [id, cluster, message, hint] = cells[i];
            if (check.scope != scope) {
                continue;
            }
            if (!header) {
                if (!first) {
                    out << "\n";
                }
                std::string title(to_string(scope));
                std::transform(title.begin(), title.end(), title.begin(),
                               [](unsigned char c) { return std::toupper(c); });
                out << term.paint(Tone::bold, title) << "\n";
                header = true;
                first = false;
            }
            ++counts[static_cast<std::size_t>(check.status)];
            out << "  " << term.status_mark(to_string(check.status)) << "  " << padded(id, id_width) << "  "
                << padded(cluster, cluster_width) << "  " << message << "\n";
            if (check.nodes && check.nodes->total > 1 && check.status != Status::pass) {
                const auto& n = *check.nodes;
                out << indent
                    << term.paint(Tone::dim,
                                  fmt::format("nodes: {} total, {} pass, {} warn, {} fail, {} unknown, {} "
                                              "missing",
                                              n.total, n.pass, n.warn, n.fail, n.unknown, n.missing))
                    << "\n";
            }
            if (!hint.empty() && check.status != Status::pass) {
                out << indent << term.paint(Tone::dim, (term.unicode ? "→ " : "-> ") + hint) << "\n";
            }
        }
    }
    const bool failed = counts[static_cast<std::size_t>(Status::fail)] > 0;
    out << "\n"
        << term.paint(failed ? Tone::bad : Tone::good, failed ? "Preflight failed" : "Preflight passed")
        << ": " << term.paint(tone(Status::pass), fmt::format("{} passed", counts[0])) << ", "
        << term.paint(tone(Status::warn), fmt::format("{} warning{}", counts[1], counts[1] == 1 ? "" : "s"))
        << ", " << term.paint(tone(Status::fail), fmt::format("{} failed", counts[2])) << ", "
        << fmt::format("{} unknown", counts[3]) << "\n";
}

} // namespace meshlink::plugin::preflight
