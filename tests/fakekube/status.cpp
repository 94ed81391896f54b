#include "tests/fakekube/status.hpp"

#include "tests/fakekube/resources.hpp"

#include <cstdio>

namespace meshlink::fakekube {
namespace {

json resource_details(const ResourceInfo& resource, std::string_view name) {
    json details = json::object();
    if (!name.empty()) {
        details["name"] = name;
    }
    if (!resource.group.empty()) {
        details["group"] = resource.group;
    }
    details["kind"] = resource.plural;
    return details;
}

ApiError make(int code, std::string reason, std::string message, json details = nullptr) {
    ApiError error;
    error.code = code;
    error.reason = std::move(reason);
    error.message = std::move(message);
    error.details = std::move(details);
    return error;
}

} // namespace

std::string Cause::reason() const {
    switch (type) {
    case Type::required:
        return "FieldValueRequired";
    case Type::invalid:
        return "FieldValueInvalid";
    case Type::not_supported:
        return "FieldValueNotSupported";
    case Type::duplicate:
        return "FieldValueDuplicate";
    case Type::forbidden:
        return "FieldValueForbidden";
    case Type::too_long:
        return "FieldValueTooLong";
    }
    return "FieldValueInvalid";
}

std::string Cause::message() const {
    // field.Error.ErrorBody(): "<Type>: <value>: <detail>", omitting what does not apply.
    std::string body;
    switch (type) {
    case Type::required:
        body = "Required value";
        break;
    case Type::invalid:
        body = "Invalid value: " + value;
        break;
    case Type::not_supported:
        body = "Unsupported value: " + value;
        break;
    case Type::duplicate:
        body = "Duplicate value: " + value;
        break;
    case Type::forbidden:
        body = "Forbidden";
        break;
    case Type::too_long:
        body = "Too long";
        break;
    }
    if (!detail.empty()) {
        body += ": " + detail;
    }
    return body;
}

json ApiError::to_status() const {
    json status = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
                   {"status", "Failure"}, {"message", message}, {"reason", reason}};
    if (!details.is_null()) {
        status["details"] = details;
    }
    status["code"] = code;
    return status;
}

Response ApiError::to_response() const {
    Response response = Response::json_body(code, to_status());
    response.headers = headers;
    return response;
}

std::string go_quote(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\r':
            out += "\\r";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buffer[8];
                std::snprintf(buffer, sizeof buffer, "\\x%02x", static_cast<unsigned char>(c));
                out += buffer;
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

ApiError not_found(const ResourceInfo& resource, std::string_view name) {
    return make(404, "NotFound", resource.qualified() + " " + go_quote(name) + " not found",
                resource_details(resource, name));
}

ApiError namespace_not_found(std::string_view ns) {
    return make(404, "NotFound", "namespaces " + go_quote(ns) + " not found",
                json{{"name", std::string(ns)}, {"kind", "namespaces"}});
}

ApiError already_exists(const ResourceInfo& resource, std::string_view name) {
    return make(409, "AlreadyExists", resource.qualified() + " " + go_quote(name) + " already exists",
                resource_details(resource, name));
}

ApiError conflict(const ResourceInfo& resource, std::string_view name, std::string_view why) {
    return make(409, "Conflict",
                "Operation cannot be fulfilled on " + resource.qualified() + " " + go_quote(name) + ": " +
                    std::string(why),
                resource_details(resource, name));
}

ApiError stale_conflict(const ResourceInfo& resource, std::string_view name) {
    return conflict(
        resource, name,
        "the object has been modified; please apply your changes to the latest version and try again");
}

ApiError invalid(const ResourceInfo& resource, std::string_view name, const std::vector<Cause>& causes) {
    // errors.NewInvalid: `<Kind> "<name>" is invalid: <err>` or `...: [<err>, <err>]` for several.
    std::string list;
    json cause_list = json::array();
    for (const auto& cause : causes) {
        std::string one = cause.field.empty() ? cause.message() : cause.field + ": " + cause.message();
        list += list.empty() ? one : ", " + one;
        cause_list.push_back(
            {{"reason", cause.reason()}, {"message", cause.message()}, {"field", cause.field}});
    }
    if (causes.size() > 1) {
        list = "[" + list + "]";
    }
    json details = {{"name", std::string(name)}};
    if (!resource.group.empty()) {
        details["group"] = resource.group;
    }
    details["kind"] = resource.kind;
    details["causes"] = cause_list;
    return make(422, "Invalid", resource.kind + " " + go_quote(name) + " is invalid: " + list, details);
}

ApiError bad_request(std::string message) {
    return make(400, "BadRequest", std::move(message));
}

ApiError forbidden(const ResourceInfo* resource, std::string_view name, std::string message) {
    json details = resource != nullptr ? resource_details(*resource, name) : json::object();
    return make(403, "Forbidden", std::move(message), details);
}

ApiError unauthorized() {
    return make(401, "Unauthorized", "Unauthorized");
}

ApiError method_not_allowed() {
    return make(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                json::object());
}

ApiError unsupported_media_type(std::string_view accepted) {
    return make(415, "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: " +
                    std::string(accepted));
}

ApiError not_acceptable(std::string_view accept) {
    return make(406, "NotAcceptable",
                "only the following media types are accepted: application/json (requested " +
                    std::string(accept) + ")");
}

ApiError gone(std::string message) {
    return make(410, "Expired", std::move(message));
}

ApiError resource_not_found() {
    return make(404, "NotFound", "the server could not find the requested resource", json::object());
}

ApiError too_many_requests(std::string message, int retry_after_seconds) {
    ApiError error =
        make(429, "TooManyRequests", std::move(message), json{{"retryAfterSeconds", retry_after_seconds}});
    error.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
    return error;
}

ApiError internal_error(std::string message) {
    return make(500, "InternalError", "Internal error occurred: " + message,
                json{{"causes", json::array({{{"message", message}}})}});
}

ApiError service_unavailable(std::string message, int retry_after_seconds) {
    ApiError error =
        make(503, "ServiceUnavailable", std::move(message), json{{"retryAfterSeconds", retry_after_seconds}});
    error.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
    return error;
}

json success_status(const ResourceInfo& resource, std::string_view name, std::string_view uid) {
    json details = resource_details(resource, name);
    details["uid"] = uid;
    return {{"kind", "Status"},
            {"apiVersion", "v1"},
            {"metadata", json::object()},
            {"status", "Success"},
            {"details", details}};
}

} // namespace meshlink::fakekube
