#pragma once
// RFC 3339 timestamps, as Kubernetes writes them (metav1.Time: "2024-05-01T12:51:30Z") and reads them
// (fractions and numeric offsets accepted). The parser and the formatters are in util/rfc3339.hpp; this adds
// the parser with an error message.

#include "util/error.hpp"
#include "util/rfc3339.hpp"

#include <chrono>
#include <string_view>

namespace meshlink::util {

// parse_rfc3339_time with an error: a kind `parse` error quotes the text.
Result<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

} // namespace meshlink::util
