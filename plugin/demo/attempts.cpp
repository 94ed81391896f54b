#include "plugin/demo/attempts.hpp"

#include "util/json_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace meshlink::plugin::demo {
namespace {

using nlohmann::json;

constexpr std::size_t k_max_line = 4096;

bool valid_name(const std::string& name) {
    return !name.empty() && name.size() <= 63 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '-';
    });
}

bool contains_lower(std::string_view text, std::string_view needle) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return lower.find(needle) != std::string::npos;
}

} // namespace

std::string_view to_string(Outcome outcome) {
    switch (outcome) {
    case Outcome::reply:
        return "reply";
    case Outcome::http_error:
        return "http-error";
    case Outcome::dns:
        return "dns";
    case Outcome::refused:
        return "refused";
    case Outcome::unreachable:
        return "unreachable";
    case Outcome::timeout:
        return "timeout";
    case Outcome::reset:
        return "reset";
    case Outcome::other:
        return "other";
    }
    return "other";
}

Outcome classify(int curl_exit, int http, std::string_view error) {
    switch (curl_exit) {
    case 0:
        return http >= 200 && http <= 299 ? Outcome::reply : Outcome::http_error;
    case 6:
        return Outcome::dns;
    case 7:
        // Older curl names the errno ("Connection refused", "No route to host"); newer curl (7.8x, 8.x)
        // prints "Couldn't connect to server" for a refused connection and names only the other causes.
        return contains_lower(error, "unreachable") || contains_lower(error, "no route")
                   ? Outcome::unreachable
                   : Outcome::refused;
    case 28:
        return Outcome::timeout;
    case 52:
    case 56:
        return Outcome::reset;
    default:
        return Outcome::other;
    }
}

std::optional<std::string> string_field(const json& line, const char* key, std::size_t limit) {
    auto it = line.find(key);
    if (it == line.end() || !it->is_string() || it->get_ref<const std::string&>().size() > limit) {
        return std::nullopt;
    }
    return it->get<std::string>();
}

std::optional<int> int_field(const json& line, const char* key) {
    auto it = line.find(key);
    if (it == line.end() || !it->is_number_integer()) {
        return std::nullopt;
    }
    const auto value = it->get<long long>();
    if (value < 0 || value > 100000) {
        return std::nullopt;
    }
    return static_cast<int>(value);
}

JsonLines scan_json_lines(std::string_view log, const std::function<bool(const json&)>& take) {
    JsonLines out;
    std::size_t start = 0;
    while (start < log.size()) {
        auto end = log.find('\n', start);
        if (end == std::string_view::npos) {
            end = log.size();
        }
        const std::string_view line = log.substr(start, end - start);
        start = end + 1;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
            continue;
        }
        const json doc = line.size() <= k_max_line ? util::parse_json(line).value_or(json()) : json();
        if (!doc.is_object() || int_field(doc, "v") != 1) {
            ++out.noise;
        } else if (string_field(doc, "kind") == "done") {
            out.complete = true;
        } else if (!take(doc)) {
            ++out.noise;
        }
    }
    return out;
}

ClientRun parse_client_log(std::string_view log) {
    ClientRun run;
    const JsonLines scanned = scan_json_lines(log, [&](const json& doc) {
        const auto kind = string_field(doc, "kind");
        const auto target = string_field(doc, "target");
        const auto index = int_field(doc, "i");
        const auto curl_exit = int_field(doc, "rc");
        const auto http = int_field(doc, "http");
        const auto cluster = string_field(doc, "cluster");
        const auto error = string_field(doc, "error");
        if ((kind != "service" && kind != "pod") || !target || target->empty() || !index || !curl_exit ||
            !http || !cluster || !error) {
            return false;
        }
        Attempt attempt;
        attempt.kind = *kind;
        attempt.target = *target;
        attempt.index = *index;
        attempt.curl_exit = *curl_exit;
        attempt.http = *http;
        attempt.cluster = valid_name(*cluster) ? *cluster : std::string();
        attempt.error = *error;
        attempt.outcome = classify(attempt.curl_exit, attempt.http, attempt.error);
        run.attempts.push_back(std::move(attempt));
        return true;
    });
    run.complete = scanned.complete;
    run.noise = scanned.noise;
    return run;
}

} // namespace meshlink::plugin::demo
