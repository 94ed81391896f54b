#pragma once
// SHA-256, for keys and names that must stay short whatever the input: a cache keyed by what a node reported,
// an object name derived from a name that is too long. Free of <expected> (the fuzzed node-report reader uses
// it).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace meshlink::util {

using Sha256 = std::array<std::uint8_t, 32>;

Sha256 sha256(std::string_view data);

// The digest as 64 lower-case hex digits.
std::string to_hex(const Sha256& digest);

} // namespace meshlink::util
