// libFuzzer target for the node-report reader (probe/node_report.hpp): every node writes its own annotation,
// so the reader must survive anything. Built with clang by run-fuzz.sh (CTest fuzz_node_report).
//
// The input is used as an annotation, as a Lease, as a timestamp and as text to print. Beyond "no crash, no
// undefined behaviour", it checks the properties the consumers rely on, and traps when one breaks.

#include "probe/node_report.hpp"
#include "util/rfc3339.hpp"
#include "util/terminal.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace meshlink;
using json = nlohmann::json;
using Clock = std::chrono::system_clock;

void check(bool condition) {
    if (!condition) {
        __builtin_trap();
    }
}

const Clock::time_point k_now = Clock::from_time_t(1714567890);

json node_with(std::string annotation) {
    return {
        {"metadata",
         {{"name", "n1"}, {"annotations", {{probe::defaults::k_report_annotation, std::move(annotation)}}}}}};
}

// A report the reader accepts, so that an arbitrary Lease is judged next to it.
const std::string k_valid_report =
    R"({"schemaVersion":1,"node":"n1","observedAt":"2024-04-01T00:00:00Z","intervalSeconds":600,"checks":[]})";

void check_reading(const probe::NodeReading& reading) {
    check(reading.node == "n1");
    check(reading.state != probe::ReportState::missing);
    check((reading.state == probe::ReportState::invalid) == !reading.problem.empty());
    check((reading.state == probe::ReportState::invalid) == !reading.report.has_value());
    if (reading.report) {
        check(reading.age_seconds.has_value() && *reading.age_seconds >= 0);
        check(reading.liveness != probe::Liveness::none);
        check((reading.liveness == probe::Liveness::lease) == reading.liveness_note.empty());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    // As an annotation: accepted with checked fields, or refused with a short reason that never quotes it.
    const auto parsed = probe::parse_report(text);
    check(parsed.report.has_value() == parsed.problem.empty());
    check(parsed.problem.size() < 200);
    if (parsed.report) {
        check(parsed.report->interval >= probe::defaults::k_min_report_interval);
        check(parsed.report->interval <= probe::defaults::k_max_report_interval);
        check(parsed.report->document.is_object());
        check(probe::facts_digest(*parsed.report).size() == 32);
    }
    const probe::LeaseIndex no_leases;
    check_reading(probe::read_node(node_with(std::string(text)), no_leases, k_now));

    // As a Lease next to a valid report. nlohmann's parser and destructor are iterative, so any depth is
    // safe.
    json lease = json::parse(text, nullptr, false);
    if (lease.is_object()) {
        lease["metadata"] = {{"name", probe::lease_name("n1")}};
        probe::LeaseIndex leases;
        leases.add(lease);
        const auto* record = leases.find("n1");
        check(record != nullptr);
        check(record->problem.empty() == (record->renew_time.has_value() && record->duration_seconds > 0));
        check_reading(probe::read_node(node_with(k_valid_report), leases, k_now));
    }

    // As a timestamp: what parses formats back to itself (to the microsecond).
    if (const auto time = util::parse_rfc3339_time(text)) {
        const auto micro = std::chrono::floor<std::chrono::microseconds>(*time);
        check(util::parse_rfc3339_time(util::format_rfc3339_micro(*time)) == micro);
    }

    // As text to print: no control character survives.
    const std::string shown = util::printable(text);
    for (char c : shown) {
        const auto byte = static_cast<unsigned char>(c);
        check(byte >= 0x20 && byte != 0x7f);
    }
    check(shown.find("\xc2\x9b") == std::string::npos);
    return 0;
}
