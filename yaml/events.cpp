#include "yaml/events.hpp"

#include <yaml.h>

#include <cstring>
#include <memory>

namespace meshlink::yaml::detail {
namespace {

// --- libyaml

struct ParserDeleter {
    void operator()(yaml_parser_t* parser) const noexcept {
        yaml_parser_delete(parser);
        delete parser;
    }
};
using ParserPtr = std::unique_ptr<yaml_parser_t, ParserDeleter>;

// Owns one event; libyaml allocates its strings.
class LibyamlEvent {
public:
    LibyamlEvent() = default;
    LibyamlEvent(const LibyamlEvent&) = delete;
    LibyamlEvent& operator=(const LibyamlEvent&) = delete;
    ~LibyamlEvent() {
        if (m_filled) {
            yaml_event_delete(&m_event);
        }
    }
    yaml_event_t* get() { return &m_event; }
    void filled() { m_filled = true; }
    [[nodiscard]] const yaml_event_t& operator*() const { return m_event; }

private:
    yaml_event_t m_event{};
    bool m_filled = false;
};

std::string_view view(const yaml_char_t* text) {
    return text == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(text));
}

YamlMark to_mark(const yaml_mark_t& mark) {
    return {mark.index, mark.line, mark.column};
}

} // namespace

util::Result<> read_libyaml_events(std::string_view text, const std::string& name, YamlEventSink& sink) {
    ParserPtr parser(new yaml_parser_t);
    if (yaml_parser_initialize(parser.get()) == 0) {
        delete parser.release();
        return util::fail(util::ErrorKind::generic, name + ": cannot initialise the YAML parser");
    }
    yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
    yaml_parser_set_encoding(parser.get(), YAML_UTF8_ENCODING);
    for (;;) {
        LibyamlEvent event;
        if (yaml_parser_parse(parser.get(), event.get()) == 0) {
            const yaml_mark_t& mark = parser->problem != nullptr && parser->problem_mark.line > 0
                                          ? parser->problem_mark
                                          : parser->context_mark;
            std::string message = name + ":" + std::to_string(mark.line + 1) + ": invalid YAML: ";
            message += parser->problem != nullptr ? parser->problem : "syntax error";
            if (parser->context != nullptr) {
                message += std::string(" ") + parser->context;
            }
            return util::fail(util::ErrorKind::parse, message);
        }
        event.filled();
        const yaml_event_t& e = *event;
        YamlEvent out;
        out.mark = to_mark(e.start_mark);
        switch (e.type) {
        case YAML_SCALAR_EVENT:
            out.kind = YamlEventKind::scalar;
            out.value =
                std::string_view(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
            out.tag = view(e.data.scalar.tag);
            out.anchor = view(e.data.scalar.anchor);
            out.plain = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            break;
        case YAML_SEQUENCE_START_EVENT:
            out.kind = YamlEventKind::sequence_start;
            out.tag = view(e.data.sequence_start.tag);
            out.anchor = view(e.data.sequence_start.anchor);
            break;
        case YAML_MAPPING_START_EVENT:
            out.kind = YamlEventKind::mapping_start;
            out.tag = view(e.data.mapping_start.tag);
            out.anchor = view(e.data.mapping_start.anchor);
            break;
        case YAML_SEQUENCE_END_EVENT:
            out.kind = YamlEventKind::sequence_end;
            break;
        case YAML_MAPPING_END_EVENT:
            out.kind = YamlEventKind::mapping_end;
            break;
        case YAML_ALIAS_EVENT:
            out.kind = YamlEventKind::alias;
            out.value = view(e.data.alias.anchor);
            break;
        case YAML_DOCUMENT_END_EVENT:
        case YAML_STREAM_END_EVENT:
            // Like go-yaml, only the first document counts.
            sink.on_event(YamlEvent{});
            return {};
        default:
            continue; // stream and document start
        }
        if (!sink.on_event(out)) {
            return {};
        }
    }
}

// --- The fast scanner

namespace {

constexpr std::size_t k_max_depth = 64;
// libyaml finds a block mapping key only when its ':' follows within 1024 characters.
constexpr std::size_t k_max_key_length = 1000;

bool printable_ascii(std::string_view text) {
    // Tabs, CR, non-ASCII characters (NEL, LS, PS, BOM, C1 controls...) have rules of their own in libyaml.
    // A branch-free reduction, which the compiler vectorises.
    unsigned char bad = 0;
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        bad |= static_cast<unsigned char>((byte < 0x20 && byte != '\n') | (byte >= 0x7f));
    }
    return bad == 0;
}

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

unsigned hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return static_cast<unsigned>(c - '0');
    }
    if (c >= 'a' && c <= 'f') {
        return static_cast<unsigned>(c - 'a' + 10);
    }
    return static_cast<unsigned>(c - 'A' + 10);
}

void append_utf8(std::string& out, unsigned code) {
    if (code <= 0x7f) {
        out += static_cast<char>(code);
    } else if (code <= 0x7ff) {
        out += static_cast<char>(0xc0 + (code >> 6));
        out += static_cast<char>(0x80 + (code & 0x3f));
    } else if (code <= 0xffff) {
        out += static_cast<char>(0xe0 + (code >> 12));
        out += static_cast<char>(0x80 + ((code >> 6) & 0x3f));
        out += static_cast<char>(0x80 + (code & 0x3f));
    } else {
        out += static_cast<char>(0xf0 + (code >> 18));
        out += static_cast<char>(0x80 + ((code >> 12) & 0x3f));
        out += static_cast<char>(0x80 + ((code >> 6) & 0x3f));
        out += static_cast<char>(0x80 + (code & 0x3f));
    }
}

// Reads the subset line by line. Every parse step returns false to give up, when the sink stops or the text
// leaves the subset.
class SimpleScanner {
public:
    SimpleScanner(std::string_view text, YamlEventSink& sink) : m_text(text), m_sink(sink) {}

    bool run() {
        if (!printable_ascii(m_text)) {
            return false;
        }
        seek_content(0, 0);
        // An empty document, or one that is not a mapping at column 0: libyaml says what it is.
        if (m_eof || m_indent != 0 || is_entry_dash(m_start)) {
            return false;
        }
        if (!mapping(m_start, 0) || !m_eof || m_unsupported) {
            return false;
        }
        return emit(YamlEventKind::document_end, {});
    }

private:
    // --- Lines: the current one is [m_start, m_end) with m_indent leading spaces; m_end is at '\n' or
    // the end of the text.

    // Makes the first line at or after `start` that is neither blank nor a comment the current one.
    void seek_content(std::size_t start, std::size_t line) {
        while (start < m_text.size()) {
            const void* newline = std::memchr(m_text.data() + start, '\n', m_text.size() - start);
            const std::size_t end =
                newline == nullptr
                    ? m_text.size()
                    : static_cast<std::size_t>(static_cast<const char*>(newline) - m_text.data());
            std::size_t indent = 0;
            while (start + indent < end && m_text[start + indent] == ' ') {
                ++indent;
            }
            if (start + indent < end && m_text[start + indent] != '#') {
                const std::string_view content = m_text.substr(start, end - start);
                if (indent == 0 && (content.starts_with("---") || content.starts_with("..."))) {
                    m_unsupported = true; // a document marker, or what libyaml might take for one
                    break;
                }
                m_start = start;
                m_end = end;
                m_indent = indent;
                m_line = line;
                return;
            }
            start = end + 1;
            ++line;
        }
        m_eof = true;
        m_start = m_end = m_text.size();
        m_indent = 0;
    }

    void next_line() { seek_content(m_end + 1, m_line + 1); }

    [[nodiscard]] YamlMark mark(std::size_t at) const { return {at, m_line, at - m_start}; }

    bool give_up() {
        m_unsupported = true;
        return false;
    }

    bool emit(YamlEventKind kind, const YamlMark& at, std::string_view value = {}, bool plain = false) {
        YamlEvent event;
        event.kind = kind;
        event.value = value;
        event.plain = plain;
        event.mark = at;
        return m_sink.on_event(event);
    }

    // The first `c` in [from, to), or `to`.
    [[nodiscard]] std::size_t find(std::size_t from, std::size_t to, char c) const {
        if (from >= to) {
            return to;
        }
        const void* found = std::memchr(m_text.data() + from, c, to - from);
        return found == nullptr ? to
                                : static_cast<std::size_t>(static_cast<const char*>(found) - m_text.data());
    }

    // "- " or a lone "-" at `at`: a block sequence entry.
    [[nodiscard]] bool is_entry_dash(std::size_t at) const {
        return at < m_end && m_text[at] == '-' && (at + 1 == m_end || m_text[at + 1] == ' ');
    }

    // Characters that make libyaml read something other than a plain scalar here (or that the subset
    // leaves out: '-', '?' and ':' can start plain scalars in some positions).
    static bool indicator(char c) { return std::strchr("-?:,[]{}#&*!|>'\"%@`", c) != nullptr; }

    // A block mapping key starting at `at`: a plain scalar on this line followed by ':' and a space or the
    // line's end. Sets `colon`.
    bool find_key(std::size_t at, std::size_t& colon) const {
        if (at >= m_end || indicator(m_text[at])) {
            return false;
        }
        for (std::size_t i = at; i < m_end && i - at <= k_max_key_length; ++i) {
            const char c = m_text[i];
            if (c == ':' && (i + 1 == m_end || m_text[i + 1] == ' ')) {
                colon = i;
                return true;
            }
            if (c == '#' && m_text[i - 1] == ' ') {
                return false; // a comment
            }
        }
        return false;
    }

    // A block node on the current line at its indentation: a sequence or a mapping.
    bool block_node(std::size_t depth) {
        const std::size_t at = m_start + m_indent;
        return is_entry_dash(at) ? sequence(m_indent, false, depth) : mapping(at, depth);
    }

    // A block mapping whose first key starts at `at` (on the current line, possibly after "- "); the
    // following keys start lines indented to the same column. Leaves the current line after it.
    bool mapping(std::size_t at, std::size_t depth) {
        if (depth > k_max_depth) {
            return give_up();
        }
        const std::size_t column = at - m_start;
        if (!emit(YamlEventKind::mapping_start, mark(at))) {
            return false;
        }
        for (;;) {
            if (!entry(at, column, depth)) {
                return false;
            }
            if (m_eof || m_indent < column) {
                break;
            }
            if (m_indent > column) {
                return give_up(); // libyaml would continue a scalar or refuse the line
            }
            at = m_start + column;
        }
        return emit(YamlEventKind::mapping_end, mark(m_start));
    }

    // One `key: value` of a mapping at `column`; the key starts at `at`.
    bool entry(std::size_t at, std::size_t column, std::size_t depth) {
        std::size_t colon = 0;
        if (!find_key(at, colon)) {
            return give_up();
        }
        std::size_t key_end = colon;
        while (key_end > at && m_text[key_end - 1] == ' ') {
            --key_end;
        }
        if (!emit(YamlEventKind::scalar, mark(at), m_text.substr(at, key_end - at), true)) {
            return false;
        }
        std::size_t value = colon + 1;
        while (value < m_end && m_text[value] == ' ') {
            ++value;
        }
        if (value < m_end && m_text[value] != '#') {
            return inline_value(value);
        }
        // Nothing after the ':' on this line: a nested block node, a sequence at the key's own
        // indentation (kubectl's layout), or an empty value, which libyaml marks right after the ':'.
        const YamlMark empty = mark(colon + 1);
        next_line();
        if (m_unsupported) {
            return false;
        }
        if (!m_eof && m_indent > column) {
            return block_node(depth + 1);
        }
        if (!m_eof && m_indent == column && is_entry_dash(m_start + column)) {
            return sequence(column, true, depth + 1);
        }
        return emit(YamlEventKind::scalar, empty, {}, true);
    }

    // A block sequence whose dashes are at `column`; `indentless` when it is the value of a mapping key
    // at the same column, where a line that is not an entry ends it.
    bool sequence(std::size_t column, bool indentless, std::size_t depth) {
        if (depth > k_max_depth) {
            return give_up();
        }
        if (!emit(YamlEventKind::sequence_start, mark(m_start + column))) {
            return false;
        }
        for (;;) {
            std::size_t at = m_start + column + 1;
            while (at < m_end && m_text[at] == ' ') {
                ++at;
            }
            if (at == m_end || m_text[at] == '#' || is_entry_dash(at)) {
                return give_up(); // an empty entry or a compact nested sequence: left to libyaml
            }
            std::size_t colon = 0;
            if (!(find_key(at, colon) ? mapping(at, depth + 1) : inline_value(at))) {
                return false;
            }
            if (m_eof || m_indent < column) {
                break;
            }
            if (m_indent > column) {
                return give_up();
            }
            if (!is_entry_dash(m_start + column)) {
                if (indentless) {
                    break;
                }
                return give_up();
            }
        }
        return emit(YamlEventKind::sequence_end, mark(m_start));
    }

    // A value that starts at `at` and takes the rest of the line (but a comment): a plain or quoted
    // scalar, `{}` or `[]`. Moves to the next content line.
    bool inline_value(std::size_t at) {
        const char first = m_text[at];
        std::size_t end = at;
        if (first == '"' || first == '\'') {
            if (!(first == '"' ? double_quoted(at, end) : single_quoted(at, end))) {
                return give_up();
            }
            if (!emit(YamlEventKind::scalar, mark(at), m_scratch, false)) {
                return false;
            }
        } else if ((first == '{' || first == '[') && at + 1 < m_end &&
                   m_text[at + 1] == (first == '{' ? '}' : ']')) {
            const YamlEventKind start =
                first == '{' ? YamlEventKind::mapping_start : YamlEventKind::sequence_start;
            const YamlEventKind stop =
                first == '{' ? YamlEventKind::mapping_end : YamlEventKind::sequence_end;
            if (!emit(start, mark(at)) || !emit(stop, mark(at + 1))) {
                return false;
            }
            end = at + 2;
        } else if (!indicator(first) || (first == '-' && !is_entry_dash(at))) {
            // Plain: to the line's end or a comment (a '#' after a space), without trailing spaces; ": "
            // would make it a key, which libyaml refuses here. memchr: values are long base64 lines.
            end = m_end;
            for (std::size_t hash = find(at + 1, m_end, '#'); hash < m_end;
                 hash = find(hash + 1, m_end, '#')) {
                if (m_text[hash - 1] == ' ') {
                    end = hash;
                    break;
                }
            }
            for (std::size_t colon = find(at, end, ':'); colon < end; colon = find(colon + 1, end, ':')) {
                if (colon + 1 == m_end || m_text[colon + 1] == ' ') {
                    return give_up();
                }
            }
            while (m_text[end - 1] == ' ') {
                --end; // stops at `at`, which is not a space
            }
            if (!emit(YamlEventKind::scalar, mark(at), m_text.substr(at, end - at), true)) {
                return false;
            }
        } else {
            return give_up();
        }
        // After the value: spaces, then the line's end or a comment.
        std::size_t rest = end;
        while (rest < m_end && m_text[rest] == ' ') {
            ++rest;
        }
        if (rest < m_end && !(m_text[rest] == '#' && rest > end)) {
            return give_up();
        }
        next_line();
        return !m_unsupported;
    }

    // A single-quoted scalar on one line; its text goes to m_scratch, `end` past the closing quote.
    bool single_quoted(std::size_t at, std::size_t& end) {
        m_scratch.clear();
        for (std::size_t i = at + 1; i < m_end; ++i) {
            if (m_text[i] != '\'') {
                m_scratch += m_text[i];
            } else if (i + 1 < m_end && m_text[i + 1] == '\'') {
                m_scratch += '\'';
                ++i;
            } else {
                end = i + 1;
                return true;
            }
        }
        return false; // continues on the next line
    }

    // A double-quoted scalar on one line, escapes decoded as libyaml does.
    bool double_quoted(std::size_t at, std::size_t& end) {
        m_scratch.clear();
        for (std::size_t i = at + 1; i < m_end; ++i) {
            const char c = m_text[i];
            if (c == '"') {
                end = i + 1;
                return true;
            }
            if (c != '\\') {
                m_scratch += c;
                continue;
            }
            if (++i == m_end) {
                return false; // an escaped line break
            }
            std::size_t digits = 0;
            switch (m_text[i]) {
            case '0':
                m_scratch += '\0';
                break;
            case 'a':
                m_scratch += '\x07';
                break;
            case 'b':
                m_scratch += '\x08';
                break;
            case 't':
                m_scratch += '\x09';
                break;
            case 'n':
                m_scratch += '\x0a';
                break;
            case 'v':
                m_scratch += '\x0b';
                break;
            case 'f':
                m_scratch += '\x0c';
                break;
            case 'r':
                m_scratch += '\x0d';
                break;
            case 'e':
                m_scratch += '\x1b';
                break;
            case ' ':
            case '"':
            case '/':
            case '\\':
                m_scratch += m_text[i];
                break;
            case 'N':
                append_utf8(m_scratch, 0x85);
                break;
            case '_':
                append_utf8(m_scratch, 0xa0);
                break;
            case 'L':
                append_utf8(m_scratch, 0x2028);
                break;
            case 'P':
                append_utf8(m_scratch, 0x2029);
                break;
            case 'x':
                digits = 2;
                break;
            case 'u':
                digits = 4;
                break;
            case 'U':
                digits = 8;
                break;
            default:
                return false; // libyaml refuses unknown escapes
            }
            if (digits > 0) {
                if (m_end - i - 1 < digits) {
                    return false;
                }
                unsigned code = 0;
                for (std::size_t k = 1; k <= digits; ++k) {
                    if (!is_hex(m_text[i + k])) {
                        return false;
                    }
                    code = (code << 4) + hex_value(m_text[i + k]);
                }
                if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) {
                    return false;
                }
                append_utf8(m_scratch, code);
                i += digits;
            }
        }
        return false; // continues on the next line
    }

    std::string_view m_text;
    YamlEventSink& m_sink;
    std::string m_scratch; // the current quoted scalar's text
    std::size_t m_start = 0;
    std::size_t m_end = 0;
    std::size_t m_indent = 0;
    std::size_t m_line = 0;
    bool m_eof = false;
    bool m_unsupported = false;
};

} // namespace

bool scan_simple_yaml(std::string_view text, YamlEventSink& sink) {
    return SimpleScanner(text, sink).run();
}

} // namespace meshlink::yaml::detail
