// Decoding against the official models: the field paths and Go type names the real server prints.
#include "tests/fakekube/schema/schema.hpp"

#include <boost/test/unit_test.hpp>

using meshlink::fakekube::json;
namespace schema = meshlink::fakekube::schema;

namespace {

const schema::Model& model(const char* api_version, const char* kind) {
    const auto* found = schema::Schema::instance().model_for_kind(api_version, kind);
    BOOST_TEST_REQUIRE(found != nullptr, api_version << "/" << kind);
    return *found;
}

} // namespace

BOOST_AUTO_TEST_SUITE(schema_decoding)

BOOST_AUTO_TEST_CASE(every_served_kind_has_a_model) {
    for (const auto* kind : {"Namespace", "Node", "Pod", "Service", "Endpoints", "ConfigMap", "Secret",
                             "ServiceAccount", "Event"}) {
        BOOST_TEST(schema::Schema::instance().model_for_kind("v1", kind) != nullptr, kind);
    }
    BOOST_TEST(schema::Schema::instance().model_for_kind("apps/v1", "Deployment") != nullptr);
    BOOST_TEST(schema::Schema::instance().model_for_kind("discovery.k8s.io/v1", "EndpointSlice") != nullptr);
    BOOST_TEST(schema::Schema::instance().model_for_kind("v1", "Nonsense") == nullptr);
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_reported_with_their_path_and_dropped) {
    json service = json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s","labls":{}},
        "spec":{"ports":[{"port":80},{"port":81,"targtPort":8081}]}})");
    auto report = schema::decode(service, model("v1", "Service"));
    BOOST_TEST(!report.error.has_value());
    BOOST_TEST(
        (report.unknown_fields == std::vector<std::string>{"metadata.labls", "spec.ports[1].targtPort"}));
    BOOST_TEST(!service["spec"]["ports"][1].contains("targtPort"));
    BOOST_TEST(!service["metadata"].contains("labls"));
    BOOST_TEST(schema::unknown_fields_message(report.unknown_fields) ==
               "unknown field \"metadata.labls\", unknown field \"spec.ports[1].targtPort\"");
}

BOOST_AUTO_TEST_CASE(type_mismatches_read_like_encoding_json) {
    json deployment = json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
        "spec":{"replicas":"3"}})");
    auto report = schema::decode(deployment, model("apps/v1", "Deployment"));
    BOOST_TEST_REQUIRE(report.error.has_value());
    BOOST_TEST(
        *report.error ==
        "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32");

    json labels =
        json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"a":1}}})");
    report = schema::decode(labels, model("v1", "ConfigMap"));
    BOOST_TEST_REQUIRE(report.error.has_value());
    BOOST_TEST(
        *report.error ==
        "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string");

    json port = json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
        "spec":{"template":{"spec":{"containers":[{"name":"a","ports":[{"containerPort":"80"}]}]}}}})");
    report = schema::decode(port, model("apps/v1", "Deployment"));
    BOOST_TEST_REQUIRE(report.error.has_value());
    BOOST_TEST(*report.error ==
               "json: cannot unmarshal string into Go struct field "
               "ContainerPort.spec.template.spec.containers.ports.containerPort of type int32");
}

BOOST_AUTO_TEST_CASE(int_or_string_quantities_and_nulls) {
    json service =
        json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s","creationTimestamp":null},
        "spec":{"ports":[{"port":80,"targetPort":"http"},{"port":81,"targetPort":8081}]}})");
    auto report = schema::decode(service, model("v1", "Service"));
    BOOST_TEST(!report.error.has_value());
    BOOST_TEST(!service["metadata"].contains("creationTimestamp"));
    json pod = json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
        "spec":{"containers":[{"name":"a","resources":{"limits":{"cpu":1,"memory":"1Gi"},"requests":{"cpu":0.5}}}]}})");
    report = schema::decode(pod, model("v1", "Pod"));
    BOOST_TEST(!report.error.has_value());
    BOOST_TEST(pod["spec"]["containers"][0]["resources"]["limits"]["cpu"] == "1");
    BOOST_TEST(pod["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "500m");
    json bad = json::parse(
        R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"port":80,"targetPort":true}]}})");
    BOOST_TEST(schema::decode(bad, model("v1", "Service")).error.has_value());
}

BOOST_AUTO_TEST_CASE(secret_data_must_be_base64) {
    json secret = json::parse(
        R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"ok":"YWJj","bad":"not base64!"}})");
    auto report = schema::decode(secret, model("v1", "Secret"));
    BOOST_TEST_REQUIRE(report.error.has_value());
    BOOST_TEST(report.error->find("illegal base64 data at input byte") != std::string::npos, *report.error);
    json fine = json::parse(
        R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"ok":"YWJj"},"stringData":{"x":"plain"}})");
    BOOST_TEST(!schema::decode(fine, model("v1", "Secret")).error.has_value());
}

BOOST_AUTO_TEST_CASE(patch_metadata_comes_from_the_api_types) {
    const auto& pod_spec = *schema::Schema::instance().model("V1PodSpec");
    BOOST_TEST(pod_spec.patch_meta("containers").merge_key == "name");
    BOOST_TEST(pod_spec.patch_meta("hostAliases").merge_key == "ip");
    BOOST_TEST(pod_spec.patch_meta("tolerations").strategy.empty());
    BOOST_TEST(schema::Schema::instance().model("V1Container")->patch_meta("ports").merge_key ==
               "containerPort");
    BOOST_TEST(schema::Schema::instance().model("V1PodSpec")->required.contains("containers"));
}

BOOST_AUTO_TEST_SUITE_END()
