#pragma once
// HTTP/1.1 messages as the agent's endpoints need them (RFC 9112): a request head parsed strictly into a
// method, a path and whether a body follows, and a response serialised with Content-Length and
// `Connection: close`. No I/O here (http_server.cpp owns the sockets), so every rule is unit-testable.

#include <chrono>
#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

namespace meshlink::agent::serve::http {

struct Request {
    std::string method;    // case-sensitive, as sent ("GET")
    std::string path;      // the target's path, without query ("/metrics"); absolute-form is reduced to it
    bool has_body = false; // Content-Length > 0 or any Transfer-Encoding
    bool http_1_0 = false; // an HTTP/1.0 request (Host is optional there)
};

struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::string allow; // the Allow field of a 405, else empty
};

// A text/plain response whose body is `text` (a newline is appended).
Response plain(int status, std::string_view text);

// The reason phrase of the status codes the server sends ("Not Found"); "Unknown" for others.
std::string_view reason_phrase(int status);

// Where the head (request line, fields and the empty line ending them) ends in `received`, or npos while it
// is incomplete. Empty lines before the request line are skipped and bare LF ends a line (RFC 9112 §2.2).
std::size_t find_head_end(std::string_view received);

// Parses a complete head (as delimited by find_head_end). A malformed head gives the response to send:
// 400 (bad syntax, obsolete line folding, a missing or repeated Host in HTTP/1.1, an invalid
// Content-Length) or 505 (an HTTP major version other than 1).
std::expected<Request, Response> parse_request_head(std::string_view head);

// The bytes to send: status line, Date (`now`), Content-Type, Content-Length, Allow when set,
// `Connection: close`, then the body unless `head_only` (a HEAD request gets the GET's Content-Length).
std::string serialize(const Response& response, bool head_only, std::chrono::system_clock::time_point now);

} // namespace meshlink::agent::serve::http
