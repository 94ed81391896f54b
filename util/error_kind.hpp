#pragma once
// The kinds of error a caller can branch on, without <expected> (util/file.hpp needs them in code that clang
// also compiles for the fuzzer, see CONTRIBUTING.md).

#include <string_view>

namespace meshlink::util {

// What a caller can branch on. The message says the rest.
enum class ErrorKind {
    generic,
    usage,             // bad flags or arguments
    io,                // a file or system call failed
    parse,             // malformed input (YAML, JSON, PEM, ...)
    not_found,         // 404, or a missing file/entry
    already_exists,    // 409 AlreadyExists
    conflict,          // 409 Conflict (stale resourceVersion)
    invalid,           // 422 Invalid
    bad_request,       // 400
    forbidden,         // 403
    unauthorized,      // 401
    too_many_requests, // 429
    timeout,           // request or wait deadline
    unavailable,       // 5xx, or the server could not be reached
    tls,               // certificate verification or handshake failure
    cancelled,
};

std::string_view to_string(ErrorKind kind);

} // namespace meshlink::util
