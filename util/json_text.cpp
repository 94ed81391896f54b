#include "util/json_text.hpp"

#include <fmt/format.h>

namespace meshlink::util {

Result<nlohmann::json> parse_json(std::string_view text, int max_depth) {
    if (json_nested_deeper_than(text, max_depth)) {
        return fail(ErrorKind::parse, fmt::format("nested more than {} levels deep", max_depth));
    }
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& error) {
        // nlohmann's what() quotes the text near the error, which may be a secret's value: only the position.
        return fail(ErrorKind::parse, fmt::format("not valid JSON (syntax error at byte {})", error.byte));
    }
}

} // namespace meshlink::util
