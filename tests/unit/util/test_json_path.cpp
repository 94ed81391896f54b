// util/json_path: fields of JSON read from a cluster, missing or mistyped at any level, read as absent.
#include "util/json_path.hpp"

#include <boost/test/unit_test.hpp>

namespace jp = meshlink::util::json_path;
using nlohmann::json;

BOOST_AUTO_TEST_SUITE(json_path)

BOOST_AUTO_TEST_CASE(present_fields_are_read) {
    const json node = json::parse(R"({"metadata": {"name": "n1", "labels": {"a": "b"}},
                                      "spec": {"replicas": 3, "ports": [{"port": 80}]}})");
    BOOST_TEST(jp::text(jp::child(node, "metadata"), "name") == "n1");
    BOOST_TEST(jp::string_at(node, {"metadata", "labels", "a"}) == "b");
    BOOST_TEST(jp::int_at(node, {"spec", "replicas"}) == 3);
    BOOST_TEST(jp::array_at(node, {"spec", "ports"}).size() == 1U);
    BOOST_TEST(jp::find(node, {"spec", "ports"}) == &node["spec"]["ports"]);
}

BOOST_AUTO_TEST_CASE(missing_or_mistyped_fields_read_as_absent) {
    const json odd = json::parse(R"({"metadata": "not an object", "spec": {"replicas": "3", "ports": {},
                                      "huge": 4294967297}, "list": [1]})");
    BOOST_TEST(jp::child(odd, "absent").is_null());
    BOOST_TEST(jp::child(json::array({1}), "x").is_null());
    BOOST_TEST(jp::text(odd, "metadata") == "not an object");
    BOOST_TEST(jp::text(odd, "list").empty());
    BOOST_TEST(jp::string_at(odd, {"metadata", "name"}, "(unnamed)") == "(unnamed)");
    BOOST_TEST(jp::int_at(odd, {"spec", "replicas"}, -1) == -1); // a string is not a number
    BOOST_TEST(jp::int_at(odd, {"spec", "huge"}, -1) == -1);     // nor is a number an int cannot hold
    BOOST_TEST(jp::array_at(odd, {"spec", "ports"}).empty());
    BOOST_TEST(jp::find(odd, {"metadata", "name"}) == nullptr);
    BOOST_TEST(jp::find(odd, {}) == &odd);
}

BOOST_AUTO_TEST_SUITE_END()
