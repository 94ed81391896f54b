// yaml::to_json reads scalars as kubectl does (go-yaml v2, YAML 1.1 types); to_portable_json refuses what
// YAML 1.1 and 1.2 readers would disagree on.
#include "yaml/yaml.hpp"

#include <boost/test/unit_test.hpp>

namespace yaml = meshlink::yaml;
using nlohmann::json;

namespace {

YAML::Node read(const std::string& text) {
    auto node = yaml::load(text, "doc.yaml");
    BOOST_TEST_REQUIRE(node.has_value());
    return *node;
}

std::string refusal(const std::string& text) {
    auto out = yaml::to_portable_json(read(text), "doc");
    return out ? std::string("(accepted)") : out.error().message;
}

} // namespace

BOOST_AUTO_TEST_SUITE(yaml_to_json)

BOOST_AUTO_TEST_CASE(plain_scalars_take_their_yaml_1_1_types_and_quoted_ones_stay_strings) {
    const json out = yaml::to_json(read("quoted: \"123\"\n"
                                        "number: 123\n"
                                        "negative: -42\n"
                                        "yes_word: yes\n"
                                        "off_word: Off\n"
                                        "hex: 0x1f\n"
                                        "octal: 0o17\n"
                                        "old_octal: 017\n"
                                        "binary: 0b101\n"
                                        "grouped: 1_000\n"
                                        "float: 1.5\n"
                                        "exponent: 1e3\n"
                                        "nothing: ~\n"
                                        "empty:\n"
                                        "infinite: .inf\n"
                                        "huge: 9223372036854775808\n"
                                        "tagged: !!str 5\n"
                                        "word: x\n"
                                        "list: [1, \"1\", null]\n"
                                        "nested: {a: {b: true}}\n"));
    const json expected = {{"quoted", "123"},
                           {"number", 123},
                           {"negative", -42},
                           {"yes_word", true},
                           {"off_word", false},
                           {"hex", 31},
                           {"octal", 15},
                           {"old_octal", 15},
                           {"binary", 5},
                           {"grouped", 1000},
                           {"float", 1.5},
                           {"exponent", 1000.0},
                           {"nothing", nullptr},
                           {"empty", nullptr},
                           {"infinite", ".inf"},
                           {"huge", "9223372036854775808"},
                           {"tagged", "5"},
                           {"word", "x"},
                           {"list", json::array({1, "1", nullptr})},
                           {"nested", {{"a", {{"b", true}}}}}};
    BOOST_TEST(out == expected, out.dump());
    BOOST_TEST(yaml::to_json(YAML::Node()).is_null());
}

BOOST_AUTO_TEST_CASE(portable_json_refuses_what_yaml_1_1_and_1_2_read_differently) {
    auto plain = yaml::to_portable_json(read("a: 1\nb: [true, \"yes\", 1.5, x]\nc: ~\n"), "doc");
    BOOST_REQUIRE(plain.has_value());
    BOOST_TEST(*plain == json::parse(R"({"a": 1, "b": [true, "yes", 1.5, "x"], "c": null})"));
    BOOST_TEST(refusal("a:\n  b: yes\n") ==
               "doc.a.b: the plain scalar \"yes\" reads differently in YAML 1.1 and 1.2; quote it");
    BOOST_TEST(refusal("l: [1, 0755]\n") ==
               "doc.l[1]: the plain scalar \"0755\" reads differently in YAML 1.1 and 1.2; quote it");
    BOOST_TEST(refusal("n: 0x1f\n").find("\"0x1f\" reads differently") != std::string::npos);
    BOOST_TEST(refusal("n: 1_000\n").find("\"1_000\" reads differently") != std::string::npos);
    BOOST_TEST(
        refusal("t: !!str 5\n") ==
        "doc.t: explicit tag tag:yaml.org,2002:str on \"5\" is not supported; write the value plainly");
}

BOOST_AUTO_TEST_SUITE_END()
