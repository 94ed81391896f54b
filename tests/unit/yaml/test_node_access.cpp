// yaml/load.cpp reaches into yaml-cpp's private node members (marks, one node memory per document). These
// cases prove that it still works on the yaml-cpp this binary is linked with: run under ASan (make test
// does), a node that lost its memory is a use-after-free, and a mark that did not stick names the wrong line.
#include "yaml/yaml.hpp"

#include <boost/test/unit_test.hpp>

namespace yaml = meshlink::yaml;

BOOST_AUTO_TEST_SUITE(node_access)

BOOST_AUTO_TEST_CASE(loaded_nodes_carry_the_lines_and_columns_of_their_text) {
    BOOST_TEST_MESSAGE("yaml-cpp " MESHLINK_YAML_CPP_VERSION);
    // Block layout: the fast scanner; flow layout: libyaml. Both set marks through the same access.
    for (const std::string text : {"a: 1\nb:\n  c: x\n", "{a: 1,\n b: {\n  c: x}}\n"}) {
        auto root = yaml::load(text, "t.yaml");
        BOOST_REQUIRE(root.has_value());
        BOOST_TEST((*root)["a"].Mark().line == 0, text);
        BOOST_TEST((*root)["b"]["c"].Mark().line == 2, text);
        BOOST_TEST((*root)["b"]["c"].Mark().column == 5, text);
    }
}

BOOST_AUTO_TEST_CASE(nodes_made_like_an_owner_live_as_long_as_the_owner) {
    YAML::Node root(YAML::NodeType::Map);
    {
        YAML::Node child = yaml::make_node_like(root, YAML::NodeType::Map);
        child.force_insert(yaml::make_string_node_like(root, "k"), yaml::make_string_node_like(root, "007"));
        YAML::Node list = yaml::make_node_like(root, YAML::NodeType::Sequence);
        for (int i = 0; i < 1000; ++i) {
            list.push_back(yaml::make_string_node_like(root, std::to_string(i)));
        }
        child.force_insert(yaml::make_string_node_like(root, "list"), list);
        root.force_insert(yaml::make_string_node_like(root, "child"), child);
    } // every handle but root's is gone
    BOOST_TEST(root["child"]["k"].Scalar() == "007");
    BOOST_TEST(yaml::is_string(root["child"]["k"])); // tagged as a string
    BOOST_TEST(root["child"]["list"].size() == 1000U);
    BOOST_TEST(root["child"]["list"][999].Scalar() == "999");
    BOOST_TEST(yaml::emit(root).find("k: \"007\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(documents_loaded_into_an_owner_and_clones_keep_meaning_and_marks) {
    YAML::Node owner(YAML::NodeType::Map);
    auto first = yaml::load("a: \"1\"\nb:\n  - x\n", "first.yaml", &owner);
    auto second = yaml::load("\nc: 2\n", "second.yaml", &owner);
    BOOST_REQUIRE(first.has_value());
    BOOST_REQUIRE(second.has_value());
    YAML::Node merged = yaml::make_node_like(owner, YAML::NodeType::Map);
    merged.force_insert(yaml::make_string_node_like(owner, "first"), yaml::clone_like(*first, owner));
    merged.force_insert(yaml::make_string_node_like(owner, "second"), *second);
    first = YAML::Node();
    BOOST_TEST(merged["first"]["b"][0].Mark().line == 2); // the clone kept the mark
    BOOST_TEST(merged["second"]["c"].Mark().line == 1);
    BOOST_TEST(yaml::equal(merged, YAML::Load("{first: {a: \"1\", b: [x]}, second: {c: 2}}")));
}

BOOST_AUTO_TEST_SUITE_END()
