#pragma once
// kube-apiserver's error answers: a metav1.Status body with reason, details and code, and the message
// texts the real server writes (apimachinery's errors package), so kubectl prints them the same way.

#include "tests/fakekube/http.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace meshlink::fakekube {

struct ResourceInfo;

// One field error of a 422 Invalid, as field.Error renders it.
struct Cause {
    enum class Type { required, invalid, not_supported, duplicate, forbidden, too_long };
    Type type = Type::invalid;
    std::string field;  // "spec.ports[0].port"
    std::string value;  // already rendered the Go way (quoted string, number, ...); empty for required
    std::string detail; // "must be between 1 and 65535, inclusive"

    [[nodiscard]] std::string reason() const;  // FieldValueInvalid, ...
    [[nodiscard]] std::string message() const; // "Invalid value: 70000: must be ..."
};

struct ApiError {
    int code = 500;
    std::string reason;
    std::string message;
    json details; // null when the real server sends none
    std::vector<std::pair<std::string, std::string>> headers;

    [[nodiscard]] json to_status() const;
    [[nodiscard]] Response to_response() const;
};

// `"x"` rendered like Go's %q for the common cases (quotes, backslashes, control characters).
std::string go_quote(std::string_view text);

ApiError not_found(const ResourceInfo& resource, std::string_view name);
ApiError namespace_not_found(std::string_view ns);
ApiError already_exists(const ResourceInfo& resource, std::string_view name);
ApiError conflict(const ResourceInfo& resource, std::string_view name, std::string_view why);
ApiError stale_conflict(const ResourceInfo& resource, std::string_view name);
ApiError invalid(const ResourceInfo& resource, std::string_view name, const std::vector<Cause>& causes);
ApiError bad_request(std::string message);
ApiError forbidden(const ResourceInfo* resource, std::string_view name, std::string message);
ApiError unauthorized();
ApiError method_not_allowed();
// `accepted` lists the media types, as the real message does.
ApiError unsupported_media_type(std::string_view accepted);
ApiError not_acceptable(std::string_view accept);
ApiError gone(std::string message);
ApiError resource_not_found(); // "the server could not find the requested resource"
ApiError too_many_requests(std::string message, int retry_after_seconds);
ApiError internal_error(std::string message);
ApiError service_unavailable(std::string message, int retry_after_seconds);

// {"kind":"Status","status":"Success",...} as DELETE answers for resources that do not return the object.
json success_status(const ResourceInfo& resource, std::string_view name, std::string_view uid);

} // namespace meshlink::fakekube
