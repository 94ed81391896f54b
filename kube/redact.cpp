#include "kube/redact.hpp"

#include "util/json_text.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace meshlink::kube {
namespace {

constexpr std::array<std::string_view, 6> k_sensitive_headers = {
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-auth-token", "x-api-key",
};

// Field names whose values are credentials wherever they appear (TokenRequest/TokenReview, ExecCredential,
// kubeconfig-shaped payloads).
constexpr std::array<std::string_view, 7> k_sensitive_fields = {
    "token", "password", "clientKeyData", "client-key-data", "privateKey", "private-key", "client-key",
};

constexpr std::string_view k_last_applied = "kubectl.kubernetes.io/last-applied-configuration";

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

bool path_is_secrets(std::string_view path) {
    path = path.substr(0, path.find('?'));
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        auto segment =
            path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (segment == "secrets") {
            return true;
        }
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
    }
    return false;
}

void redact_values(nlohmann::json& object) {
    if (object.is_object()) {
        for (auto& [key, value] : object.items()) {
            value = k_redacted;
        }
    } else if (!object.is_null()) {
        object = k_redacted;
    }
}

void redact_secret(nlohmann::json& secret) {
    if (!secret.is_object()) {
        return;
    }
    for (const char* field : {"data", "stringData"}) {
        if (auto it = secret.find(field); it != secret.end()) {
            redact_values(*it);
        }
    }
    // `kubectl apply` stores the whole Secret, data included, in this annotation.
    if (auto metadata = secret.find("metadata"); metadata != secret.end() && metadata->is_object()) {
        if (auto annotations = metadata->find("annotations");
            annotations != metadata->end() && annotations->is_object()) {
            if (auto it = annotations->find(k_last_applied); it != annotations->end()) {
                *it = k_redacted;
            }
        }
    }
}

void walk(nlohmann::json& node) {
    if (node.is_array()) {
        for (auto& item : node) {
            walk(item);
        }
        return;
    }
    if (!node.is_object()) {
        return;
    }
    const std::string kind =
        node.contains("kind") && node["kind"].is_string() ? node["kind"].get<std::string>() : "";
    if (kind == "Secret") {
        redact_secret(node);
    } else if (kind == "SecretList") {
        if (auto items = node.find("items"); items != node.end() && items->is_array()) {
            for (auto& item : *items) {
                redact_secret(item);
            }
        }
    }
    for (auto& [key, value] : node.items()) {
        if (std::find(k_sensitive_fields.begin(), k_sensitive_fields.end(), key) !=
                k_sensitive_fields.end() &&
            !value.is_null()) {
            value = k_redacted;
            continue;
        }
        walk(value);
    }
}

} // namespace

bool is_sensitive_header(std::string_view name) {
    const std::string key = lower(name);
    return std::find(k_sensitive_headers.begin(), k_sensitive_headers.end(), key) !=
           k_sensitive_headers.end();
}

std::string redact_header_value(std::string_view name, std::string_view value) {
    if (!is_sensitive_header(name)) {
        return std::string(value);
    }
    // Keep "Bearer"/"Basic" so a log still shows which method was used.
    if (lower(name).ends_with("authorization")) {
        auto space = value.find(' ');
        if (space != std::string_view::npos) {
            return fmt::format("{} {}", value.substr(0, space), k_redacted);
        }
    }
    return std::string(k_redacted);
}

std::string redact_url(std::string_view url, std::string_view replacement) {
    const auto scheme_end = url.find("://");
    const auto start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
    const auto at = url.rfind('@');
    if (at == std::string_view::npos || at < start) {
        return std::string(url);
    }
    return fmt::format("{}{}{}", url.substr(0, start), replacement, url.substr(at));
}

std::string redact_urls_in_text(std::string_view text) {
    std::string out;
    std::size_t done = 0;
    for (auto scheme = text.find("://"); scheme != std::string_view::npos; scheme = text.find("://", done)) {
        const auto end = std::min(text.find_first_of(" \t\r\n'\"", scheme), text.size());
        // The scheme's letters belong to the URL; start after what was already copied.
        auto start = scheme;
        while (start > done && std::isalnum(static_cast<unsigned char>(text[start - 1])) != 0) {
            --start;
        }
        out.append(text.substr(done, start - done));
        out += redact_url(text.substr(start, end - start));
        done = end;
    }
    out.append(text.substr(done));
    return out;
}

std::string redact_body(std::string_view path, std::string_view body) {
    if (body.empty()) {
        return {};
    }
    auto parsed = util::parse_json(body);
    if (!parsed) {
        return fmt::format("<{} bytes, {}, not shown>", body.size(), parsed.error().message);
    }
    nlohmann::json& doc = *parsed;
    if (path_is_secrets(path)) {
        // Patches and lists sent to or read from secrets need not carry a kind.
        if (doc.is_object() && doc.contains("items") && doc["items"].is_array()) {
            for (auto& item : doc["items"]) {
                redact_secret(item);
            }
        } else if (doc.is_object()) {
            redact_secret(doc);
        } else if (doc.is_array()) {
            // JSON patch: the values of operations on /data and /stringData.
            for (auto& op : doc) {
                if (op.is_object() && op.contains("value") && op.contains("path") && op["path"].is_string()) {
                    const auto target = op["path"].get<std::string>();
                    if (target.starts_with("/data") || target.starts_with("/stringData") ||
                        target.starts_with("/metadata/annotations")) {
                        op["value"] = k_redacted;
                    }
                }
            }
        }
    }
    walk(doc);
    return doc.dump();
}

} // namespace meshlink::kube
