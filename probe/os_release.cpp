#include "probe/os_release.hpp"

#include <cstddef>
#include <optional>
#include <system_error>

namespace meshlink::probe {
namespace {

constexpr std::size_t k_max_problems = 5;
constexpr std::size_t k_max_size = 64 * 1024;

bool is_key_start(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool is_key_char(char c) {
    return is_key_start(c) || (c >= '0' && c <= '9');
}

// Unquotes a value: "..." with \" \\ \$ \` escapes, '...' literally, or a bare word. Returns nullopt with
// `why` set when the quoting is broken (an unterminated quote is what a truncated file looks like).
std::optional<std::string> unquote(std::string_view value, std::string& why) {
    if (value.empty()) {
        return std::string();
    }
    const char quote = value.front();
    if (quote != '"' && quote != '\'') {
        for (char c : value) {
            if (c == '"' || c == '\'' || c == '\\' || c == '`' || c == '$') {
                why = "unquoted value contains shell special characters";
                return std::nullopt;
            }
        }
        return std::string(value);
    }
    std::string out;
    std::size_t i = 1;
    for (; i < value.size(); ++i) {
        const char c = value[i];
        if (c == quote) {
            break;
        }
        if (quote == '"' && c == '\\' && i + 1 < value.size()) {
            const char next = value[i + 1];
            if (next == '"' || next == '\\' || next == '$' || next == '`') {
                out += next;
                ++i;
                continue;
            }
        }
        out += c;
    }
    if (i >= value.size()) {
        why = "unterminated quote";
        return std::nullopt;
    }
    if (i + 1 != value.size()) {
        why = "text after the closing quote";
        return std::nullopt;
    }
    return out;
}

} // namespace

std::string OsRelease::get(std::string_view key) const {
    auto it = fields.find(std::string(key));
    return it == fields.end() ? std::string() : it->second;
}

std::vector<std::string> OsRelease::id_like() const {
    std::vector<std::string> out;
    const std::string like = get("ID_LIKE");
    std::size_t pos = 0;
    while (pos < like.size()) {
        const std::size_t end = like.find(' ', pos);
        const std::size_t stop = end == std::string::npos ? like.size() : end;
        if (stop > pos) {
            out.push_back(like.substr(pos, stop - pos));
        }
        pos = stop + 1;
    }
    return out;
}

bool OsRelease::is_like(std::string_view id) const {
    if (get("ID") == id) {
        return true;
    }
    for (const auto& like : id_like()) {
        if (like == id) {
            return true;
        }
    }
    return false;
}

OsRelease parse_os_release(std::string_view text) {
    OsRelease out;
    std::size_t line_no = 0;
    const auto problem = [&](std::string why) {
        if (out.problems.size() < k_max_problems) {
            out.problems.push_back("line " + std::to_string(line_no) + ": " + std::move(why));
        }
    };
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t end = text.find('\n', pos);
        const std::string_view raw =
            text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        pos = end == std::string_view::npos ? text.size() : end + 1;
        ++line_no;
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const std::size_t eq = line.find('=');
        if (eq == std::string_view::npos || eq == 0 || !is_key_start(line.front())) {
            problem("not a KEY=value assignment");
            continue;
        }
        const std::string_view key = line.substr(0, eq);
        bool key_ok = true;
        for (char c : key) {
            key_ok = key_ok && is_key_char(c);
        }
        if (!key_ok) {
            problem("invalid variable name");
            continue;
        }
        std::string why;
        auto value = unquote(line.substr(eq + 1), why);
        if (!value) {
            problem(std::string(key) + ": " + why);
            continue;
        }
        out.fields[std::string(key)] = std::move(*value);
    }
    return out;
}

OsRelease read_os_release(const Host& host) {
    std::string errors;
    for (const char* candidate : {"/etc/os-release", "/usr/lib/os-release"}) {
        auto path = host.in_root(candidate);
        // An absolute symlink points into the host's tree, not ours: resolve it under the root.
        std::error_code ec;
        if (std::filesystem::is_symlink(path, ec)) {
            const auto target = std::filesystem::read_symlink(path, ec);
            if (!ec && target.is_absolute()) {
                path = host.in_root(target.string());
            }
        }
        FileText file = read_text(path, k_max_size);
        if (!file.text) {
            errors += (errors.empty() ? "" : "; ") + file.error;
            continue;
        }
        OsRelease out = parse_os_release(*file.text);
        out.source = path.string();
        return out;
    }
    OsRelease out;
    out.error = errors;
    return out;
}

} // namespace meshlink::probe
