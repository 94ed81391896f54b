// util/verbs: how an argument list picks a row of a verb table, and what a typo gets told.
#include "util/verbs.hpp"

#include <boost/test/unit_test.hpp>

#include <array>

using meshlink::util::pick_verb;
using meshlink::util::take_verb_word;
using meshlink::util::UsageError;
using meshlink::util::Verb;

namespace {

using Row = Verb<int>;
constexpr std::array<Row, 3> k_top{
    {{"help", "Show this help", 1}, {"join", "Join", 2}, {"version", "Version", 3}}};
constexpr std::array<Row, 2> k_sub{{{"install", "Install it", 4}, {"status", "Show it", 5}}};
const meshlink::util::VerbTableText k_top_text{"prog", "prog help"};
const meshlink::util::VerbTableText k_sub_text{"prog agent", "prog agent --help"};

std::string unknown_message(std::vector<std::string> args) {
    try {
        pick_verb(k_sub, args, k_sub_text);
    } catch (const UsageError& error) {
        return error.what();
    }
    return "(no error)";
}

} // namespace

BOOST_AUTO_TEST_SUITE(verbs)

BOOST_AUTO_TEST_CASE(the_first_argument_names_the_verb_and_the_rest_is_its_own) {
    std::vector<std::string> args{"join", "peer", "--yes"};
    const Row* row = pick_verb(k_top, args, k_top_text);
    BOOST_REQUIRE(row != nullptr);
    BOOST_TEST(row->handler == 2);
    BOOST_TEST(args == (std::vector<std::string>{"peer", "--yes"}));
}

BOOST_AUTO_TEST_CASE(no_argument_and_help_flags_mean_help) {
    for (std::vector<std::string> args : {std::vector<std::string>{}, {"-h"}, {"--help"}, {"help"}}) {
        auto copy = args;
        BOOST_TEST(take_verb_word(copy) == "help");
        BOOST_TEST(copy.empty());
        const Row* row = pick_verb(k_top, args, k_top_text);
        BOOST_TEST((row != nullptr && row->handler == 1)); // the table's own help row
        auto sub = args;
        BOOST_TEST(pick_verb(k_sub, sub, k_sub_text) == nullptr); // no help row: the caller prints help
    }
    std::vector<std::string> rest{"-h", "join"};
    BOOST_TEST(take_verb_word(rest) == "help");
    BOOST_TEST(rest == std::vector<std::string>{"join"});
}

BOOST_AUTO_TEST_CASE(an_alias_stands_for_its_verb) {
    std::vector<std::string> args{"--version"};
    const Row* row = pick_verb(k_top, args, k_top_text, {{"--version", "version"}});
    BOOST_TEST((row != nullptr && row->handler == 3));
    std::vector<std::string> without{"--version"};
    BOOST_CHECK_THROW(pick_verb(k_top, without, k_top_text), UsageError);
}

BOOST_AUTO_TEST_CASE(a_typo_is_a_usage_error_naming_the_closest_verb_and_the_help) {
    const std::string typo = unknown_message({"instal"});
    BOOST_TEST(typo.starts_with("unknown command \"instal\" for \"prog agent\""), typo);
    BOOST_TEST(typo.find("Did you mean this?\n\tinstall\n") != std::string::npos, typo);
    BOOST_TEST(typo.ends_with("\nRun 'prog agent --help' for usage."), typo);
    const std::string unrelated = unknown_message({"kubernetes"});
    BOOST_TEST(unrelated.find("Did you mean") == std::string::npos, unrelated);
    BOOST_TEST(unrelated.ends_with("\nRun 'prog agent --help' for usage."), unrelated);
}

BOOST_AUTO_TEST_CASE(the_help_listing_aligns_summaries) {
    BOOST_TEST(meshlink::util::verb_list(k_sub, 11) == "  install    Install it\n"
                                                       "  status     Show it\n");
    // Every name gets at least two spaces, whatever the column.
    BOOST_TEST(meshlink::util::verb_list(k_sub, 7) == "  install  Install it\n"
                                                      "  status  Show it\n");
}

BOOST_AUTO_TEST_SUITE_END()
