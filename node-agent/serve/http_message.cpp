#include "node-agent/serve/http_message.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <optional>
#include <vector>

namespace meshlink::agent::serve::http {
namespace {

// RFC 9110 §5.6.2: tchar.
bool is_token_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char);
}

bool is_digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Field values may hold visible ASCII, spaces, tabs and obs-text, never other control characters.
bool is_field_value(std::string_view text) {
    return std::none_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return (byte < 0x20 && c != '\t') || byte == 0x7f;
    });
}

std::string_view trim_whitespace(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
               return lower(x) == lower(y);
           });
}

std::unexpected<Response> bad_request(std::string_view why) {
    return std::unexpected(plain(400, fmt::format("bad request: {}", why)));
}

// The path of an origin-form ("/metrics?x") or absolute-form ("http://host:9473/metrics") target, without
// the query; nothing for other forms (authority, asterisk), which no endpoint takes.
std::optional<std::string> target_path(std::string_view target) {
    if (std::any_of(target.begin(), target.end(), [](char c) {
            const auto byte = static_cast<unsigned char>(c);
            return byte <= 0x20 || byte >= 0x7f;
        })) {
        return std::nullopt;
    }
    if (!target.starts_with('/')) {
        const auto scheme_end = target.find("://");
        if (scheme_end == std::string_view::npos ||
            !(equals_ignoring_case(target.substr(0, scheme_end), "http") ||
              equals_ignoring_case(target.substr(0, scheme_end), "https"))) {
            return std::nullopt;
        }
        const auto authority_end = target.find_first_of("/?", scheme_end + 3);
        target =
            authority_end == std::string_view::npos ? std::string_view("/") : target.substr(authority_end);
        if (target.starts_with('?')) {
            return std::string("/");
        }
    }
    return std::string(target.substr(0, target.find('?')));
}

std::string http_date(std::chrono::system_clock::time_point now) {
    // IMF-fixdate (RFC 9110 §5.6.7); names spelled out, as strftime's would follow the locale.
    static constexpr std::string_view k_days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::string_view k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", k_days[utc.tm_wday % 7], utc.tm_mday,
                       k_months[utc.tm_mon % 12], utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

} // namespace

Response plain(int status, std::string_view text) {
    Response response;
    response.status = status;
    response.body = fmt::format("{}\n", text);
    return response;
}

std::string_view reason_phrase(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

std::size_t find_head_end(std::string_view received) {
    std::size_t start = 0;
    while (start < received.size() && (received[start] == '\n' || received[start] == '\r')) {
        if (received[start] == '\r' && start + 1 == received.size()) {
            return std::string_view::npos; // a CR whose LF has not arrived yet
        }
        ++start;
    }
    for (auto eol = received.find('\n', start); eol != std::string_view::npos;
         eol = received.find('\n', eol + 1)) {
        if (eol + 1 < received.size() && received[eol + 1] == '\n') {
            return eol + 2;
        }
        if (eol + 2 < received.size() && received[eol + 1] == '\r' && received[eol + 2] == '\n') {
            return eol + 3;
        }
    }
    return std::string_view::npos;
}

std::expected<Request, Response> parse_request_head(std::string_view head) {
    while (!head.empty() && (head.front() == '\n' || head.front() == '\r')) {
        head.remove_prefix(1);
    }
    // Split into lines; each ends in LF with an optional CR before it, and no other CR may appear.
    std::vector<std::string_view> lines;
    while (!head.empty()) {
        const auto eol = head.find('\n');
        std::string_view line = head.substr(0, eol);
        head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 1);
        if (line.ends_with('\r')) {
            line.remove_suffix(1);
        }
        if (line.find('\r') != std::string_view::npos) {
            return bad_request("a bare CR in the request head");
        }
        if (line.empty()) {
            break;
        }
        lines.push_back(line);
    }
    if (lines.empty()) {
        return bad_request("no request line");
    }

    // request-line = method SP request-target SP HTTP-version, single spaces.
    const std::string_view request_line = lines.front();
    const auto first_space = request_line.find(' ');
    const auto last_space = request_line.rfind(' ');
    if (first_space == std::string_view::npos || first_space == last_space) {
        return bad_request("the request line is not \"METHOD TARGET HTTP/1.1\"");
    }
    const std::string_view method = request_line.substr(0, first_space);
    const std::string_view target = request_line.substr(first_space + 1, last_space - first_space - 1);
    const std::string_view version = request_line.substr(last_space + 1);
    if (!is_token(method)) {
        return bad_request("the method is not a token");
    }
    if (version.size() != 8 || !version.starts_with("HTTP/") || !is_digits(version.substr(5, 1)) ||
        version[6] != '.' || !is_digits(version.substr(7, 1))) {
        return bad_request("the request line does not end in an HTTP version");
    }
    if (version[5] != '1') {
        return std::unexpected(plain(505, fmt::format("{} is not supported: use HTTP/1.1", version)));
    }
    auto path = target_path(target);
    if (!path) {
        return bad_request("the request target is neither a path nor an http URL");
    }

    Request request;
    request.method = std::string(method);
    request.path = std::move(*path);
    request.http_1_0 = version[7] == '0';
    int hosts = 0;
    std::optional<std::string_view> content_length;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const std::string_view line = lines[i];
        if (line.front() == ' ' || line.front() == '\t') {
            return bad_request("obsolete line folding in a header field");
        }
        const auto colon = line.find(':');
        const std::string_view name = line.substr(0, colon);
        if (colon == std::string_view::npos || !is_token(name)) {
            return bad_request(fmt::format("malformed header field \"{}\"", name.substr(0, 64)));
        }
        const std::string_view value = trim_whitespace(line.substr(colon + 1));
        if (!is_field_value(value)) {
            return bad_request(fmt::format("a control character in header field {}", name));
        }
        if (equals_ignoring_case(name, "host")) {
            ++hosts;
        } else if (equals_ignoring_case(name, "transfer-encoding")) {
            request.has_body = true;
        } else if (equals_ignoring_case(name, "content-length")) {
            if (!is_digits(value) || (content_length && *content_length != value)) {
                return bad_request("an invalid Content-Length");
            }
            content_length = value;
            request.has_body = request.has_body || value.find_first_not_of('0') != std::string_view::npos;
        }
    }
    // RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host.
    if (!request.http_1_0 && hosts != 1) {
        return bad_request(hosts == 0 ? "no Host header field" : "more than one Host header field");
    }
    return request;
}

std::string serialize(const Response& response, bool head_only, std::chrono::system_clock::time_point now) {
    std::string out = fmt::format("HTTP/1.1 {} {}\r\nDate: {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
                                  response.status, reason_phrase(response.status), http_date(now),
                                  response.content_type, response.body.size());
    if (!response.allow.empty()) {
        out += fmt::format("Allow: {}\r\n", response.allow);
    }
    out += "Connection: close\r\n\r\n";
    if (!head_only) {
        out += response.body;
    }
    return out;
}

} // namespace meshlink::agent::serve::http
