#include "kube/retry.hpp"
#include "util/error.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace meshlink::kube;
using namespace meshlink::util;
using namespace std::chrono_literals;

namespace {

AttemptOutcome http(std::string_view method, int status, bool safe = false) {
    AttemptOutcome outcome;
    outcome.method = method;
    outcome.http_status = status;
    outcome.caller_says_safe = safe;
    return outcome;
}

AttemptOutcome transport(std::string_view method, TransportFailure failure, bool safe = false) {
    AttemptOutcome outcome;
    outcome.method = method;
    outcome.transport = failure;
    outcome.caller_says_safe = safe;
    return outcome;
}

bool retries(const AttemptOutcome& outcome, int attempt = 1) {
    return decide_retry(RetryPolicy{}, outcome, attempt, 0.5).retry;
}

} // namespace

BOOST_AUTO_TEST_SUITE(retry)

BOOST_AUTO_TEST_CASE(idempotent_requests_retry_on_429_5xx_and_broken_connections) {
    for (std::string_view method : {"GET", "PUT", "DELETE", "HEAD"}) {
        for (int status : {429, 500, 502, 503, 504}) {
            BOOST_TEST(retries(http(method, status)), method << " " << status);
        }
        BOOST_TEST(retries(transport(method, TransportFailure::connect)), method);
        BOOST_TEST(retries(transport(method, TransportFailure::reset)), method);
    }
}

BOOST_AUTO_TEST_CASE(answers_that_will_not_change_are_not_retried) {
    for (int status : {200, 201, 400, 401, 403, 404, 409, 410, 422, 501, 505}) {
        BOOST_TEST(!retries(http("GET", status)), status);
    }
    BOOST_TEST(!retries(transport("GET", TransportFailure::timeout)));
    BOOST_TEST(!retries(transport("GET", TransportFailure::tls)));
    BOOST_TEST(!retries(transport("GET", TransportFailure::other)));
}

BOOST_AUTO_TEST_CASE(post_and_patch_retry_only_when_the_caller_says_it_is_safe) {
    for (std::string_view method : {"POST", "PATCH"}) {
        BOOST_TEST(!retries(http(method, 503)), method);
        BOOST_TEST(!retries(http(method, 429)), method);
        BOOST_TEST(!retries(transport(method, TransportFailure::reset)), method);
        BOOST_TEST(!retries(transport(method, TransportFailure::connect)), method);
        BOOST_TEST(retries(http(method, 503, true)), method);
        BOOST_TEST(retries(transport(method, TransportFailure::reset, true)), method);
        // Vouching does not make a 4xx worth repeating.
        BOOST_TEST(!retries(http(method, 409, true)), method);
    }
}

BOOST_AUTO_TEST_CASE(attempts_are_capped) {
    RetryPolicy policy;
    policy.max_attempts = 4;
    policy.max_connect_attempts = 2;
    BOOST_TEST(decide_retry(policy, http("GET", 503), 3, 0.5).retry);
    BOOST_TEST(!decide_retry(policy, http("GET", 503), 4, 0.5).retry);
    BOOST_TEST(!decide_retry(policy, http("GET", 503), 9, 0.5).retry);
    BOOST_TEST(decide_retry(policy, transport("GET", TransportFailure::connect), 1, 0.5).retry);
    BOOST_TEST(!decide_retry(policy, transport("GET", TransportFailure::connect), 2, 0.5).retry);
    // Resets are not connection failures: the longer cap applies.
    BOOST_TEST(decide_retry(policy, transport("GET", TransportFailure::reset), 3, 0.5).retry);
}

BOOST_AUTO_TEST_CASE(backoff_ceiling_doubles_up_to_the_maximum_and_jitter_stays_below_it) {
    RetryPolicy policy;
    policy.base_delay = 100ms;
    policy.max_delay = 1000ms;
    policy.max_attempts = 100;
    // Documented ceiling per attempt: min(max_delay, base * 2^(attempt-1)).
    const std::int64_t ceilings[] = {100, 200, 400, 800, 1000, 1000, 1000};
    for (int attempt = 1; attempt <= 7; ++attempt) {
        const auto ceiling = ceilings[attempt - 1];
        auto low = decide_retry(policy, http("GET", 503), attempt, 0.0);
        auto high = decide_retry(policy, http("GET", 503), attempt, 0.999999);
        auto mid = decide_retry(policy, http("GET", 503), attempt, 0.5);
        BOOST_TEST(low.retry);
        BOOST_TEST(low.delay.count() == 0);       // full jitter reaches down to zero
        BOOST_TEST(high.delay.count() < ceiling); // and never up to the ceiling
        BOOST_TEST(high.delay.count() >= ceiling - 1);
        BOOST_TEST(mid.delay.count() == ceiling / 2);
    }
    // A huge attempt number neither overflows nor exceeds the maximum.
    auto late = decide_retry(policy, http("GET", 503), 90, 0.999999);
    BOOST_TEST(late.delay.count() < 1000);
    BOOST_TEST(late.delay.count() > 900);
}

BOOST_AUTO_TEST_CASE(retry_after_is_honoured_and_capped) {
    RetryPolicy policy;
    policy.max_retry_after = 30s;
    auto outcome = http("GET", 429);
    outcome.retry_after = 3s;
    for (double unit : {0.0, 0.5, 0.99}) {
        auto decision = decide_retry(policy, outcome, 1, unit);
        BOOST_TEST(decision.retry);
        BOOST_TEST(decision.delay.count() == 3000);
    }
    outcome.retry_after = 3600s;
    BOOST_TEST(decide_retry(policy, outcome, 1, 0.5).delay.count() == 30000);
    outcome.http_status = 503;
    outcome.retry_after = 1s;
    BOOST_TEST(decide_retry(policy, outcome, 2, 0.5).delay.count() == 1000);
    // Retry-After does not make a POST retryable.
    outcome.method = "POST";
    BOOST_TEST(!decide_retry(policy, outcome, 1, 0.5).retry);
}

BOOST_AUTO_TEST_CASE(retry_after_header_is_read_in_seconds) {
    BOOST_TEST(parse_retry_after("5").value() == 5s);
    BOOST_TEST(parse_retry_after(" 12 \r").value() == 12s);
    BOOST_TEST(parse_retry_after("0").value() == 0s);
    BOOST_TEST(!parse_retry_after("").has_value());
    BOOST_TEST(!parse_retry_after("-1").has_value());
    BOOST_TEST(!parse_retry_after("1.5").has_value());
    BOOST_TEST(!parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT").has_value());
}

BOOST_AUTO_TEST_CASE(idempotency_by_method) {
    BOOST_TEST(is_idempotent("GET"));
    BOOST_TEST(is_idempotent("PUT"));
    BOOST_TEST(is_idempotent("DELETE"));
    BOOST_TEST(!is_idempotent("POST"));
    BOOST_TEST(!is_idempotent("PATCH"));
}

BOOST_AUTO_TEST_SUITE_END()
