#include "util/terminal.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <string>
#include <utility>

namespace meshlink::util {
namespace {

std::string_view env(const char* name) {
    const char* value = std::getenv(name);
    return value ? std::string_view(value) : std::string_view();
}

bool utf8_locale() {
    // POSIX precedence: LC_ALL overrides LC_CTYPE overrides LANG.
    std::string_view locale = env("LC_ALL");
    if (locale.empty()) {
        locale = env("LC_CTYPE");
    }
    if (locale.empty()) {
        locale = env("LANG");
    }
    std::string lower(locale);
    for (char& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return lower.find("utf-8") != std::string::npos || lower.find("utf8") != std::string::npos;
}

// The code point of the UTF-8 sequence at text[0] and its length, or length 0 when it is not well-formed
// (overlong forms, surrogates and values above U+10FFFF are not).
std::pair<char32_t, std::size_t> decode_utf8(std::string_view text) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    char32_t code = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
        code = lead & 0x1fU;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        code = lead & 0x0fU;
        low = lead == 0xe0 ? 0xa0 : 0x80;  // overlong
        high = lead == 0xed ? 0x9f : 0xbf; // surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        code = lead & 0x07U;
        low = lead == 0xf0 ? 0x90 : 0x80;  // overlong
        high = lead == 0xf4 ? 0x8f : 0xbf; // above U+10FFFF
    } else {
        return {0, 0};
    }
    if (text.size() < length) {
        return {0, 0};
    }
    for (std::size_t i = 1; i < length; ++i) {
        const unsigned char next = byte(i);
        if (next < (i == 1 ? low : 0x80) || next > (i == 1 ? high : 0xbf)) {
            return {0, 0};
        }
        code = (code << 6U) | (next & 0x3fU);
    }
    return {code, length};
}

bool hidden_format_character(char32_t code) {
    return (code >= 0x80 && code <= 0x9f) || code == 0x200e || code == 0x200f ||
           (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

void append_escape(std::string& out, char marker, unsigned value, int digits) {
    static constexpr char k_digits[] = "0123456789abcdef";
    out.push_back('\\');
    out.push_back(marker);
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
        out.push_back(k_digits[(value >> static_cast<unsigned>(shift)) & 0x0fU]);
    }
}

} // namespace

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f) {
            append_escape(out, 'x', c, 2);
            ++i;
        } else if (c < 0x80) {
            out.push_back(static_cast<char>(c));
            ++i;
        } else if (const auto [code, length] = decode_utf8(text.substr(i)); length == 0) {
            append_escape(out, 'x', c, 2);
            ++i;
        } else {
            if (hidden_format_character(code)) {
                append_escape(out, 'u', static_cast<unsigned>(code), 4);
            } else {
                out.append(text.substr(i, length));
            }
            i += length;
        }
    }
    return out;
}

Terminal Terminal::detect(std::FILE* stream) {
    Terminal term;
    const bool tty = ::isatty(::fileno(stream)) == 1;
    const bool no_color = std::getenv("NO_COLOR") != nullptr;
    term.color = tty && !no_color && env("TERM") != "dumb";
    term.unicode = tty && !no_color && utf8_locale();
    return term;
}

std::string Terminal::paint(Tone tone, std::string_view text) const {
    if (!color || tone == Tone::plain) {
        return std::string(text);
    }
    const char* code = "";
    switch (tone) {
    case Tone::good:
        code = "\033[32m";
        break;
    case Tone::warn:
        code = "\033[33m";
        break;
    case Tone::bad:
        code = "\033[31m";
        break;
    case Tone::dim:
        code = "\033[2m";
        break;
    case Tone::bold:
        code = "\033[1m";
        break;
    case Tone::plain:
        break;
    }
    return std::string(code) + std::string(text) + "\033[0m";
}

std::string Terminal::status_mark(std::string_view status) const {
    if (status == "pass") {
        return paint(Tone::good, unicode ? "✔" : "[pass]");
    }
    if (status == "warn") {
        return paint(Tone::warn, unicode ? "⚠" : "[warn]");
    }
    if (status == "fail") {
        return paint(Tone::bad, unicode ? "✘" : "[FAIL]");
    }
    if (status == "unknown") {
        return paint(Tone::dim, unicode ? "?" : "[ ?? ]");
    }
    return std::string(status);
}

} // namespace meshlink::util
