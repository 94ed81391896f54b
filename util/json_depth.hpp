#pragma once
// How deep JSON text nests, judged on the text before any document is built. nlohmann's parser is iterative,
// but copying, comparing and serializing a document recurse once per level: a document nested a hundred
// thousand levels deep parses fine and then overflows the stack the first time it is copied.
// Header-only and free of <expected>, so that the libFuzzer targets (built with clang) can include it.

#include <string_view>

namespace meshlink::util {

// True when objects and arrays in `text` nest more than `max_depth` levels. Brackets inside strings do not
// count; the text need not be valid JSON.
inline bool json_nested_deeper_than(std::string_view text, int max_depth) {
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) {
                return true;
            }
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return false;
}

} // namespace meshlink::util
