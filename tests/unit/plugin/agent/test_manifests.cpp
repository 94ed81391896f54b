#include "plugin/agent/manifests.hpp"
#include "yaml/yaml.hpp"

#include <boost/test/unit_test.hpp>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace meshlink::plugin::agent;
using nlohmann::json;

namespace {

std::string read(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

const json& daemonset_of(const std::vector<json>& objects) {
    for (const auto& object : objects) {
        if (object["kind"] == "DaemonSet") {
            return object;
        }
    }
    throw std::runtime_error("no DaemonSet in the manifests");
}

} // namespace

BOOST_AUTO_TEST_SUITE(agent_manifests)

// The embedded copy lists one object per file of the kustomization, in its order.
BOOST_AUTO_TEST_CASE(embedded_in_kustomization_order) {
    const auto root = std::filesystem::path(MESHLINK_SOURCE_DIR) / "manifests";
    const YAML::Node kustomization = YAML::Load(read(root / "kustomization.yaml"));
    const auto& documents = embedded_documents();
    BOOST_REQUIRE(documents.size() == kustomization["resources"].size());
    for (std::size_t i = 0; i < documents.size(); ++i) {
        BOOST_TEST(documents[i].source == "manifests/" + kustomization["resources"][i].as<std::string>());
        // Each embedded object is the file's content: spot-check the name against a YAML reading of the file.
        const YAML::Node file = YAML::Load(read(root / kustomization["resources"][i].as<std::string>()));
        const json object = json::parse(documents[i].json);
        BOOST_TEST(object["metadata"]["name"] == file["metadata"]["name"].as<std::string>());
        BOOST_TEST(object["kind"] == file["kind"].as<std::string>());
    }
    const auto objects = render_objects();
    BOOST_TEST(objects.front()["kind"] == "Namespace"); // everything else lives in it
}

BOOST_AUTO_TEST_CASE(scalar_types_survive_embedding) {
    const auto objects = render_objects();
    const json& ds = daemonset_of(objects);
    const json& container = ds["spec"]["template"]["spec"]["containers"][0];
    BOOST_TEST(container["ports"][0]["containerPort"].is_number_integer());
    BOOST_TEST(container["securityContext"]["readOnlyRootFilesystem"].is_boolean());
    BOOST_TEST(container["securityContext"]["runAsUser"].is_number_integer());
    BOOST_TEST(container["resources"]["limits"]["memory"].is_string());
    BOOST_TEST(ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"].is_string());
}

BOOST_AUTO_TEST_CASE(image_and_cilium_version_are_applied_to_the_daemonset) {
    RenderOptions options;
    options.image = "registry.example:5000/agent:dev";
    options.cilium_version = "1.17";
    const auto objects = render_objects(options);
    const json& container = daemonset_of(objects)["spec"]["template"]["spec"]["containers"][0];
    BOOST_TEST(container["image"] == "registry.example:5000/agent:dev");
    int flags = 0;
    for (const auto& arg : container["args"]) {
        flags += arg.get<std::string>().starts_with("--cilium-version") ? 1 : 0;
    }
    BOOST_TEST(flags == 1);
    BOOST_TEST(container["args"].front() == "serve");
    BOOST_TEST(container["args"].back() == "--cilium-version=1.17");
    // Without options the manifest is untouched.
    const auto plain_objects = render_objects();
    const json& plain = daemonset_of(plain_objects)["spec"]["template"]["spec"]["containers"][0];
    BOOST_TEST(plain["image"] != "registry.example:5000/agent:dev");
    for (const auto& arg : plain["args"]) {
        BOOST_TEST(!arg.get<std::string>().starts_with("--cilium-version"));
    }
}

// What -o yaml prints reads back as the same objects, types included ("true" stays a string, 0 a number).
BOOST_AUTO_TEST_CASE(yaml_output_round_trips) {
    std::vector<json> objects = render_objects();
    objects.push_back(json::parse(
        R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"x","namespace":"y",
            "labels":{"a":"true","b":"0755","c":"","d":"null","e":"yes"}},"automountServiceAccountToken":false})"));
    const std::string text = to_yaml(objects);
    const auto documents = YAML::LoadAll(text);
    BOOST_REQUIRE(documents.size() == objects.size());
    for (std::size_t i = 0; i < objects.size(); ++i) {
        BOOST_TEST(meshlink::yaml::to_json(documents[i]) == objects[i], "document " << i);
    }
}

BOOST_AUTO_TEST_CASE(cilium_version_from_image_tags) {
    BOOST_TEST(cilium_version_from_image("quay.io/cilium/cilium:v1.16.5@sha256:0123").value_or("") == "1.16");
    BOOST_TEST(cilium_version_from_image("quay.io/cilium/cilium:v1.18.0-rc.1").value_or("") == "1.18");
    BOOST_TEST(cilium_version_from_image("cilium/cilium:1.15").value_or("") == "1.15");
    BOOST_TEST(cilium_version_from_image("registry:5000/cilium/cilium:v1.17.2").value_or("") == "1.17");
    BOOST_TEST(!cilium_version_from_image("registry:5000/cilium/cilium").has_value());
    BOOST_TEST(!cilium_version_from_image("quay.io/cilium/cilium:latest").has_value());
    BOOST_TEST(!cilium_version_from_image("quay.io/cilium/cilium@sha256:0123").has_value());
    std::string normalized;
    BOOST_TEST(parse_cilium_release("v1.16", normalized));
    BOOST_TEST(normalized == "1.16");
    BOOST_TEST(!parse_cilium_release("1", normalized));
    BOOST_TEST(!parse_cilium_release("1.x", normalized));
    BOOST_TEST(!parse_cilium_release("1.16a", normalized));
}

BOOST_AUTO_TEST_SUITE_END()
