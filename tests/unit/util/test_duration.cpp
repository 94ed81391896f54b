#include "util/duration.hpp"

#include <boost/test/unit_test.hpp>

using namespace std::chrono_literals;
using meshlink::util::format_duration;
using meshlink::util::parse_go_duration;
using meshlink::util::parse_request_timeout;

BOOST_AUTO_TEST_SUITE(duration)

BOOST_AUTO_TEST_CASE(go_durations_parse_like_time_ParseDuration) {
    BOOST_TEST(parse_go_duration("300ms").value() == 300ms);
    BOOST_TEST(parse_go_duration("1.5h").value() == 90min);
    BOOST_TEST(parse_go_duration("2h45m").value() == 165min);
    BOOST_TEST(parse_go_duration("10s").value() == 10s);
    BOOST_TEST(parse_go_duration("0").value() == 0ns);
    BOOST_TEST(parse_go_duration("1m30s").value() == 90s);
    BOOST_TEST(parse_go_duration("5us").value() == 5us);
}

BOOST_AUTO_TEST_CASE(bad_durations_are_rejected_with_the_input_quoted) {
    for (const char* bad : {"", "10", "ten", "-5s", "5x", "s"}) {
        auto parsed = parse_go_duration(bad);
        BOOST_TEST_REQUIRE(!parsed.has_value(), bad);
        BOOST_TEST(parsed.error().message.find(std::string("\"") + bad + "\"") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(request_timeout_bare_integers_are_seconds) {
    BOOST_TEST(parse_request_timeout("30").value() == 30s);
    BOOST_TEST(parse_request_timeout("0").value() == 0ns);
    BOOST_TEST(parse_request_timeout("2m").value() == 120s);
    BOOST_TEST(!parse_request_timeout("soon").has_value());
}

BOOST_AUTO_TEST_CASE(format_reads_like_go) {
    BOOST_TEST(format_duration(250ms) == "250ms");
    BOOST_TEST(format_duration(1500ms) == "1.5s");
    BOOST_TEST(format_duration(120s) == "2m0s");
    BOOST_TEST(format_duration(3600s) == "1h0m0s");
}

BOOST_AUTO_TEST_SUITE_END()
