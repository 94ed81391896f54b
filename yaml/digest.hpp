#pragma once
// The digest emit computes over a tree's meaning and verify_digest over the text read back
// (internal to yaml/*.cpp). Tokens: '{' '}' mapping, '[' ']' sequence, 'N' null, 's' string,
// 'b' 'i' 'f' plain boolean/integer/float, 'T' explicit tag; each text is length-prefixed.

#include "yaml/yaml.hpp"

#include <cstdint>
#include <cstring>
#include <string_view>

namespace meshlink::yaml::detail {

// What a node means, fed token by token into a digest while it is written and again while the text is read
// back; equal digests mean the text says what the tree says.
class Digest {
public:
    void add(char token) { mix(static_cast<unsigned char>(token)); }
    void add(char token, std::string_view text) {
        add(token);
        for (std::size_t n = text.size(); n > 0; n >>= 8) {
            mix(static_cast<unsigned char>(n & 0xff));
        }
        add('|');
        // Eight bytes a step: each step is a bijection of the hash for a given word and of the word for a
        // given hash, so any single changed word changes the result.
        std::size_t i = 0;
        for (; i + 8 <= text.size(); i += 8) {
            std::uint64_t word = 0;
            std::memcpy(&word, text.data() + i, 8);
            mix(word);
        }
        for (; i < text.size(); ++i) {
            mix(static_cast<unsigned char>(text[i]));
        }
    }
    [[nodiscard]] std::uint64_t value() const { return m_hash; }

private:
    void mix(std::uint64_t word) {
        // FNV-1a-like, with a shift so that high bits reach low ones: a guard against emitter bugs, not
        // against adversaries.
        m_hash ^= word;
        m_hash *= 1099511628211ULL;
        m_hash ^= m_hash >> 29;
    }
    std::uint64_t m_hash = 1469598103934665603ULL;
};

inline char type_token(PlainScalarType type) {
    switch (type) {
    case PlainScalarType::string:
        return 's';
    case PlainScalarType::null:
        return 'N';
    case PlainScalarType::boolean:
        return 'b';
    case PlainScalarType::integer:
        return 'i';
    case PlainScalarType::floating:
        return 'f';
    }
    return '?';
}

} // namespace meshlink::yaml::detail
