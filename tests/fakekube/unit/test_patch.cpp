// Strategic merge patch semantics as documented for kubectl patch / the API conventions: lists with a
// patchMergeKey merge element-wise, other lists are replaced, directives steer deletion and order.
#include "tests/fakekube/patch.hpp"
#include "tests/fakekube/schema/schema.hpp"

#include <boost/test/unit_test.hpp>

using meshlink::fakekube::apply_json_patch;
using meshlink::fakekube::apply_merge_patch;
using meshlink::fakekube::apply_strategic_merge_patch;
using meshlink::fakekube::json;
namespace schema = meshlink::fakekube::schema;

namespace {

const schema::Model* model(const char* api_version, const char* kind) {
    const auto* found = schema::Schema::instance().model_for_kind(api_version, kind);
    BOOST_TEST_REQUIRE(found != nullptr);
    return found;
}

json smp(const json& original, const char* patch, const char* api_version = "apps/v1",
         const char* kind = "Deployment") {
    auto result = apply_strategic_merge_patch(original, json::parse(patch), model(api_version, kind));
    BOOST_TEST_REQUIRE(result.has_value(), (result ? "" : result.error().message));
    return *result;
}

const json k_deployment = json::parse(R"({
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a"]},
  "spec": {"replicas": 1,
    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
    "template": {"spec": {
      "containers": [
        {"name": "app", "image": "app:1", "ports": [{"containerPort": 80, "name": "http"}],
         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}], "args": ["--x"]},
        {"name": "sidecar", "image": "side:1"}],
      "volumes": [{"name": "data", "emptyDir": {}}],
      "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["a"]}],
      "tolerations": [{"key": "k1", "operator": "Exists"}]}}}})");

const json& containers(const json& deployment) {
    return deployment["spec"]["template"]["spec"]["containers"];
}

} // namespace

BOOST_AUTO_TEST_SUITE(strategic_merge_patch)

BOOST_AUTO_TEST_CASE(containers_merge_by_name_keeping_the_others) {
    json out = smp(k_deployment,
                   R"({"spec":{"template":{"spec":{"containers":[{"name":"app","image":"app:2"}]}}}})");
    BOOST_TEST(containers(out).size() == 2U);
    BOOST_TEST(containers(out)[0]["image"] == "app:2");
    BOOST_TEST(containers(out)[0]["ports"][0]["containerPort"] == 80); // untouched fields stay
    BOOST_TEST(containers(out)[1]["name"] == "sidecar");
}

BOOST_AUTO_TEST_CASE(new_keys_append_and_nested_keyed_lists_merge) {
    json out = smp(k_deployment, R"({"spec":{"template":{"spec":{"containers":[
        {"name":"app","env":[{"name":"B","value":"20"},{"name":"C","value":"3"}],"ports":[{"containerPort":443}]},
        {"name":"third","image":"t:1"}]}}}})");
    const json& app = containers(out)[0];
    BOOST_TEST(app["env"].size() == 3U);
    BOOST_TEST(app["env"][1]["value"] == "20");
    BOOST_TEST(app["env"][2]["name"] == "C");
    BOOST_TEST(app["ports"].size() == 2U);
    BOOST_TEST(containers(out).size() == 3U);
    BOOST_TEST(containers(out)[2]["name"] == "third");
}

BOOST_AUTO_TEST_CASE(lists_without_a_merge_key_are_replaced) {
    json out = smp(k_deployment, R"({"spec":{"template":{"spec":{"containers":[{"name":"app","args":["--y"]}],
        "tolerations":[{"key":"k2","operator":"Exists"}]}}}})");
    BOOST_TEST(containers(out)[0]["args"] == json::array({"--y"}));
    BOOST_TEST(out["spec"]["template"]["spec"]["tolerations"].size() == 1U);
    BOOST_TEST(out["spec"]["template"]["spec"]["tolerations"][0]["key"] == "k2");
}

BOOST_AUTO_TEST_CASE(host_aliases_merge_by_ip) {
    json out = smp(k_deployment,
                   R"({"spec":{"template":{"spec":{"hostAliases":[{"ip":"10.0.0.2","hostnames":["b"]}]}}}})");
    BOOST_TEST(out["spec"]["template"]["spec"]["hostAliases"].size() == 2U);
    out = smp(k_deployment,
              R"({"spec":{"template":{"spec":{"hostAliases":[{"ip":"10.0.0.1","hostnames":["c"]}]}}}})");
    BOOST_TEST(out["spec"]["template"]["spec"]["hostAliases"].size() == 1U);
    BOOST_TEST(out["spec"]["template"]["spec"]["hostAliases"][0]["hostnames"] == json::array({"c"}));
}

BOOST_AUTO_TEST_CASE(patch_delete_and_replace_directives) {
    json out = smp(k_deployment,
                   R"({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}})");
    BOOST_TEST(containers(out).size() == 1U);
    BOOST_TEST(containers(out)[0]["name"] == "app");
    out = smp(
        k_deployment,
        R"({"spec":{"template":{"spec":{"containers":[{"$patch":"replace"},{"name":"only","image":"o:1"}]}}}})");
    BOOST_TEST(containers(out).size() == 1U);
    BOOST_TEST(containers(out)[0]["name"] == "only");
    out = smp(k_deployment, R"({"metadata":{"labels":{"$patch":"replace","new":"x"}}})");
    BOOST_TEST(out["metadata"]["labels"] == json({{"new", "x"}}));
    out = smp(k_deployment, R"({"spec":{"strategy":{"$patch":"delete"}}})");
    BOOST_TEST(!out["spec"].contains("strategy"));
}

BOOST_AUTO_TEST_CASE(null_deletes_and_retain_keys_clears_the_rest) {
    json out = smp(k_deployment, R"({"metadata":{"labels":{"app":null}}})");
    BOOST_TEST(out["metadata"]["labels"].empty());
    out = smp(k_deployment, R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})");
    BOOST_TEST(out["spec"]["strategy"] == json({{"type", "Recreate"}}));
}

BOOST_AUTO_TEST_CASE(primitive_merge_lists_union_and_delete_from_primitive_list) {
    json out = smp(k_deployment, R"({"metadata":{"finalizers":["b","a"]}})");
    BOOST_TEST(out["metadata"]["finalizers"] == json::array({"a", "b"}));
    out = smp(k_deployment, R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})");
    BOOST_TEST(out["metadata"]["finalizers"].empty());
}

BOOST_AUTO_TEST_CASE(set_element_order_reorders_merged_lists) {
    json out = smp(k_deployment, R"({"spec":{"template":{"spec":{
        "$setElementOrder/containers":[{"name":"sidecar"},{"name":"app"}],
        "containers":[{"name":"app","image":"app:3"}]}}}})");
    BOOST_TEST(containers(out)[0]["name"] == "sidecar");
    BOOST_TEST(containers(out)[1]["image"] == "app:3");
    BOOST_TEST(!out["spec"]["template"]["spec"].contains("$setElementOrder/containers"));
}

BOOST_AUTO_TEST_CASE(service_ports_merge_by_port) {
    const json service = json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},
        "spec":{"ports":[{"name":"http","port":80,"targetPort":8080},{"name":"https","port":443}]}})");
    auto out = apply_strategic_merge_patch(
        service, json::parse(R"({"spec":{"ports":[{"port":80,"targetPort":9090}]}})"),
        model("v1", "Service"));
    BOOST_TEST_REQUIRE(out.has_value());
    BOOST_TEST((*out)["spec"]["ports"].size() == 2U);
    BOOST_TEST((*out)["spec"]["ports"][0]["targetPort"] == 9090);
    BOOST_TEST((*out)["spec"]["ports"][0]["name"] == "http");
}

BOOST_AUTO_TEST_CASE(keyed_list_elements_need_their_key) {
    auto out = apply_strategic_merge_patch(
        k_deployment, json::parse(R"({"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}})"),
        model("apps/v1", "Deployment"));
    BOOST_TEST(!out.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(merge_and_json_patch)

BOOST_AUTO_TEST_CASE(merge_patch_replaces_lists_and_null_deletes) {
    auto out = apply_merge_patch(k_deployment, json::parse(R"({"metadata":{"labels":{"app":null,"x":"y"}},
        "spec":{"template":{"spec":{"containers":[{"name":"solo","image":"s:1"}]}}}})"));
    BOOST_TEST_REQUIRE(out.has_value());
    BOOST_TEST((*out)["metadata"]["labels"] == json({{"x", "y"}}));
    BOOST_TEST(containers(*out).size() == 1U);
}

BOOST_AUTO_TEST_CASE(json_patch_applies_operations_and_fails_cleanly) {
    auto out = apply_json_patch(k_deployment, json::parse(R"([
        {"op":"replace","path":"/spec/replicas","value":3},
        {"op":"add","path":"/metadata/labels/tier","value":"front"},
        {"op":"remove","path":"/spec/template/spec/containers/1"},
        {"op":"test","path":"/metadata/name","value":"web"}])"));
    BOOST_TEST_REQUIRE(out.has_value(), (out ? "" : out.error().message));
    BOOST_TEST((*out)["spec"]["replicas"] == 3);
    BOOST_TEST((*out)["metadata"]["labels"]["tier"] == "front");
    BOOST_TEST(containers(*out).size() == 1U);
    BOOST_TEST(!apply_json_patch(k_deployment, json::parse(R"([{"op":"remove","path":"/spec/nothing"}])"))
                    .has_value());
    BOOST_TEST(!apply_json_patch(k_deployment,
                                 json::parse(R"([{"op":"test","path":"/metadata/name","value":"db"}])"))
                    .has_value());
    BOOST_TEST(!apply_json_patch(k_deployment, json::parse(R"({"op":"add"})")).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
