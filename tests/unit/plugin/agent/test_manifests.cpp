#include "plugin/agent/manifests.hpp"
#include "probe/defaults.hpp"
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

const json& kind_of(const std::vector<json>& objects, const std::string& kind) {
    for (const auto& object : objects) {
        if (object["kind"] == kind) {
            return object;
        }
    }
    throw std::runtime_error("no " + kind + " in the manifests");
}

const json& daemonset_of(const std::vector<json>& objects) {
    return kind_of(objects, "DaemonSet");
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
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

// The policy's structure, as rendered: it applies to the identity the DaemonSet runs as, to every Node
// update, is enforced (Deny, Fail), ties the Node to the node name of the caller's token, and lets through
// exactly the keys the agent writes. tests/integration/agent/test_admission.cpp evaluates it against the
// attacks.
BOOST_AUTO_TEST_CASE(the_admission_policy_limits_the_agents_own_identity_to_its_node) {
    const auto objects = render_objects();
    const json& policy = kind_of(objects, "ValidatingAdmissionPolicy");
    const json& binding = kind_of(objects, "ValidatingAdmissionPolicyBinding");
    const json& account = kind_of(objects, "ServiceAccount");
    const json& ds = daemonset_of(objects);

    BOOST_TEST(binding["spec"]["policyName"] == policy["metadata"]["name"]);
    BOOST_TEST(binding["spec"]["validationActions"] == json::array({"Deny"}));
    BOOST_TEST(!binding["spec"].contains("matchResources")); // every request the policy matches
    BOOST_TEST(policy["spec"]["failurePolicy"] == "Fail");

    // Every Node update, the only write the agent's RBAC allows on Nodes.
    const json& rules = policy["spec"]["matchConstraints"]["resourceRules"];
    BOOST_REQUIRE(rules.size() == 1u);
    BOOST_TEST(rules[0]["apiGroups"] == json::array({""}));
    BOOST_TEST(rules[0]["resources"] == json::array({"nodes"}));
    BOOST_TEST(rules[0]["operations"] == json::array({"UPDATE"}));

    // Only requests of the DaemonSet's ServiceAccount (the kernel rollout's own account is not limited).
    BOOST_TEST(ds["spec"]["template"]["spec"]["serviceAccountName"] == account["metadata"]["name"]);
    const std::string user = "system:serviceaccount:" + account["metadata"]["namespace"].get<std::string>() +
                             ":" + account["metadata"]["name"].get<std::string>();
    BOOST_REQUIRE(policy["spec"]["matchConditions"].size() == 1u);
    const std::string condition = policy["spec"]["matchConditions"][0]["expression"];
    BOOST_TEST(condition == "request.userInfo.username == '" + user + "'");

    std::string all;
    for (const auto& variable : policy["spec"]["variables"]) {
        all += variable["expression"].get<std::string>() + "\n";
    }
    std::vector<std::string> validations;
    for (const auto& validation : policy["spec"]["validations"]) {
        validations.push_back(validation["expression"]);
        BOOST_TEST(validation.value("reason", "") == "Forbidden");
        BOOST_TEST(!validation.value("message", "").empty());
        all += validations.back() + "\n";
    }
    BOOST_REQUIRE(validations.size() == 5u);
    // The node name of a pod-bound token, compared with the Node being changed.
    BOOST_TEST(contains(all, "'authentication.kubernetes.io/node-name'"));
    BOOST_TEST(
        contains(validations[0], "request.userInfo.extra[variables.nodeNameKey][0] == object.metadata.name"));
    // Labels and annotations: both directions (nothing outside the prefix changed or removed; nothing added).
    const std::string prefix = "meshlink.io/";
    for (std::size_t i : {1u, 2u}) {
        const std::string field = i == 1 ? "labels" : "annotations";
        BOOST_TEST(contains(validations[i],
                            "oldObject.metadata." + field + ".all(k, k.startsWith('" + prefix + "')"));
        BOOST_TEST(contains(validations[i],
                            "object.metadata." + field + "[k] == oldObject.metadata." + field + "[k]"));
        BOOST_TEST(contains(validations[i], "(!has(object.metadata." + field + ") || object.metadata." +
                                                field + ".all(k, k.startsWith('" + prefix + "')"));
    }
    // Every key the agent writes is under that prefix, so the policy never blocks the agent's own report.
    for (std::string_view key :
         {meshlink::probe::defaults::k_report_annotation, meshlink::probe::defaults::k_kernel_ready_label,
          meshlink::probe::defaults::k_kernel_version_label}) {
        BOOST_TEST(key.starts_with(prefix), key);
    }
    BOOST_TEST(contains(validations[3], "object.spec == oldObject.spec"));
    BOOST_TEST(contains(validations[4], "object.metadata.finalizers == oldObject.metadata.finalizers"));
    BOOST_TEST(
        contains(validations[4], "object.metadata.ownerReferences == oldObject.metadata.ownerReferences"));
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
