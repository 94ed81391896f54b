// The node report's names and its one reader (node_report.hpp). Compiled by g++ into meshlink_probe and by
// clang into the libFuzzer target tests/fuzz/fuzz_node_report.cpp, so: no <expected>, nothing that throws on
// input, and no recursion over the document before its depth is known to be small.

#include "probe/node_report.hpp"

#include "util/json_depth.hpp"
#include "util/rfc3339.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace meshlink::probe {
namespace {

using json = nlohmann::json;
using std::chrono::seconds;

constexpr std::size_t k_max_label_value = 63;

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_label_char(char c) {
    return is_alnum(c) || c == '-' || c == '_' || c == '.';
}

// Kubernetes object names (DNS subdomains) have at most 253 characters.
constexpr std::size_t k_max_object_name = 253;
constexpr std::size_t k_lease_digest_hex = 40;

const json& member(const json& object, std::string_view key) {
    static const json k_null;
    if (!object.is_object()) {
        return k_null;
    }
    auto it = object.find(key);
    return it == object.end() ? k_null : *it;
}

// Saturating int64 arithmetic: a report or a Lease may carry any number.
std::int64_t add(std::int64_t a, std::int64_t b) {
    std::int64_t out = 0;
    if (__builtin_add_overflow(a, b, &out)) {
        return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
    }
    return out;
}

std::int64_t multiply(std::int64_t a, std::int64_t b) {
    std::int64_t out = 0;
    if (__builtin_mul_overflow(a, b, &out)) {
        return (a < 0) != (b < 0) ? std::numeric_limits<std::int64_t>::min()
                                  : std::numeric_limits<std::int64_t>::max();
    }
    return out;
}

// Whole seconds since the epoch. Every time_point here came from the RFC 3339 parser or the clock, so it is
// well inside int64 seconds and differences of two of them cannot overflow.
std::int64_t epoch_seconds(TimePoint time) {
    return std::chrono::floor<seconds>(time).time_since_epoch().count();
}

// Too large, or nested too deep, judged on the text before any document is built (util/json_depth.hpp).
std::string shape_problem(std::string_view text) {
    if (text.size() > defaults::k_max_report_bytes) {
        return fmt::format("the annotation has {} bytes, more than the {} a report may have", text.size(),
                           defaults::k_max_report_bytes);
    }
    if (util::json_nested_deeper_than(text, defaults::k_max_report_depth)) {
        return fmt::format("the annotation is nested more than {} levels deep", defaults::k_max_report_depth);
    }
    return {};
}

// "a string", "an object", ... for messages that name what was found without quoting it.
std::string kind_of(const json& value) {
    if (value.is_number_float()) {
        return "a fractional number";
    }
    const std::string_view name = value.type_name();
    const bool vowel =
        !name.empty() && std::string_view("aeiou").find(name.front()) != std::string_view::npos;
    return fmt::format("{} {}", vowel ? "an" : "a", name);
}

// An optional string field: absent (or null when `nullable`) gives "", another type a problem.
bool optional_string(const json& document, std::string_view key, bool nullable, std::string& out,
                     std::string& problem) {
    const json& value = member(document, key);
    if (value.is_null() && (nullable || !document.contains(key))) {
        return true;
    }
    if (!value.is_string()) {
        problem = fmt::format("{}: want a string, got {}", key, kind_of(value));
        return false;
    }
    out = value.get<std::string>();
    return true;
}

// The integer `value` when it is one within [low, high]; nlohmann keeps non-negative numbers unsigned.
std::optional<std::int64_t> integer_in(const json& value, std::int64_t low, std::int64_t high) {
    if (value.is_number_unsigned()) {
        const auto number = value.get<std::uint64_t>();
        if (high >= 0 && number <= static_cast<std::uint64_t>(high) &&
            (low <= 0 || number >= static_cast<std::uint64_t>(low))) {
            return static_cast<std::int64_t>(number);
        }
        return std::nullopt;
    }
    if (value.is_number_integer()) {
        const auto number = value.get<std::int64_t>();
        if (number >= low && number <= high) {
            return number;
        }
    }
    return std::nullopt;
}

// The integer as it was written (int64 or uint64), for messages.
std::string integer_text(const json& value) {
    return value.is_number_unsigned() ? std::to_string(value.get<std::uint64_t>())
                                      : std::to_string(value.get<std::int64_t>());
}

bool read_checks(const json& document, std::vector<ReportedCheck>& out, std::string& problem) {
    const json& checks = member(document, "checks");
    if (checks.is_null() && !document.contains("checks")) {
        return true;
    }
    if (!checks.is_array()) {
        problem = fmt::format("checks: want an array, got {}", kind_of(checks));
        return false;
    }
    out.reserve(checks.size());
    for (std::size_t i = 0; i < checks.size(); ++i) {
        const json& check = checks[i];
        if (!check.is_object()) {
            problem = fmt::format("checks[{}]: want an object, got {}", i, kind_of(check));
            return false;
        }
        const json& id = member(check, "id");
        if (!id.is_string()) {
            problem = fmt::format("checks[{}].id: want a string, got {}", i, kind_of(id));
            return false;
        }
        const json& status = member(check, "status");
        const auto parsed =
            status.is_string() ? parse_status(status.get_ref<const std::string&>()) : std::optional<Status>();
        if (!parsed) {
            problem = status.is_string()
                          ? fmt::format("checks[{}].status: want pass, warn, fail or unknown", i)
                          : fmt::format("checks[{}].status: want a string, got {}", i, kind_of(status));
            return false;
        }
        for (const char* key : {"message", "hint"}) {
            const json& text = member(check, key);
            if (!text.is_null() && !text.is_string()) {
                problem = fmt::format("checks[{}].{}: want a string or null, got {}", i, key, kind_of(text));
                return false;
            }
        }
        const json& message = member(check, "message");
        out.push_back(ReportedCheck{id.get<std::string>(), *parsed,
                                    message.is_string() ? message.get<std::string>() : std::string()});
    }
    return true;
}

// The fields of a document that passed the shape test; a problem otherwise.
ParsedReport read_document(json document) {
    ParsedReport out;
    std::string& problem = out.problem;
    if (!document.is_object()) {
        problem = fmt::format("the annotation is {}, not a JSON object", kind_of(document));
        return out;
    }
    const json& schema = member(document, "schemaVersion");
    if (!schema.is_number_integer()) {
        problem = schema.is_null() ? std::string("the report has no schemaVersion")
                                   : fmt::format("schemaVersion: want a number, got {}", kind_of(schema));
        return out;
    }
    if (!integer_in(schema, k_schema_version, k_schema_version)) {
        problem =
            fmt::format("schemaVersion {} is not {} (the agent and this plugin are of different versions)",
                        integer_text(schema), k_schema_version);
        return out;
    }

    ReportDocument report;
    const json& stamp = member(document, "observedAt");
    if (!stamp.is_string()) {
        problem = stamp.is_null() ? std::string("the report has no observedAt")
                                  : fmt::format("observedAt: want a string, got {}", kind_of(stamp));
        return out;
    }
    const auto observed = util::parse_rfc3339_time(stamp.get_ref<const std::string&>());
    if (!observed) {
        problem = "observedAt is not an RFC 3339 time (e.g. 2024-05-01T12:51:30Z) between 1678 and 2261";
        return out;
    }
    report.observed_at = *observed;

    const json& interval = member(document, "intervalSeconds");
    if (!interval.is_null() || document.contains("intervalSeconds")) {
        if (!interval.is_number_integer()) {
            problem =
                fmt::format("intervalSeconds: want a whole number of seconds, got {}", kind_of(interval));
            return out;
        }
        const std::int64_t low = defaults::k_min_report_interval.count();
        const std::int64_t high = defaults::k_max_report_interval.count();
        const auto value = integer_in(interval, low, high);
        if (!value) {
            problem = fmt::format("intervalSeconds {} is outside {}..{} (no agent probes that often or that "
                                  "rarely)",
                                  integer_text(interval), low, high);
            return out;
        }
        report.interval = seconds(*value);
    }

    if (!optional_string(document, "node", true, report.node, problem) ||
        !optional_string(document, "ciliumVersion", false, report.cilium_version, problem)) {
        return out;
    }
    const json& facts = member(document, "facts");
    if (document.contains("facts") && !facts.is_object()) {
        problem = fmt::format("facts: want an object, got {}", kind_of(facts));
        return out;
    }
    if (!read_checks(document, report.checks, problem)) {
        return out;
    }
    report.document = std::move(document);
    out.report = std::move(report);
    return out;
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
    return "invalid";
}

std::string_view to_string(Liveness liveness) {
    switch (liveness) {
    case Liveness::none:
        return "none";
    case Liveness::lease:
        return "lease";
    case Liveness::observed_at:
        return "observedAt";
    }
    return "none";
}

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

std::string lease_name(std::string_view node) {
    std::string name(defaults::k_lease_prefix);
    if (name.size() + node.size() <= k_max_object_name) {
        return name.append(node);
    }
    return name.append(util::to_hex(util::sha256(node)).substr(0, k_lease_digest_hex));
}

seconds lease_duration(seconds interval) {
    const std::int64_t held = multiply(interval.count(), defaults::k_stale_intervals);
    return seconds(std::clamp<std::int64_t>(held, 1, std::numeric_limits<std::int32_t>::max()));
}

ParsedReport parse_report(std::string_view text) {
    if (auto problem = shape_problem(text); !problem.empty()) {
        return ParsedReport{std::nullopt, std::move(problem)};
    }
    json document = json::parse(text, nullptr, false);
    if (document.is_discarded()) {
        return ParsedReport{std::nullopt, "the annotation is not JSON"};
    }
    return read_document(std::move(document));
}

util::Sha256 facts_digest(const ReportDocument& report) {
    const json& facts = member(report.document, "facts");
    return util::sha256(facts.dump(-1, ' ', false, json::error_handler_t::replace));
}

LeaseRecord read_lease(const json& lease) {
    LeaseRecord out;
    const json& spec = member(lease, "spec");
    if (!spec.is_object()) {
        out.problem = "the Lease has no spec";
        return out;
    }
    const json& holder = member(spec, "holderIdentity");
    if (!holder.is_string()) {
        out.problem = "the Lease has no spec.holderIdentity";
        return out;
    }
    out.holder = holder.get<std::string>();
    const json& renewed = member(spec, "renewTime");
    if (renewed.is_string()) {
        out.renew_time = util::parse_rfc3339_time(renewed.get_ref<const std::string&>());
    }
    if (!out.renew_time) {
        out.problem = "the Lease's spec.renewTime is missing or not a time";
        return out;
    }
    const auto duration =
        integer_in(member(spec, "leaseDurationSeconds"), 1, std::numeric_limits<std::int32_t>::max());
    if (!duration) {
        out.problem = "the Lease's spec.leaseDurationSeconds is missing or not a positive number";
        return out;
    }
    out.duration_seconds = *duration;
    return out;
}

void LeaseIndex::set_unavailable(std::string reason) {
    m_unavailable = reason.empty() ? std::string("not listed") : std::move(reason);
}

void LeaseIndex::add(const json& lease) {
    const json& name = member(member(lease, "metadata"), "name");
    if (!name.is_string() || !name.get_ref<const std::string&>().starts_with(defaults::k_lease_prefix)) {
        return;
    }
    m_leases[name.get<std::string>()] = read_lease(lease);
}

const LeaseRecord* LeaseIndex::find(std::string_view node) const {
    if (!available()) {
        return nullptr;
    }
    auto it = m_leases.find(lease_name(node));
    return it == m_leases.end() ? nullptr : &it->second;
}

NodeReading read_node(const json& node, const LeaseIndex& leases, TimePoint now) {
    NodeReading out;
    const json& metadata = member(node, "metadata");
    const json& name = member(metadata, "name");
    out.node = name.is_string() ? name.get<std::string>() : std::string("(unnamed)");

    const json& labels = member(metadata, "labels");
    const json& ready = member(labels, defaults::k_kernel_ready_label);
    if (ready.is_string() && (ready == "true" || ready == "false")) {
        out.kernel_ready = ready == "true";
    }
    const json& version = member(labels, defaults::k_kernel_version_label);
    if (version.is_string() && is_valid_label_value(version.get_ref<const std::string&>())) {
        out.kernel_version = version.get<std::string>();
    }

    const json& annotation = member(member(metadata, "annotations"), defaults::k_report_annotation);
    if (annotation.is_null()) {
        out.state = ReportState::missing;
        return out;
    }
    if (!annotation.is_string()) {
        out.state = ReportState::invalid;
        out.problem = fmt::format("the annotation is {}, not a string", kind_of(annotation));
        return out;
    }
    auto parsed = parse_report(annotation.get_ref<const std::string&>());
    if (!parsed.report) {
        out.state = ReportState::invalid;
        out.problem = std::move(parsed.problem);
        return out;
    }
    ReportDocument& report = *parsed.report;
    if (!report.node.empty() && report.node != out.node) {
        out.state = ReportState::invalid;
        out.problem = "the report is about another node (its \"node\" is not this Node's name)";
        return out;
    }
    out.observed_at = report.observed_at;
    out.interval = report.interval;
    out.cilium_version = report.cilium_version;
    for (const auto& check : report.checks) {
        if (check.status == Status::fail) {
            out.failing.push_back(check.id);
        }
    }

    // The staleness rule (node_report.hpp).
    const std::int64_t now_s = epoch_seconds(now);
    const std::int64_t observed_s = epoch_seconds(report.observed_at);
    const bool observed_fresh =
        now_s - observed_s <= multiply(report.interval.count(), defaults::k_stale_intervals);
    std::int64_t seen_s = observed_s;
    const LeaseRecord* lease = leases.find(out.node);
    if (!leases.available()) {
        out.liveness_note = "Leases not readable: " + leases.unavailable_reason();
    } else if (lease == nullptr) {
        out.liveness_note = "no Lease (an agent older than this plugin, or the Lease was deleted)";
    } else if (!lease->problem.empty()) {
        out.liveness_note = lease->problem;
    } else if (lease->holder != out.node) {
        out.liveness_note = "the Lease is held by another identity";
    }
    bool fresh = observed_fresh;
    if (out.liveness_note.empty()) {
        out.liveness = Liveness::lease;
        const std::int64_t renewed_s = epoch_seconds(*lease->renew_time);
        fresh = fresh || now_s <= add(renewed_s, lease->duration_seconds);
        if (renewed_s > observed_s) {
            seen_s = renewed_s;
            out.last_seen = lease->renew_time;
        } else {
            out.last_seen = report.observed_at;
        }
    } else {
        out.liveness = Liveness::observed_at;
        out.last_seen = report.observed_at;
    }
    out.age_seconds = std::max<std::int64_t>(0, now_s - seen_s);
    out.state = fresh ? ReportState::fresh : ReportState::stale;
    out.report = std::move(report);
    return out;
}

} // namespace meshlink::probe
