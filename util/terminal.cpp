#include "util/terminal.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <string>

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

} // namespace

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
