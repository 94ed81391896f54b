#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/selectors.hpp"

#include <boost/test/unit_test.hpp>

using meshlink::fakekube::FieldSelector;
using meshlink::fakekube::find_resource;
using meshlink::fakekube::json;
using meshlink::fakekube::LabelSelector;

namespace {

bool selects(const std::string& selector, const json& labels) {
    auto parsed = LabelSelector::parse(selector);
    BOOST_TEST_REQUIRE(parsed.has_value(), selector << ": " << (parsed ? "" : parsed.error().message));
    return parsed->matches(labels);
}

} // namespace

BOOST_AUTO_TEST_SUITE(label_selectors)

BOOST_AUTO_TEST_CASE(every_operator_matches_like_apimachinery) {
    const json labels = {{"app", "web"}, {"tier", "front"}, {"release", "5"}};
    BOOST_TEST(selects("", labels));
    BOOST_TEST(selects("app=web", labels));
    BOOST_TEST(selects("app==web", labels));
    BOOST_TEST(!selects("app=db", labels));
    BOOST_TEST(selects("app!=db", labels));
    BOOST_TEST(selects("missing!=x", labels)); // != also matches when the label is absent
    BOOST_TEST(!selects("app!=web", labels));
    BOOST_TEST(selects("tier in (front, back)", labels));
    BOOST_TEST(!selects("tier in (back)", labels));
    BOOST_TEST(selects("tier notin (back)", labels));
    BOOST_TEST(selects("missing notin (x)", labels));
    BOOST_TEST(!selects("tier notin (front)", labels));
    BOOST_TEST(selects("app", labels));
    BOOST_TEST(!selects("missing", labels));
    BOOST_TEST(selects("!missing", labels));
    BOOST_TEST(!selects("!app", labels));
    BOOST_TEST(selects("release>4", labels));
    BOOST_TEST(!selects("release>5", labels));
    BOOST_TEST(selects("release<6", labels));
    BOOST_TEST(selects("app=web,tier in (front),!missing", labels));
    BOOST_TEST(!selects("app=web,tier in (back)", labels));
    BOOST_TEST(!selects("app=web", json(nullptr))); // no labels at all
}

BOOST_AUTO_TEST_CASE(malformed_selectors_are_rejected) {
    for (const char* bad : {"app in front", "app=we b", "-bad=x", "app>x", "a=b,,"}) {
        auto parsed = LabelSelector::parse(bad);
        BOOST_TEST(!parsed.has_value(), bad);
        if (!parsed) {
            BOOST_TEST(parsed.error().message.find("unable to parse requirement") != std::string::npos, bad);
        }
    }
}

BOOST_AUTO_TEST_CASE(label_selector_objects_combine_labels_and_expressions) {
    auto selector = LabelSelector::from_object(json::parse(R"({"matchLabels":{"app":"web"},
        "matchExpressions":[{"key":"tier","operator":"In","values":["front"]},{"key":"canary","operator":"DoesNotExist"}]})"));
    BOOST_TEST_REQUIRE(selector.has_value());
    BOOST_TEST(selector->matches(json{{"app", "web"}, {"tier", "front"}}));
    BOOST_TEST(!selector->matches(json{{"app", "web"}, {"tier", "front"}, {"canary", "1"}}));
    BOOST_TEST(!selector->matches(json{{"app", "web"}}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(field_selectors)

BOOST_AUTO_TEST_CASE(pod_fields_select_and_unknown_fields_are_refused) {
    const auto& pods = *find_resource("", "v1", "pods");
    const json pod = {{"metadata", {{"name", "p"}, {"namespace", "ns"}}},
                      {"spec", {{"nodeName", "n1"}}},
                      {"status", {{"phase", "Running"}}}};
    auto running = FieldSelector::parse("status.phase=Running,spec.nodeName==n1", pods);
    BOOST_TEST_REQUIRE(running.has_value());
    BOOST_TEST(running->matches(pods, pod));
    auto elsewhere = FieldSelector::parse("spec.nodeName!=n1", pods);
    BOOST_TEST(!elsewhere->matches(pods, pod));
    auto by_name = FieldSelector::parse("metadata.name=p,metadata.namespace=ns", pods);
    BOOST_TEST(by_name->matches(pods, pod));
    auto unknown = FieldSelector::parse("spec.foo=bar", pods);
    BOOST_TEST_REQUIRE(!unknown.has_value());
    BOOST_TEST(unknown.error().message == "field label not supported: spec.foo");
    // spec.nodeName is a Pod field only.
    BOOST_TEST(!FieldSelector::parse("spec.nodeName=n1", *find_resource("", "v1", "configmaps")).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

#include "tests/fakekube/names.hpp"

BOOST_AUTO_TEST_SUITE(name_grammars)

BOOST_AUTO_TEST_CASE(dns_names_follow_rfc_1123_and_1035) {
    namespace names = meshlink::fakekube::names;
    for (const char* good : {"a", "my-name", "123-abc", "a1"}) {
        BOOST_TEST(names::is_dns1123_label(good), good);
    }
    for (const char* bad : {"", "-a", "a-", "My-Name", "a.b", "a_b"}) {
        BOOST_TEST(!names::is_dns1123_label(bad), bad);
    }
    BOOST_TEST(names::is_dns1123_subdomain("example.com"));
    BOOST_TEST(names::is_dns1123_subdomain("kube-root-ca.crt"));
    BOOST_TEST(!names::is_dns1123_subdomain("a..b"));
    BOOST_TEST(!names::is_dns1123_subdomain(".a"));
    BOOST_TEST(!names::is_dns1123_subdomain("Not_Valid"));
    BOOST_TEST(names::is_dns1035_label("abc-123"));
    BOOST_TEST(!names::is_dns1035_label("123-abc")); // must start with a letter
    BOOST_TEST(names::is_qualified_name_part("MyValue"));
    BOOST_TEST(names::is_qualified_name_part("my_value.x"));
    BOOST_TEST(!names::is_qualified_name_part("_x"));
    BOOST_TEST(names::is_config_key(".dotfile"));
    BOOST_TEST(!names::is_config_key("a/b"));
    BOOST_TEST(meshlink::fakekube::label_key_error("app.kubernetes.io/name").empty());
    BOOST_TEST(!meshlink::fakekube::label_key_error("Bad_Prefix/name").empty());
    BOOST_TEST(meshlink::fakekube::label_value_error("").empty());
    BOOST_TEST(!meshlink::fakekube::label_value_error(std::string(64, 'a')).empty());
}

BOOST_AUTO_TEST_SUITE_END()
