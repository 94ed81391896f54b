#include "util/time.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink::util;
using Clock = std::chrono::system_clock;

BOOST_AUTO_TEST_SUITE(util_time)

BOOST_AUTO_TEST_CASE(rfc3339_parses_like_metav1_time) {
    const auto t = parse_rfc3339("2024-05-01T10:00:00Z");
    BOOST_TEST_REQUIRE(t.has_value());
    BOOST_TEST(Clock::to_time_t(*t) == 1714557600);
    BOOST_TEST((*parse_rfc3339("2024-05-01t10:00:00z") == *t));
    BOOST_TEST((*parse_rfc3339("2024-05-01T12:00:00+02:00") == *t));
    BOOST_TEST((*parse_rfc3339("2024-05-01T09:30:00.000-00:30") == *t));
    const auto fraction = parse_rfc3339("2024-05-01T10:00:00.25Z");
    BOOST_TEST_REQUIRE(fraction.has_value());
    BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(*fraction - *t).count() == 250);
}

BOOST_AUTO_TEST_CASE(rfc3339_rejects_what_metav1_time_rejects) {
    for (const char* bad :
         {"", "2024-05-01", "2024-05-01 10:00:00Z", "2024-13-01T10:00:00Z", "2024-05-01T10:00:00",
          "2024-05-01T10:00:00Z junk", "2024-05-01T10:00:00.Z", "2024-05-01T10:00:00+0200",
          "2024-05-01T10:00:00+24:00", "2024-05-01T25:00:00Z"}) {
        auto parsed = parse_rfc3339(bad);
        BOOST_TEST(!parsed.has_value(), bad);
        if (!parsed) {
            BOOST_TEST((parsed.error().kind == ErrorKind::parse));
            BOOST_TEST(parsed.error().message.find(bad) != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(rfc3339_format_is_utc_whole_seconds_and_round_trips) {
    BOOST_TEST(format_rfc3339(Clock::from_time_t(0)) == "1970-01-01T00:00:00Z");
    BOOST_TEST(format_rfc3339(Clock::from_time_t(1714567890) + std::chrono::milliseconds(999)) ==
               "2024-05-01T12:51:30Z");
    BOOST_TEST(
        (parse_rfc3339(format_rfc3339(Clock::from_time_t(1714567890))) == Clock::from_time_t(1714567890)));
}

BOOST_AUTO_TEST_CASE(micro_time_has_six_fraction_digits) {
    const auto t = Clock::from_time_t(1714567890) + std::chrono::microseconds(42);
    BOOST_TEST(format_rfc3339_micro(t) == "2024-05-01T12:51:30.000042Z");
    BOOST_TEST(format_rfc3339_micro(Clock::from_time_t(1714567890)) == "2024-05-01T12:51:30.000000Z");
    BOOST_TEST((parse_rfc3339_time(format_rfc3339_micro(t)) == t));
    // Before 1970 the fraction still counts forward from the whole second.
    const auto before = Clock::from_time_t(-1) + std::chrono::microseconds(250000);
    BOOST_TEST(format_rfc3339_micro(before) == "1969-12-31T23:59:59.250000Z");
}

// A timestamp system_clock cannot hold is no timestamp: nothing downstream may compute with an overflowed
// time.
BOOST_AUTO_TEST_CASE(rfc3339_refuses_times_the_clock_cannot_hold) {
    BOOST_TEST(parse_rfc3339_time("1678-01-01T00:00:00Z").has_value());
    BOOST_TEST(parse_rfc3339_time("2261-12-31T23:59:59.999999999Z").has_value());
    for (const char* far : {"0000-01-01T00:00:00Z", "1677-01-01T00:00:00Z", "2263-01-01T00:00:00Z",
                            "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-23:59"}) {
        BOOST_TEST(!parse_rfc3339_time(far).has_value(), far);
        BOOST_TEST(!parse_rfc3339(far).has_value(), far);
    }
}

BOOST_AUTO_TEST_CASE(compact_utc_sorts_like_time) {
    const auto t = Clock::from_time_t(1714567890) + std::chrono::microseconds(42);
    BOOST_TEST(format_compact_utc(t) == "20240501T125130.000042Z");
    BOOST_TEST(format_compact_utc(t) < format_compact_utc(t + std::chrono::microseconds(1)));
}

BOOST_AUTO_TEST_SUITE_END()
