#pragma once
// RFC 3339 timestamps, as Kubernetes writes them (metav1.Time "2024-05-01T12:51:30Z", metav1.MicroTime
// "2024-05-01T12:51:30.123456Z") and reads them (fractions and numeric offsets accepted).
//
// This header and rfc3339.cpp stay free of <expected>, so code that a clang-built libFuzzer target compiles
// (the node-report reader, tests/fuzz/) can use them; util/time.hpp adds the parser with an error message.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace meshlink::util {

// Parses YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM); 't' and 'z' are accepted like Go's time.RFC3339.
// nullopt when the text is not such a timestamp, or names a time system_clock cannot hold (before 1678 or
// after 2261), so no caller ever computes with an overflowed time.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339_time(std::string_view text);

// Formats whole seconds in UTC: "2024-05-01T12:51:30Z" (the fraction is dropped, as metav1.Time does).
std::string format_rfc3339(std::chrono::system_clock::time_point time);

// Formats UTC to the microsecond, as metav1.MicroTime must be written (Lease renewTime, acquireTime):
// "2024-05-01T12:51:30.123456Z". The API server refuses a MicroTime without exactly six fraction digits.
std::string format_rfc3339_micro(std::chrono::system_clock::time_point time);

// Formats UTC to the microsecond without separators (ISO 8601's basic form), for file names that sort like
// time: "20240501T125130.123456Z".
std::string format_compact_utc(std::chrono::system_clock::time_point time);

} // namespace meshlink::util
