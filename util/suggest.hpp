#pragma once
// "Did you mean" for unknown verbs and names.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::util {

// Returns the candidate closest to `input` by edit distance, when it is close enough to be a typo
// (distance <= max(1, len/3)) or `input` is a unique prefix of it.
std::optional<std::string> closest_match(std::string_view input,
                                         const std::vector<std::string_view>& candidates);

} // namespace meshlink::util
