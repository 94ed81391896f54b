#include "util/error.hpp"

namespace meshlink::util {

std::string_view to_string(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::generic:
        return "error";
    case ErrorKind::usage:
        return "usage";
    case ErrorKind::io:
        return "io";
    case ErrorKind::parse:
        return "parse";
    case ErrorKind::not_found:
        return "not_found";
    case ErrorKind::already_exists:
        return "already_exists";
    case ErrorKind::conflict:
        return "conflict";
    case ErrorKind::invalid:
        return "invalid";
    case ErrorKind::bad_request:
        return "bad_request";
    case ErrorKind::forbidden:
        return "forbidden";
    case ErrorKind::unauthorized:
        return "unauthorized";
    case ErrorKind::too_many_requests:
        return "too_many_requests";
    case ErrorKind::timeout:
        return "timeout";
    case ErrorKind::unavailable:
        return "unavailable";
    case ErrorKind::tls:
        return "tls";
    case ErrorKind::cancelled:
        return "cancelled";
    }
    return "error";
}

Error Error::with_context(std::string_view prefix) const {
    Error copy = *this;
    copy.message = std::string(prefix) + ": " + message;
    return copy;
}

} // namespace meshlink::util
