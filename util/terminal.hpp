#pragma once
// Terminal capabilities shared by both executables' human output: colour and symbols only on a TTY,
// ASCII when NO_COLOR is set or the locale is not UTF-8 (see README "Output").

#include <cstdio>
#include <string>
#include <string_view>

namespace meshlink::util {

struct Terminal {
    bool color = false;   // ANSI colours allowed
    bool unicode = false; // UTF-8 symbols allowed

    // Detects for `stream`: colour needs a TTY, TERM != dumb and no NO_COLOR; symbols need a TTY and a
    // UTF-8 locale (LC_ALL, LC_CTYPE, LANG) and no NO_COLOR.
    static Terminal detect(std::FILE* stream);

    enum class Tone { plain, good, warn, bad, dim, bold };
    // Wraps `text` in the colour for `tone` when colour is on.
    [[nodiscard]] std::string paint(Tone tone, std::string_view text) const;

    // Status markers: "✔"/"[pass]" etc. `status` is pass|warn|fail|unknown (others print as-is).
    [[nodiscard]] std::string status_mark(std::string_view status) const;
};

// `text` made safe to print on a terminal: C0 controls (newline and tab included), DEL, ESC and bytes that
// are not UTF-8 become `\xNN`; C1 controls (U+0080..U+009F) and the bidirectional overrides and isolates
// (U+200E, U+200F, U+202A..U+202E, U+2066..U+2069, which reorder what is shown) become `\uNNNN`. Everything
// else, other UTF-8 included, is kept. For strings a cluster or a node chose (names, annotations, report
// fields, server messages), so they cannot move the cursor, clear the screen, retitle the window or fake a
// line.
std::string printable(std::string_view text);

} // namespace meshlink::util
