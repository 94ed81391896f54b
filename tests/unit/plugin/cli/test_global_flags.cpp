#include "plugin/cli/global_flags.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>

using meshlink::plugin::cli::split_global_flags;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(cli_global_flags)

BOOST_AUTO_TEST_CASE(flags_are_taken_anywhere_in_every_form) {
    auto split =
        split_global_flags({"join", "--context", "a", "cluster02", "-nkube-system", "--kubeconfig=/k", "-v",
                            "6", "-o=json", "--request-timeout", "5s", "--yes"});
    BOOST_TEST_REQUIRE(split.has_value());
    BOOST_TEST(*split->flags.context == "a");
    BOOST_TEST(*split->flags.namespace_name == "kube-system");
    BOOST_TEST(*split->flags.kubeconfig == "/k");
    BOOST_TEST(split->flags.verbosity == 6);
    BOOST_TEST(*split->flags.output == "json");
    BOOST_TEST((*split->flags.request_timeout == 5s));
    const std::vector<std::string> expected{"join", "cluster02", "--yes"};
    BOOST_TEST(split->rest == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(double_dash_ends_flag_parsing) {
    auto split = split_global_flags({"exec", "--", "--context", "x"});
    BOOST_TEST_REQUIRE(split.has_value());
    BOOST_TEST(!split->flags.context.has_value());
    BOOST_TEST(split->rest.size() == 4u);
}

BOOST_AUTO_TEST_CASE(missing_value_and_bad_verbosity_are_usage_errors) {
    auto missing = split_global_flags({"version", "--context"});
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error().message.find("--context") != std::string::npos);
    auto bad = split_global_flags({"--v=high"});
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().message.find("high") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(request_timeout_is_a_duration_parsed_at_the_edge) {
    // kubectl's forms: bare seconds, a Go duration, 0 for none.
    BOOST_TEST((split_global_flags({"--request-timeout=30"})->flags.request_timeout == 30s));
    BOOST_TEST((split_global_flags({"--request-timeout", "1m30s"})->flags.request_timeout == 90s));
    BOOST_TEST((split_global_flags({"--request-timeout", "0"})->flags.request_timeout == 0s));
    // A typo fails here, before any verb runs, naming the flag and the value.
    auto typo = split_global_flags({"version", "--request-timeout", "soon"});
    BOOST_TEST_REQUIRE(!typo.has_value());
    BOOST_TEST((typo.error().kind == meshlink::util::ErrorKind::usage));
    BOOST_TEST(typo.error().message.find("--request-timeout") != std::string::npos);
    BOOST_TEST(typo.error().message.find("\"soon\"") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
