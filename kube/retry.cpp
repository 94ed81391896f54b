#include "kube/retry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace meshlink::kube {

bool is_idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
           method == "OPTIONS";
}

bool is_retryable_status(int http_status) {
    if (http_status == 429) {
        return true;
    }
    return http_status >= 500 && http_status <= 599 && http_status != 501 && http_status != 505;
}

RetryDecision decide_retry(const RetryPolicy& policy, const AttemptOutcome& outcome, int attempt,
                           double random_unit) {
    if (attempt >= policy.max_attempts) {
        return {};
    }
    if (!is_idempotent(outcome.method) && !outcome.caller_says_safe) {
        return {};
    }
    switch (outcome.transport) {
    case TransportFailure::connect:
        if (attempt >= policy.max_connect_attempts) {
            return {};
        }
        break;
    case TransportFailure::reset:
        break;
    case TransportFailure::none:
        if (!is_retryable_status(outcome.http_status)) {
            return {};
        }
        break;
    case TransportFailure::timeout:
    case TransportFailure::tls:
    case TransportFailure::other:
        return {};
    }

    if (outcome.transport == TransportFailure::none && outcome.retry_after) {
        auto wait = std::clamp(*outcome.retry_after, std::chrono::seconds(0), policy.max_retry_after);
        return {true, std::chrono::duration_cast<std::chrono::milliseconds>(wait)};
    }
    // The ceiling doubles per attempt; compute in double so large attempt counts cannot overflow.
    const double ceiling_ms =
        std::min(static_cast<double>(policy.max_delay.count()),
                 static_cast<double>(policy.base_delay.count()) * std::pow(2.0, attempt - 1));
    const double unit = std::clamp(random_unit, 0.0, 1.0);
    auto delay = std::chrono::milliseconds(static_cast<std::int64_t>(std::floor(unit * ceiling_ms)));
    return {true, delay};
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r')) {
        value.remove_suffix(1);
    }
    if (value.empty()) {
        return std::nullopt;
    }
    long long seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) {
        return std::nullopt;
    }
    return std::chrono::seconds(seconds);
}

} // namespace meshlink::kube
