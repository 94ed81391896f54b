#pragma once
// What the agent publishes on its own Node, computed from a probe report: the annotation's document (the
// probe's JSON plus "observedAt" and "intervalSeconds") and the two labels. Pure functions, no I/O: the
// publisher (publisher.hpp) compares this with what the Node carries and patches the difference.

#include "probe/report.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace meshlink::agent::publish {

// The desired state of the Node's report. `document` holds everything but observedAt, which the publisher
// adds when it writes, so two reports of an unchanged node compare equal.
struct NodeReport {
    nlohmann::ordered_json document;                   // the probe's document + "intervalSeconds"
    bool kernel_ready = false;                         // no check failed for the configured Cilium version
    std::optional<std::string> kernel_version;         // the label value; nullopt: no usable kernel release
    std::chrono::system_clock::time_point observed_at; // when the probe ran: the published "observedAt"
};

// Builds the desired state. `interval` is the agent's probe period, published as "intervalSeconds" so readers
// can tell a stale report (preflight: older than three intervals) from a fresh one.
NodeReport make_node_report(const probe::Report& report, std::chrono::seconds interval,
                            std::chrono::system_clock::time_point observed_at);

// The kernel release as a label value, the way Node Feature Discovery writes kernel-version.full: every
// character outside [-A-Za-z0-9_.] becomes '_', then the value is cut to 63 characters and trimmed until it
// starts and ends with an alphanumeric. nullopt when nothing valid is left.
std::optional<std::string> kernel_version_label(std::string_view release);

// True when `value` is a valid label value (empty, or <= 63 characters of [-A-Za-z0-9_.] that start and end
// alphanumeric).
bool is_valid_label_value(std::string_view value);

// The annotation text: `report.document` plus "observedAt" = `observed_at` (right after "node"), compact.
// Bytes that are not UTF-8 were already replaced by the probe's serializer.
std::string annotation_text(const NodeReport& report, std::chrono::system_clock::time_point observed_at);
inline std::string annotation_text(const NodeReport& report) {
    return annotation_text(report, report.observed_at);
}

} // namespace meshlink::agent::publish
