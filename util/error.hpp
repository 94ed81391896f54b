#pragma once
// Errors as values for recoverable failures, and the two exception types that only main() catches.

#include "util/error_kind.hpp"

#include <expected>
#include <stdexcept>
#include <string>
#include <string_view>

namespace meshlink::util {

// A failure with a message built where it happened ("GET /api/v1/...: 404 NotFound: ...").
struct Error {
    ErrorKind kind = ErrorKind::generic;
    std::string message;
    int http_status = 0; // 0 when no HTTP response was involved

    // Returns a copy whose message is "<prefix>: <message>", for crossing a layer.
    [[nodiscard]] Error with_context(std::string_view prefix) const;
};

template <typename T = void>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorKind kind, std::string message, int http_status = 0) {
    return std::unexpected(Error{kind, std::move(message), http_status});
}

// Thrown for a user-facing fatal condition; main() prints "<program>: error: <what>" and exits with
// exit_code() (2 for usage and runtime errors, see README "Exit codes").
class Fatal : public std::runtime_error {
public:
    explicit Fatal(const std::string& message, int exit_code = 2)
        : std::runtime_error(message), m_exit_code(exit_code) {}
    explicit Fatal(const Error& error, int exit_code = 2) : Fatal(error.message, exit_code) {}
    [[nodiscard]] int exit_code() const noexcept { return m_exit_code; }

private:
    int m_exit_code;
};

// Thrown for bad flags or arguments; main() also prints a usage hint.
class UsageError : public Fatal {
public:
    explicit UsageError(const std::string& message) : Fatal(message, 2) {}
};

// Returns the value or throws Fatal with the error's message, prefixed when `prefix` is not empty.
template <typename T>
T value_or_throw(Result<T>&& result, std::string_view prefix = {}) {
    if (!result) {
        throw Fatal(prefix.empty() ? result.error() : result.error().with_context(prefix));
    }
    if constexpr (!std::is_void_v<T>) {
        return std::move(*result);
    }
}

} // namespace meshlink::util
