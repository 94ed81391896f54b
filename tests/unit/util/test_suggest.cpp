#include "util/suggest.hpp"

#include <boost/test/unit_test.hpp>

using meshlink::util::closest_match;

BOOST_AUTO_TEST_SUITE(suggest)

BOOST_AUTO_TEST_CASE(typos_and_unique_prefixes_are_suggested) {
    const std::vector<std::string_view> verbs{"preflight", "join", "leave", "status", "version"};
    BOOST_TEST(closest_match("jion", verbs).value_or("") == "join");
    BOOST_TEST(closest_match("prefligt", verbs).value_or("") == "preflight");
    BOOST_TEST(closest_match("ver", verbs).value_or("") == "version");
}

BOOST_AUTO_TEST_CASE(unrelated_words_get_no_suggestion) {
    const std::vector<std::string_view> verbs{"preflight", "join", "leave"};
    BOOST_TEST(!closest_match("kubernetes", verbs).has_value());
    BOOST_TEST(!closest_match("", verbs).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
