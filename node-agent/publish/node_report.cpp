#include "node-agent/publish/node_report.hpp"

#include "probe/checks.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <ctime>

namespace meshlink::agent::publish {
namespace {

constexpr std::size_t k_max_label_value = 63;

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_label_char(char c) {
    return is_alnum(c) || c == '-' || c == '_' || c == '.';
}

// Where the two publisher-owned fields go: right after "node", so a person reading the annotation sees
// whose report it is and how old it is before the facts.
constexpr std::string_view k_anchor_key = "node";

} // namespace

std::optional<std::string> kernel_version_label(std::string_view release) {
    std::string value;
    value.reserve(release.size());
    for (char c : release) {
        value.push_back(is_label_char(c) ? c : '_');
    }
    // Cut first, then trim: a cut can leave a '-' or '.' at the end, which the trim then removes.
    if (value.size() > k_max_label_value) {
        value.resize(k_max_label_value);
    }
    std::size_t begin = 0;
    while (begin < value.size() && !is_alnum(value[begin])) {
        ++begin;
    }
    std::size_t end = value.size();
    while (end > begin && !is_alnum(value[end - 1])) {
        --end;
    }
    if (begin == end) {
        return std::nullopt;
    }
    return value.substr(begin, end - begin);
}

bool is_valid_label_value(std::string_view value) {
    if (value.empty()) {
        return true;
    }
    if (value.size() > k_max_label_value || !is_alnum(value.front()) || !is_alnum(value.back())) {
        return false;
    }
    for (char c : value) {
        if (!is_label_char(c)) {
            return false;
        }
    }
    return true;
}

NodeReport make_node_report(const probe::Report& report, std::chrono::seconds interval,
                            std::chrono::system_clock::time_point observed_at) {
    // Through the text: the serializer replaces bytes that are not UTF-8, and the parsed form is exactly
    // what a reader of the annotation gets back, so "unchanged" compares like with like.
    const auto probed = nlohmann::ordered_json::parse(probe::to_json_text(report));
    NodeReport out;
    out.document = nlohmann::ordered_json::object();
    for (const auto& [key, value] : probed.items()) {
        out.document[key] = value;
        if (key == k_anchor_key) {
            out.document["intervalSeconds"] = interval.count();
        }
    }
    if (!out.document.contains("intervalSeconds")) {
        out.document["intervalSeconds"] = interval.count();
    }
    out.kernel_ready = !probe::any_failed(report.checks);
    out.kernel_version = kernel_version_label(report.facts.kernel.release);
    out.observed_at = observed_at;
    return out;
}

std::string annotation_text(const NodeReport& report, std::chrono::system_clock::time_point observed_at) {
    nlohmann::ordered_json document = nlohmann::ordered_json::object();
    bool placed = false;
    for (const auto& [key, value] : report.document.items()) {
        document[key] = value;
        if (key == k_anchor_key) {
            document["observedAt"] = util::format_rfc3339(observed_at);
            placed = true;
        }
    }
    if (!placed) {
        document["observedAt"] = util::format_rfc3339(observed_at);
    }
    return document.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

} // namespace meshlink::agent::publish
