#include "yaml/yaml.hpp"

#include "yaml/digest.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

namespace meshlink::yaml {
namespace {

using detail::Digest;
using detail::type_token;

bool all_of(std::string_view text, auto predicate) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) { return predicate(c); });
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_digit_or_underscore(char c) {
    return is_digit(c) || c == '_';
}

// Integers as go-yaml v2 resolves them (Go's ParseInt with base 0 after dropping '_'): decimal, 0b, 0o, 0x,
// leading-0 octal. Unlike YAML 1.1, no sexagesimal.
bool looks_like_integer(std::string_view v) {
    if (!v.empty() && (v.front() == '+' || v.front() == '-')) {
        v.remove_prefix(1);
    }
    if (v.empty()) {
        return false;
    }
    if (v.starts_with("0b")) {
        return all_of(v.substr(2), [](char c) { return c == '0' || c == '1' || c == '_'; });
    }
    if (v.starts_with("0x")) {
        return all_of(v.substr(2),
                      [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == '_'; });
    }
    if (v.starts_with("0o")) {
        return all_of(v.substr(2), [](char c) { return (c >= '0' && c <= '7') || c == '_'; });
    }
    return is_digit(v.front()) && all_of(v, is_digit_or_underscore);
}

// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ (go-yaml's yamlStyleFloat), plus .inf/.nan.
bool looks_like_float(std::string_view v) {
    static constexpr std::array k_special{".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf", "+.INF",
                                          "-.inf", "-.Inf", "-.INF", ".nan",  ".NaN",  ".NAN"};
    if (std::find(k_special.begin(), k_special.end(), v) != k_special.end()) {
        return true;
    }
    std::string cleaned;
    for (char c : v) {
        if (c != '_') {
            cleaned += c;
        }
    }
    std::string_view s = cleaned;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        s.remove_prefix(1);
    }
    std::size_t i = 0;
    std::size_t int_digits = 0;
    while (i < s.size() && is_digit(s[i])) {
        ++i;
        ++int_digits;
    }
    std::size_t frac_digits = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && is_digit(s[i])) {
            ++i;
            ++frac_digits;
        }
        if (int_digits == 0 && frac_digits == 0) {
            return false;
        }
    } else if (int_digits == 0) {
        return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
            ++i;
        }
        std::size_t exp_digits = 0;
        while (i < s.size() && is_digit(s[i])) {
            ++i;
            ++exp_digits;
        }
        if (exp_digits == 0) {
            return false;
        }
    }
    return i == s.size();
}

// Whether a string must be quoted for every YAML reader to take it as a string. Stricter than needed on
// purpose (a leading digit always quotes: dates and version-like values resolve differently across readers).
bool needs_quotes(std::string_view value) {
    if (resolve_plain_scalar(value) != PlainScalarType::string) {
        return true;
    }
    return is_digit(value.front()) || value.front() == '.' || value.front() == '+' || value.front() == '-' ||
           value.find('\n') != std::string_view::npos || value.front() == ' ' || value.back() == ' ';
}

// Characters that matter to plain_safe's loop wherever they are (the others only at the start or end).
constexpr auto k_plain_attention = [] {
    std::array<bool, 256> table{};
    for (std::size_t c = 0; c < 256; ++c) {
        table[c] = c < 0x20 || c >= 0x7f || c == ':' || c == '#';
    }
    return table;
}();

// Whether `value` can be written as a plain scalar in block context and read back as the same text.
// Conservative: anything unusual is double-quoted.
bool plain_safe(std::string_view value) {
    if (value.empty() || value.front() == ' ' || value.back() == ' ' || value.back() == ':') {
        return false;
    }
    if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(value.front()) != std::string_view::npos) {
        return false;
    }
    // Most values (base64, names, URLs without ": ") have nothing the loop below looks at.
    std::size_t first = 0;
    while (first < value.size() && !k_plain_attention[static_cast<unsigned char>(value[first])]) {
        ++first;
    }
    for (std::size_t i = first; i < value.size(); ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        if (c < 0x20 || c == 0x7f) {
            return false;
        }
        if (c == ':' && i + 1 < value.size() && value[i + 1] == ' ') {
            return false;
        }
        if (c == '#' && i > 0 && value[i - 1] == ' ') {
            return false;
        }
        // U+0085, U+2028, U+2029 are line breaks to a YAML reader.
        if (c == 0xC2 && i + 1 < value.size() && static_cast<unsigned char>(value[i + 1]) == 0x85) {
            return false;
        }
        if (c == 0xE2 && i + 2 < value.size() && static_cast<unsigned char>(value[i + 1]) == 0x80 &&
            (static_cast<unsigned char>(value[i + 2]) == 0xA8 ||
             static_cast<unsigned char>(value[i + 2]) == 0xA9)) {
            return false;
        }
    }
    return true;
}

void append_double_quoted(std::string& out, std::string_view value) {
    static constexpr std::string_view k_hex = "0123456789ABCDEF";
    out += '"';
    for (std::size_t i = 0; i < value.size(); ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        switch (c) {
        case '"':
            out += "\\\"";
            continue;
        case '\\':
            out += "\\\\";
            continue;
        case '\n':
            out += "\\n";
            continue;
        case '\t':
            out += "\\t";
            continue;
        case '\r':
            out += "\\r";
            continue;
        default:
            break;
        }
        if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += k_hex[c >> 4];
            out += k_hex[c & 0xf];
        } else if (c == 0xC2 && i + 1 < value.size() && static_cast<unsigned char>(value[i + 1]) == 0x85) {
            out += "\\N";
            ++i;
        } else if (c == 0xE2 && i + 2 < value.size() && static_cast<unsigned char>(value[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(value[i + 2]) == 0xA8 ||
                    static_cast<unsigned char>(value[i + 2]) == 0xA9)) {
            out += static_cast<unsigned char>(value[i + 2]) == 0xA8 ? "\\L" : "\\P";
            i += 2;
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
}

// The emitter: kubectl's block layout, scalar types kept (see emit).
class Writer {
public:
    explicit Writer(Digest* digest) : m_digest(digest) {}
    std::string out;

    void document(const YAML::Node& node) {
        if (is_inline(node)) {
            inline_value(node);
            out += '\n';
        } else {
            block(node, 0, false);
        }
    }

private:
    static bool is_inline(const YAML::Node& node) {
        return !(node.IsMap() || node.IsSequence()) || node.size() == 0;
    }

    void token(char t) {
        if (m_digest != nullptr) {
            m_digest->add(t);
        }
    }
    void token(char t, std::string_view text) {
        if (m_digest != nullptr) {
            m_digest->add(t, text);
        }
    }

    // A scalar or null as it appears after "key: " or "- ".
    void scalar(const YAML::Node& node) {
        if (!node.IsScalar() ||
            (node.Tag() == "?" && resolve_plain_scalar(node.Scalar()) == PlainScalarType::null)) {
            token('N');
            out += "null";
            return;
        }
        const std::string& tag = node.Tag();
        const std::string& value = node.Scalar();
        if (tag == "?" && resolve_plain_scalar(value) != PlainScalarType::string) {
            // Plain in the source and not a string (number, boolean): written plain again, same type.
            token(type_token(resolve_plain_scalar(value)), value);
            out += value;
            return;
        }
        if (!tag.empty() && tag != "!" && tag != "?") {
            token('T', tag);
            out += "!<";
            out += tag;
            out += "> ";
        }
        token('s', value);
        if (plain_safe(value) && !needs_quotes(value)) {
            out += value;
        } else {
            append_double_quoted(out, value);
        }
    }

    void inline_value(const YAML::Node& node) {
        if (node.IsMap()) {
            token('{');
            token('}');
            out += "{}";
        } else if (node.IsSequence()) {
            token('[');
            token(']');
            out += "[]";
        } else {
            scalar(node);
        }
    }

    void block(const YAML::Node& node, std::size_t indent, bool continues_line) {
        if (node.IsMap()) {
            map(node, indent, continues_line);
        } else {
            sequence(node, indent, continues_line);
        }
    }

    // kubectl's layout: a sequence under a key is not indented ("clusters:\n- cluster:"), a mapping is by
    // two.
    void map(const YAML::Node& node, std::size_t indent, bool continues_line) {
        token('{');
        bool first = true;
        for (const auto& item : node) {
            if (!(first && continues_line)) {
                out.append(indent, ' ');
            }
            first = false;
            scalar(item.first);
            out += ':';
            if (is_inline(item.second)) {
                out += ' ';
                inline_value(item.second);
                out += '\n';
            } else {
                out += '\n';
                block(item.second, item.second.IsMap() ? indent + 2 : indent, false);
            }
        }
        token('}');
    }

    void sequence(const YAML::Node& node, std::size_t indent, bool continues_line) {
        token('[');
        bool first = true;
        for (const auto& item : node) {
            if (!(first && continues_line)) {
                out.append(indent, ' ');
            }
            first = false;
            if (is_inline(item)) {
                out += "- ";
                inline_value(item);
                out += '\n';
            } else if (item.IsMap()) {
                out += "- ";
                map(item, indent + 2, true);
            } else {
                out += "-\n";
                sequence(item, indent + 2, false);
            }
        }
        token(']');
    }

    Digest* m_digest;
};

// The meaning of a scalar for comparison: its type as kubectl reads it, and its text.
std::pair<int, std::string_view> scalar_meaning(const YAML::Node& node) {
    if (node.Tag() == "?") {
        return {static_cast<int>(resolve_plain_scalar(node.Scalar())), node.Scalar()};
    }
    return {static_cast<int>(PlainScalarType::string), node.Scalar()};
}

} // namespace

PlainScalarType resolve_plain_scalar(std::string_view value) {
    // Fast path: what starts with none of these characters is a string (go-yaml's resolve table too).
    if (!value.empty() &&
        std::string_view("0123456789+-.~nNyYtTfFoO").find(value.front()) == std::string_view::npos) {
        return PlainScalarType::string;
    }
    static constexpr std::array k_null{"", "~", "null", "Null", "NULL"};
    static constexpr std::array k_bool{"y",  "Y",  "yes",  "Yes",  "YES",  "n",     "N",     "no",
                                       "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
                                       "on", "On", "ON",   "off",  "Off",  "OFF"};
    if (std::find(k_null.begin(), k_null.end(), value) != k_null.end()) {
        return PlainScalarType::null;
    }
    if (std::find(k_bool.begin(), k_bool.end(), value) != k_bool.end()) {
        return PlainScalarType::boolean;
    }
    if (looks_like_integer(value)) {
        return PlainScalarType::integer;
    }
    if (looks_like_float(value)) {
        return PlainScalarType::floating;
    }
    return PlainScalarType::string;
}

bool is_null(const YAML::Node& node) {
    if (!node.IsDefined() || node.IsNull()) {
        return true;
    }
    return node.IsScalar() && node.Tag() == "?" &&
           resolve_plain_scalar(node.Scalar()) == PlainScalarType::null;
}

bool is_string(const YAML::Node& node) {
    if (!node.IsDefined() || !node.IsScalar()) {
        return false;
    }
    return node.Tag() != "?" || resolve_plain_scalar(node.Scalar()) == PlainScalarType::string;
}

YAML::Node make_string_node(std::string_view value) {
    YAML::Node node{std::string(value)};
    node.SetTag("!");
    return node;
}

std::string emit(const YAML::Node& node) {
    Writer writer(nullptr);
    writer.document(node);
    return std::move(writer.out);
}

std::string emit(const YAML::Node& node, std::uint64_t& digest) {
    Digest meaning;
    Writer writer(&meaning);
    writer.document(node);
    digest = meaning.value();
    return std::move(writer.out);
}

bool equal(const YAML::Node& a, const YAML::Node& b) {
    const bool a_null = is_null(a);
    const bool b_null = is_null(b);
    if (a_null || b_null) {
        return a_null == b_null;
    }
    if (a.Type() != b.Type()) {
        return false;
    }
    switch (a.Type()) {
    case YAML::NodeType::Scalar:
        return scalar_meaning(a) == scalar_meaning(b);
    case YAML::NodeType::Sequence:
        if (a.size() != b.size()) {
            return false;
        }
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (!equal(a[i], b[i])) {
                return false;
            }
        }
        return true;
    case YAML::NodeType::Map: {
        if (a.size() != b.size()) {
            return false;
        }
        std::map<std::string, YAML::Node> by_key;
        for (const auto& item : b) {
            by_key.emplace(item.first.Scalar(), item.second);
        }
        for (const auto& item : a) {
            auto it = by_key.find(item.first.Scalar());
            if (it == by_key.end() || !equal(item.second, it->second)) {
                return false;
            }
        }
        return true;
    }
    default:
        return true;
    }
}

} // namespace meshlink::yaml
