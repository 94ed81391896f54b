#include "util/base64.hpp"

#include <array>
#include <cstddef>

namespace meshlink::util {
namespace {

constexpr std::string_view k_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The 6-bit value of each alphabet character; -1 for everything else.
constexpr auto k_values = [] {
    std::array<signed char, 256> table{};
    table.fill(-1);
    for (std::size_t i = 0; i < k_alphabet.size(); ++i) {
        table[static_cast<unsigned char>(k_alphabet[i])] = static_cast<signed char>(i);
    }
    return table;
}();

Error illegal_at(std::size_t offset, std::string_view note = {}) {
    return Error{ErrorKind::parse,
                 "illegal base64 data at input byte " + std::to_string(offset) + std::string(note)};
}

// Decodes into `bytes`, or only checks when it is null.
Result<> decode_into(std::string_view text, Base64Offsets offsets, std::string* bytes) {
    if (bytes != nullptr) {
        bytes->reserve(text.size() / 4 * 3);
    }
    std::array<unsigned, 4> group{};
    std::size_t filled = 0;
    std::size_t padding = 0;
    bool ended = false;          // a padded group was the last data
    std::size_t group_start = 0; // raw offset of the group being filled
    std::size_t counted = 0;     // bytes other than CR and LF before the current one
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\r' || c == '\n') {
            continue;
        }
        const std::size_t offset = offsets == Base64Offsets::raw ? i : counted;
        if (ended) {
            return std::unexpected(illegal_at(offset));
        }
        if (filled == 0) {
            group_start = i;
        }
        if (c == '=') {
            if (filled < 2) {
                return std::unexpected(illegal_at(offset));
            }
            ++padding;
            group[filled++] = 0;
        } else {
            const int value = k_values[static_cast<unsigned char>(c)];
            if (value < 0 || padding > 0) {
                return std::unexpected(illegal_at(offset));
            }
            group[filled++] = static_cast<unsigned>(value);
        }
        ++counted;
        if (filled == 4) {
            const unsigned triple = group[0] << 18U | group[1] << 12U | group[2] << 6U | group[3];
            if (bytes != nullptr) {
                *bytes += static_cast<char>((triple >> 16U) & 0xffU);
                if (padding < 2) {
                    *bytes += static_cast<char>((triple >> 8U) & 0xffU);
                }
                if (padding < 1) {
                    *bytes += static_cast<char>(triple & 0xffU);
                }
            }
            filled = 0;
            ended = padding > 0;
        }
    }
    if (filled != 0) {
        return std::unexpected(offsets == Base64Offsets::raw
                                   ? illegal_at(group_start)
                                   : illegal_at(counted, " (length is not a multiple of 4)"));
    }
    return {};
}

} // namespace

std::string base64_encode(std::string_view bytes) {
    std::string text;
    text.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        unsigned triple = static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16U;
        if (i + 1 < bytes.size()) {
            triple |= static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 1])) << 8U;
        }
        if (i + 2 < bytes.size()) {
            triple |= static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 2]));
        }
        text += k_alphabet[(triple >> 18U) & 0x3fU];
        text += k_alphabet[(triple >> 12U) & 0x3fU];
        text += i + 1 < bytes.size() ? k_alphabet[(triple >> 6U) & 0x3fU] : '=';
        text += i + 2 < bytes.size() ? k_alphabet[triple & 0x3fU] : '=';
    }
    return text;
}

Result<std::string> base64_decode(std::string_view text, Base64Offsets offsets) {
    std::string bytes;
    if (auto decoded = decode_into(text, offsets, &bytes); !decoded) {
        return std::unexpected(decoded.error());
    }
    return bytes;
}

Result<> base64_validate(std::string_view text, Base64Offsets offsets) {
    // Valid text is alphabet, then at most two '=' that complete the last group, with CR and LF anywhere.
    // Anything else takes the decoder's path for its exact error.
    enum : unsigned char { alphabet, pad, line_break, other };
    static constexpr auto k_class = [] {
        std::array<unsigned char, 256> table{};
        table.fill(other);
        for (char c : k_alphabet) {
            table[static_cast<unsigned char>(c)] = alphabet;
        }
        table['='] = pad;
        table['\r'] = line_break;
        table['\n'] = line_break;
        return table;
    }();
    // The bulk: alphabet only, a tight loop (the rest of the text, if any, is a few characters).
    std::size_t i = 0;
    while (i < text.size() && k_class[static_cast<unsigned char>(text[i])] == alphabet) {
        ++i;
    }
    std::size_t length = i; // without CR and LF
    std::size_t padding = 0;
    bool valid = true;
    for (char c : text.substr(i)) {
        switch (k_class[static_cast<unsigned char>(c)]) {
        case alphabet:
            valid &= padding == 0;
            ++length;
            break;
        case pad:
            ++padding;
            ++length;
            break;
        case line_break:
            break;
        default:
            valid = false;
            break;
        }
    }
    if (valid && length % 4 == 0 && padding <= 2) {
        return {};
    }
    return decode_into(text, offsets, nullptr);
}

} // namespace meshlink::util
