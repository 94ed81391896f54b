#pragma once
// Durations as kubectl users write them.

#include "util/error.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace meshlink::util {

// Parses a Go duration ("300ms", "1.5h", "2h45m", "10s", "0"): a sequence of decimal numbers, each with a
// unit ns, us (or µs), ms, s, m, h. Negative durations are rejected.
Result<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

// Parses --request-timeout like client-go's ParseTimeout: a bare integer means seconds, otherwise a Go
// duration; "0" means no timeout (returns zero).
Result<std::chrono::nanoseconds> parse_request_timeout(std::string_view text);

// Formats like Go's Duration.String() for whole milliseconds and up: "1.5s", "2m0s", "1h0m0s", "250ms".
std::string format_duration(std::chrono::nanoseconds duration);

} // namespace meshlink::util
