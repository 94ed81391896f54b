#pragma once
// Kubernetes API errors: a non-2xx answer becomes an Error whose kind callers branch on and whose message
// reads "<METHOD> <path>: <code> <Reason>: <message>", e.g.
// `GET /api/v1/namespaces/kube-system/secrets/cilium-ca: 404 NotFound: secrets "cilium-ca" not found`.

#include "util/error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace meshlink::kube {

// A decoded metav1.Status (only the parts a client needs).
struct ApiStatus {
    std::string status; // "Failure" / "Success"
    std::string message;
    std::string reason; // "NotFound", "AlreadyExists", ...
    int code = 0;
    std::string name;                       // details.name
    std::string group;                      // details.group
    std::string kind;                       // details.kind
    std::optional<int> retry_after_seconds; // details.retryAfterSeconds
};

// Parses `body` when it is a JSON object with kind "Status"; nullopt otherwise.
std::optional<ApiStatus> parse_api_status(std::string_view body);

// The ErrorKind for a Status reason, falling back on the HTTP code when the reason is empty or unknown.
util::ErrorKind error_kind_for(std::string_view reason, int http_status);

// The reason kube-apiserver uses for a bare HTTP code (404 -> "NotFound", 500 -> "InternalError").
std::string reason_for_http_status(int http_status);

// The HTTP reason phrase ("OK", "Not Found", "Too Many Requests"), "" when unknown.
std::string_view http_reason_phrase(int http_status);

// The error for a non-2xx response to `method` `path`. A Status body gives reason and message; any other
// body (an HTML page from a proxy, plain text) still gives a clear message with a short excerpt.
util::Error status_error(std::string_view method, std::string_view path, int http_status,
                         std::string_view body);

} // namespace meshlink::kube
