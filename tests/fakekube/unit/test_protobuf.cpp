// Protobuf bodies become the JSON Go's encoding would make of the same object (zero values of omitempty
// fields dropped, pointers kept, IntOrString, bytes as base64, maps), and what fakekube cannot decode is
// refused.
#include "tests/fakekube/protobuf.hpp"
#include "tests/fakekube/unit/protobuf_writer.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink::fakekube;
using namespace meshlink::fakekube::testing;

namespace {

json decoded(const std::string& body) {
    auto result = decode_protobuf(body);
    BOOST_TEST_REQUIRE(std::holds_alternative<json>(result), (std::holds_alternative<ProtobufError>(result)
                                                                  ? std::get<ProtobufError>(result).message
                                                                  : std::string()));
    return std::get<json>(result);
}

} // namespace

BOOST_AUTO_TEST_SUITE(protobuf)

BOOST_AUTO_TEST_CASE(service_with_int_or_string_and_zero_values) {
    // ObjectMeta{name: "web", generateName: ""}; ServicePort{name: "", port: 80, targetPort: int 8080,
    // nodePort: 0}; ServiceSpec{ports, selector{app: web}, clusterIP: ""}.
    const std::string meta = bytes_field(1, "web") + bytes_field(2, "");
    const std::string port = bytes_field(1, "") + varint_field(3, 80) +
                             bytes_field(4, varint_field(1, 0) + varint_field(2, 8080)) + varint_field(5, 0);
    const std::string named_port =
        varint_field(3, 443) + bytes_field(4, varint_field(1, 1) + bytes_field(3, "https"));
    const std::string spec = bytes_field(1, port) + bytes_field(1, named_port) +
                             bytes_field(2, bytes_field(1, "app") + bytes_field(2, "web")) +
                             bytes_field(3, "");
    json service =
        decoded(envelope("v1", "Service", bytes_field(1, meta) + bytes_field(2, spec) + bytes_field(3, "")));
    BOOST_TEST(service["apiVersion"] == "v1");
    BOOST_TEST(service["kind"] == "Service");
    BOOST_TEST(service["metadata"] == json({{"name", "web"}}));
    BOOST_TEST(service["spec"]["ports"][0] == json({{"port", 80}, {"targetPort", 8080}}));
    BOOST_TEST(service["spec"]["ports"][1]["targetPort"] == "https");
    BOOST_TEST(service["spec"]["selector"] == json({{"app", "web"}}));
    BOOST_TEST(!service["spec"].contains("clusterIP"));
    BOOST_TEST(service["status"] == json::object()); // a struct, always written
}

BOOST_AUTO_TEST_CASE(pointer_zero_is_kept_and_bytes_are_base64) {
    // DeploymentSpec{replicas: 0 (a pointer)}.
    json deployment = decoded(envelope(
        "apps/v1", "Deployment", bytes_field(1, bytes_field(1, "d")) + bytes_field(2, varint_field(1, 0))));
    BOOST_TEST(deployment["spec"]["replicas"] == 0);
    // Secret{data{k: "\x00\x01"}, type: "Opaque"}.
    json secret =
        decoded(envelope("v1", "Secret",
                         bytes_field(1, bytes_field(1, "s")) +
                             bytes_field(2, bytes_field(1, "k") + bytes_field(2, std::string("\0\1", 2))) +
                             bytes_field(3, "Opaque")));
    BOOST_TEST(secret["data"]["k"] == "AAE=");
    BOOST_TEST(secret["type"] == "Opaque");
}

BOOST_AUTO_TEST_CASE(what_fakekube_cannot_decode_is_refused) {
    auto unknown_field = decode_protobuf(
        envelope("v1", "ConfigMap", bytes_field(1, bytes_field(1, "c")) + varint_field(77, 1)));
    BOOST_TEST_REQUIRE(std::holds_alternative<ProtobufError>(unknown_field));
    BOOST_TEST(!std::get<ProtobufError>(unknown_field).unsupported_kind);
    BOOST_TEST(std::get<ProtobufError>(unknown_field)
                   .message.find("field 77 of protobuf message core.v1.ConfigMap") != std::string::npos);
    auto unknown_kind = decode_protobuf(envelope("v1", "Endpoints", ""));
    BOOST_TEST_REQUIRE(std::holds_alternative<ProtobufError>(unknown_kind));
    BOOST_TEST(std::get<ProtobufError>(unknown_kind).unsupported_kind);
    auto not_protobuf = decode_protobuf("{\"kind\":\"ConfigMap\"}");
    BOOST_TEST_REQUIRE(std::holds_alternative<ProtobufError>(not_protobuf));
    auto truncated = decode_protobuf(envelope("v1", "ConfigMap", bytes_field(1, "x").substr(0, 2)));
    BOOST_TEST_REQUIRE(std::holds_alternative<ProtobufError>(truncated));
}

BOOST_AUTO_TEST_SUITE_END()
