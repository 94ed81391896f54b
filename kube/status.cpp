#include "kube/status.hpp"

#include "util/json_text.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace meshlink::kube {
namespace {

// A non-Status body is quoted up to this many characters; enough to recognise a proxy's error page.
constexpr std::size_t k_body_excerpt_chars = 200;

struct ReasonKind {
    std::string_view reason;
    util::ErrorKind kind;
};

constexpr ReasonKind k_reasons[] = {
    {"NotFound", util::ErrorKind::not_found},
    {"AlreadyExists", util::ErrorKind::already_exists},
    {"Conflict", util::ErrorKind::conflict},
    {"Invalid", util::ErrorKind::invalid},
    {"BadRequest", util::ErrorKind::bad_request},
    {"Forbidden", util::ErrorKind::forbidden},
    {"Unauthorized", util::ErrorKind::unauthorized},
    {"TooManyRequests", util::ErrorKind::too_many_requests},
    {"Timeout", util::ErrorKind::timeout},
    {"ServerTimeout", util::ErrorKind::timeout},
    {"ServiceUnavailable", util::ErrorKind::unavailable},
    {"InternalError", util::ErrorKind::unavailable},
    {"MethodNotAllowed", util::ErrorKind::bad_request},
    {"NotAcceptable", util::ErrorKind::bad_request},
    {"UnsupportedMediaType", util::ErrorKind::bad_request},
    {"RequestEntityTooLarge", util::ErrorKind::bad_request},
};

// What to say when the server gave no message of its own.
std::string_view default_message(int http_status) {
    switch (http_status) {
    case 400:
        return "the server rejected the request";
    case 401:
        return "the server did not accept the credentials; check the kubeconfig user";
    case 403:
        return "the user is not allowed to do this";
    case 404:
        return "the server has no such resource";
    case 405:
        return "the server does not allow this method on this resource";
    case 406:
        return "the server cannot answer in the requested format";
    case 409:
        return "the request conflicts with the object's current state";
    case 410:
        return "the requested data has expired";
    case 413:
        return "the request is too large";
    case 415:
        return "the server does not accept this content type";
    case 422:
        return "the server found the object invalid";
    case 429:
        return "the server is rate limiting this client; try again later";
    case 500:
        return "the server failed to process the request";
    case 502:
        return "a proxy or gateway in front of the server failed";
    case 503:
        return "the server is temporarily unavailable";
    case 504:
        return "the server did not answer in time";
    default:
        return "unexpected response";
    }
}

std::string excerpt(std::string_view body) {
    std::string text;
    bool space = false;
    for (char c : body) {
        if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
            space = !text.empty();
            continue;
        }
        if (static_cast<unsigned char>(c) < 0x20) {
            continue;
        }
        if (space) {
            text += ' ';
            space = false;
        }
        text += c;
        if (text.size() >= k_body_excerpt_chars) {
            text += "...";
            break;
        }
    }
    return text;
}

} // namespace

std::optional<ApiStatus> parse_api_status(std::string_view body) {
    const auto parsed = util::parse_json(body);
    if (!parsed || !parsed->is_object() || parsed->value("kind", std::string()) != "Status") {
        return std::nullopt;
    }
    const nlohmann::json& doc = *parsed;
    auto text = [](const nlohmann::json& object, const char* key) {
        auto it = object.find(key);
        return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    ApiStatus status;
    status.status = text(doc, "status");
    status.message = text(doc, "message");
    status.reason = text(doc, "reason");
    if (auto code = doc.find("code"); code != doc.end() && code->is_number_integer()) {
        status.code = code->get<int>();
    }
    if (auto details = doc.find("details"); details != doc.end() && details->is_object()) {
        status.name = text(*details, "name");
        status.group = text(*details, "group");
        status.kind = text(*details, "kind");
        if (auto retry = details->find("retryAfterSeconds");
            retry != details->end() && retry->is_number_integer()) {
            status.retry_after_seconds = retry->get<int>();
        }
    }
    return status;
}

util::ErrorKind error_kind_for(std::string_view reason, int http_status) {
    for (const auto& entry : k_reasons) {
        if (entry.reason == reason) {
            return entry.kind;
        }
    }
    switch (http_status) {
    case 400:
        return util::ErrorKind::bad_request;
    case 401:
        return util::ErrorKind::unauthorized;
    case 403:
        return util::ErrorKind::forbidden;
    case 404:
        return util::ErrorKind::not_found;
    case 409:
        return util::ErrorKind::conflict;
    case 422:
        return util::ErrorKind::invalid;
    case 429:
        return util::ErrorKind::too_many_requests;
    case 504:
        return util::ErrorKind::timeout;
    default:
        break;
    }
    if (http_status >= 500 && http_status <= 599) {
        return util::ErrorKind::unavailable;
    }
    return util::ErrorKind::generic;
}

std::string reason_for_http_status(int http_status) {
    switch (http_status) {
    case 400:
        return "BadRequest";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "NotFound";
    case 405:
        return "MethodNotAllowed";
    case 406:
        return "NotAcceptable";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "RequestEntityTooLarge";
    case 415:
        return "UnsupportedMediaType";
    case 422:
        return "Invalid";
    case 429:
        return "TooManyRequests";
    case 500:
        return "InternalError";
    case 503:
        return "ServiceUnavailable";
    case 504:
        return "Timeout";
    default:
        break;
    }
    // Anything else: the HTTP phrase without spaces ("Bad Gateway" -> "BadGateway").
    std::string reason;
    for (char c : http_reason_phrase(http_status)) {
        if (c != ' ' && c != '-') {
            reason += c;
        }
    }
    return reason.empty() ? "Unknown" : reason;
}

std::string_view http_reason_phrase(int http_status) {
    switch (http_status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Request Entity Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "";
    }
}

util::Error status_error(std::string_view method, std::string_view path, int http_status,
                         std::string_view body) {
    std::string reason;
    std::string message;
    if (auto status = parse_api_status(body)) {
        reason = status->reason;
        message = status->message;
    }
    if (reason.empty()) {
        reason = reason_for_http_status(http_status);
    }
    if (message.empty()) {
        message = default_message(http_status);
        if (!parse_api_status(body) && !excerpt(body).empty()) {
            message += fmt::format(" (response body: \"{}\")", excerpt(body));
        }
    }
    return util::Error{error_kind_for(reason, http_status),
                       fmt::format("{} {}: {} {}: {}", method, path, http_status, reason, message),
                       http_status};
}

} // namespace meshlink::kube
