#include "util/time.hpp"

#include <fmt/format.h>

namespace meshlink::util {

Result<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
    if (auto parsed = parse_rfc3339_time(text)) {
        return *parsed;
    }
    return fail(ErrorKind::parse, fmt::format("invalid RFC 3339 timestamp \"{}\"", text));
}

} // namespace meshlink::util
