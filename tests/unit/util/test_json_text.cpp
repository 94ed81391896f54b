// util/json_text: JSON from a cluster or a node is parsed only when its depth is known to be small, because
// copying, comparing or printing a document recurses once per level (a 100,000-deep document that parsed
// fine crashed the process on its first copy).
#include "util/json_text.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

namespace util = meshlink::util;
using nlohmann::json;

namespace {

std::string nested(int levels, char open = '[', char close = ']') {
    return std::string(static_cast<std::size_t>(levels), open) +
           std::string(static_cast<std::size_t>(levels), close);
}

} // namespace

BOOST_AUTO_TEST_SUITE(json_text)

BOOST_AUTO_TEST_CASE(depth_is_counted_on_the_text) {
    BOOST_TEST(!util::json_nested_deeper_than(nested(3), 3));
    BOOST_TEST(util::json_nested_deeper_than(nested(4), 3));
    BOOST_TEST(util::json_nested_deeper_than(R"({"a":[{"b":1}]})", 2));
    BOOST_TEST(!util::json_nested_deeper_than(R"({"a":[{"b":1}]})", 3));
    // Siblings do not add up: depth, not the number of brackets.
    BOOST_TEST(!util::json_nested_deeper_than("[[],[],[],[],[]]", 2));
    // Brackets inside strings, also after escaped quotes and backslashes, are text.
    BOOST_TEST(!util::json_nested_deeper_than(R"(["[[[[", "\"[[[[", "\\", "{{{{"])", 1));
    BOOST_TEST(util::json_nested_deeper_than(R"(["\\", [[]]])", 2));
}

BOOST_AUTO_TEST_CASE(documents_within_the_limit_parse) {
    auto doc = util::parse_json(R"({"kind":"ConfigMap","data":{"k":"[[[["}})");
    BOOST_TEST_REQUIRE(doc.has_value());
    BOOST_TEST((*doc)["data"]["k"] == "[[[[");
    auto at_limit = util::parse_json(nested(util::k_max_json_depth));
    BOOST_TEST_REQUIRE(at_limit.has_value());
    const json copy = *at_limit; // recursion as deep as the limit allows
    BOOST_TEST(copy == *at_limit);
}

BOOST_AUTO_TEST_CASE(deeper_documents_are_refused_before_they_exist) {
    // A hundred thousand levels, as a hostile peer could store in a ConfigMap's data: a clear error, and the
    // process lives on (copying such a document overflows the stack).
    for (const auto& text : {nested(100000), nested(100000, '{', '}'), nested(util::k_max_json_depth + 1)}) {
        auto doc = util::parse_json(text);
        BOOST_TEST_REQUIRE(!doc.has_value());
        BOOST_TEST((doc.error().kind == util::ErrorKind::parse));
        BOOST_TEST(doc.error().message == "nested more than 1000 levels deep");
    }
    BOOST_TEST(!util::parse_json(R"({"a":{"b":{}}})", 2).has_value());
}

BOOST_AUTO_TEST_CASE(malformed_text_names_the_position_never_the_text) {
    // The text may hold a secret (a token in a Secret's data): the error gives only where it broke.
    auto doc = util::parse_json(R"({"token": "s3cr3t-value" )");
    BOOST_TEST_REQUIRE(!doc.has_value());
    BOOST_TEST(doc.error().message.starts_with("not valid JSON (syntax error at byte "), doc.error().message);
    BOOST_TEST(doc.error().message.find("s3cr3t") == std::string::npos, doc.error().message);
    BOOST_TEST(!util::parse_json("").has_value());
    BOOST_TEST(!util::parse_json("\xff\xfe").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
