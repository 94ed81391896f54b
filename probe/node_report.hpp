#pragma once
// The node report: what meshlink-agent publishes about its node, and the one way kubectl-meshlink reads it
// back (preflight and `agent status` both call read_node). Keys, limits and intervals are in
// probe/defaults.hpp; README "What it publishes" describes the format for people.
//
// - The annotation (defaults::k_report_annotation) holds the probe's JSON document (report.hpp) plus
//   "observedAt" (when the probe that found this content ran) and "intervalSeconds" (the agent's period). The
//   agent writes it, and the two labels, only when they change.
// - Liveness is a Lease per node in defaults::k_agent_namespace, renewed every interval and held for
//   k_stale_intervals intervals, as kubelet keeps its node leases: an unchanged report costs no Node write.
// - A report is fresh while its Lease is held or its observedAt is within k_stale_intervals intervals;
//   without a usable Lease (an older agent, Leases not readable) observedAt alone decides.
//
// Every node writes its own annotation, so the reader treats the text as hostile: it bounds size and nesting
// before building a document, checks each field's type, and turns anything else into `invalid` with a reason,
// for that node only. Its arithmetic on times saturates.
//
// This header and node_report.cpp (the reader) avoid <expected>: clang compiles them for the libFuzzer target
// tests/fuzz/fuzz_node_report.cpp. The writer is node_report_write.cpp.

#include "probe/checks.hpp"
#include "probe/defaults.hpp"
#include "probe/report.hpp"
#include "util/digest.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::probe {

using TimePoint = std::chrono::system_clock::time_point;

enum class ReportState {
    fresh,   // the agent was heard from within k_stale_intervals intervals
    stale,   // longer ago: the agent is gone, stuck, or cannot reach the API server
    missing, // no annotation: no agent ran on the node (or it never could publish)
    invalid, // an annotation the reader refuses (the reason says why)
};
std::string_view to_string(ReportState state); // "fresh", "stale", "missing", "invalid"

// The name of `node`'s Lease: k_lease_prefix + the node name, or + 40 hex digits of its SHA-256 when that
// would exceed the 253 characters of an object name.
std::string lease_name(std::string_view node);

// How long a Lease is held: k_stale_intervals intervals, within the int32 the API keeps it in.
std::chrono::seconds lease_duration(std::chrono::seconds interval);

// ---- Writer (meshlink-agent's publish/) ----

// What the agent wants its Node to carry. `document` holds everything but observedAt, so two probes of an
// unchanged node compare equal.
struct NodeReport {
    nlohmann::ordered_json document;           // the probe's document + "intervalSeconds"
    bool kernel_ready = false;                 // no check failed for the configured Cilium version
    std::optional<std::string> kernel_version; // the label value; nullopt: no usable kernel release
    TimePoint observed_at;                     // when the probe ran: the published "observedAt"
};

// Builds it from a probe report; `interval` is the agent's period, published as "intervalSeconds".
NodeReport make_node_report(const Report& report, std::chrono::seconds interval, TimePoint observed_at);

// The annotation text: `report.document` plus "observedAt" (right after "node"), compact. Bytes that are not
// UTF-8 were already replaced by the probe's serializer.
std::string annotation_text(const NodeReport& report);

// The kernel release as a label value, the way Node Feature Discovery writes kernel-version.full: every
// character outside [-A-Za-z0-9_.] becomes '_', then the value is cut to 63 characters and trimmed until it
// starts and ends with an alphanumeric. nullopt when nothing valid is left.
std::optional<std::string> kernel_version_label(std::string_view release);

// True when `value` is a valid label value (empty, or <= 63 characters of [-A-Za-z0-9_.] that start and end
// alphanumeric).
bool is_valid_label_value(std::string_view value);

// A new Lease for `node` (coordination.k8s.io/v1), acquired and renewed at `now`. With `node_uid` it is owned
// by the Node, so the garbage collector deletes it with the Node, as kubelet's node leases are.
nlohmann::json make_lease(std::string_view node, std::string_view node_uid, std::chrono::seconds interval,
                          TimePoint now);

// Renews `lease` (as read from the server, resourceVersion included) for `node` at `now`: renewTime, the
// duration for `interval`, and the holder (a change of holder is an acquisition).
void renew_lease(nlohmann::json& lease, std::string_view node, std::chrono::seconds interval, TimePoint now);

// ---- Reader (kubectl-meshlink: preflight, agent status) ----

struct ReportedCheck {
    std::string id;
    Status status = Status::unknown;
    std::string message; // "" when null or absent
};

// An annotation the reader accepted. Fields of a known type are checked; any other field is ignored (later
// agents may add some within schemaVersion 1).
struct ReportDocument {
    nlohmann::json document;    // the whole document (facts_from_json reads its facts)
    std::string node;           // "node"; "" when null
    std::string cilium_version; // "ciliumVersion"; "" when absent
    TimePoint observed_at;      // "observedAt"
    std::chrono::seconds interval = defaults::k_report_interval; // "intervalSeconds", or this default
    std::vector<ReportedCheck> checks;                           // "checks", in order
};

struct ParsedReport {
    std::optional<ReportDocument> report; // when accepted
    std::string problem; // why not; never quotes the text (it is the node's, and may be huge)
};

// Parses an annotation: at most k_max_report_bytes, nested at most k_max_report_depth deep, a JSON object
// with schemaVersion k_schema_version, observedAt an RFC 3339 time system_clock can hold, intervalSeconds
// (when present) an integer in [k_min_report_interval, k_max_report_interval], node and ciliumVersion
// strings (node may be null), facts an object, checks an array of {id: string, status:
// pass|warn|fail|unknown, message and hint: string or null}.
ParsedReport parse_report(std::string_view text);

// A digest of the report's facts (their compact JSON), for caching what they mean: nodes of one pool report
// the same facts, and a bounded key keeps a cache small whatever a node writes.
util::Sha256 facts_digest(const ReportDocument& report);

// What one Lease says, and why it cannot vouch for a node when it cannot.
struct LeaseRecord {
    std::string holder;                  // spec.holderIdentity
    std::optional<TimePoint> renew_time; // spec.renewTime
    std::int64_t duration_seconds = 0;   // spec.leaseDurationSeconds
    std::string problem;                 // "" when usable (a holder, a renewTime and a positive duration)
};
LeaseRecord read_lease(const nlohmann::json& lease);

// The agents' Leases of one cluster, listed once, looked up by node.
class LeaseIndex {
public:
    // The Leases could not be listed (forbidden, not served, ...): every report is judged by its observedAt,
    // and each node's note says why.
    void set_unavailable(std::string reason);
    // One Lease object from the list; those not named like an agent's Lease are ignored.
    void add(const nlohmann::json& lease);

    [[nodiscard]] bool available() const { return m_unavailable.empty(); }
    [[nodiscard]] const std::string& unavailable_reason() const { return m_unavailable; }
    [[nodiscard]] std::size_t size() const { return m_leases.size(); }
    // `node`'s Lease, or nullptr.
    [[nodiscard]] const LeaseRecord* find(std::string_view node) const;

private:
    std::map<std::string, LeaseRecord, std::less<>> m_leases; // by Lease name
    std::string m_unavailable;
};

enum class Liveness {
    none,        // missing or invalid report
    lease,       // the node's Lease (and observedAt) were judged
    observed_at, // observedAt alone: no usable Lease (the note says why)
};
std::string_view to_string(Liveness liveness); // "none", "lease", "observedAt"

// One Node as the reader sees it.
struct NodeReading {
    std::string node; // metadata.name
    ReportState state = ReportState::missing;
    std::string problem;                     // invalid: why
    Liveness liveness = Liveness::none;      // what freshness was judged by
    std::string liveness_note;               // observed_at: why not the Lease
    std::optional<TimePoint> last_seen;      // the later of the Lease's renewTime and observedAt
    std::optional<std::int64_t> age_seconds; // now - last_seen, never negative, saturated
    std::optional<TimePoint> observed_at;
    std::chrono::seconds interval{0};
    std::optional<bool> kernel_ready;          // the kernel-ready label, when "true" or "false"
    std::optional<std::string> kernel_version; // the kernel-version label, when a valid label value
    std::string cilium_version;                // what the agent judged for
    std::vector<std::string> failing;          // IDs of checks with status fail
    std::optional<ReportDocument> report;      // accepted reports only, for consumers that judge the facts
};

// Reads one Node (a whole object or PartialObjectMetadata: only metadata is read) at `now`, its Lease from
// `leases`. Never throws on any content; a bad report is `invalid` with the reason.
NodeReading read_node(const nlohmann::json& node, const LeaseIndex& leases, TimePoint now);

} // namespace meshlink::probe
