#pragma once
// When a failed request is tried again, and after how long. Pure functions: the client feeds in what
// happened and a random number, so the policy is unit-testable without a server or a clock.

#include <chrono>
#include <optional>
#include <string_view>

namespace meshlink::kube {

struct RetryPolicy {
    int max_attempts = 10; // first try included; client-go's maxRetries is 10
    // A refused or unreachable server is usually down, not flapping: give up sooner so a dead cluster
    // fails in about a second instead of half a minute.
    int max_connect_attempts = 4;
    std::chrono::milliseconds base_delay{100}; // the backoff ceiling before the 2nd attempt
    std::chrono::milliseconds max_delay{std::chrono::seconds(10)}; // the ceiling never grows past this
    std::chrono::seconds max_retry_after{60}; // a longer Retry-After is capped, not obeyed blindly
};

// How a request failed before any HTTP status arrived.
enum class TransportFailure {
    none,    // an HTTP response arrived (see http_status)
    connect, // no connection could be made (refused, unreachable)
    reset,   // the connection broke while sending or receiving (reset, closed, HTTP/2 stream error)
    timeout, // the request timeout passed: not retried, the user chose that bound
    tls,     // certificate or handshake failure: retrying cannot help
    other,
};

struct AttemptOutcome {
    std::string_view method;       // "GET", "POST", ...
    bool caller_says_safe = false; // the caller states that repeating the request is harmless
    TransportFailure transport = TransportFailure::none;
    int http_status = 0;                             // when transport == none
    std::optional<std::chrono::seconds> retry_after; // the Retry-After header, if any
};

struct RetryDecision {
    bool retry = false;
    std::chrono::milliseconds delay{0};
};

// GET, HEAD, PUT and DELETE may be repeated without changing the result; POST and PATCH may not.
bool is_idempotent(std::string_view method);

// True for the HTTP statuses worth another try: 429 and 5xx except 501/505 (which will not change).
bool is_retryable_status(int http_status);

// Decides about attempt number `attempt` (1-based) that just failed with `outcome`. Retries only
// idempotent requests (or ones the caller vouches for), only on 429, retryable 5xx, connection failures
// and resets, and never past policy.max_attempts (policy.max_connect_attempts for connection failures). The
// delay honours Retry-After (capped at max_retry_after); otherwise it is "full jitter": random_unit (in
// [0,1)) times min(max_delay, base_delay * 2^(attempt-1)).
RetryDecision decide_retry(const RetryPolicy& policy, const AttemptOutcome& outcome, int attempt,
                           double random_unit);

// Parses a Retry-After header given in seconds; HTTP dates and garbage yield nullopt.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value);

} // namespace meshlink::kube
