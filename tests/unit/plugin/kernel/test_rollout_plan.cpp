// `kubectl meshlink kernel plan` judges nodes from their agents' reports, and the plan document it writes is
// what the agents accept (and nothing else).

#include "plugin/kernel/rollout.hpp"

#include <boost/test/unit_test.hpp>

namespace meshlink::plugin::kernel {
namespace {

using nlohmann::json;

json check(const std::string& id, const std::string& status, const std::string& message = "") {
    return {{"id", id}, {"status", status}, {"message", message}};
}

json report_of(const std::string& name, const json& checks) {
    return {{"schemaVersion", 1},
            {"node", name},
            {"observedAt", "2024-05-01T12:00:00Z"},
            {"ciliumVersion", "1.20"},
            {"facts", {{"kernel", {{"release", "5.14.0-427.el9.x86_64"}}}}},
            {"checks", checks}};
}

json node_with_annotation(const std::string& name, const std::string& annotation) {
    return {{"metadata", {{"name", name}, {"annotations", {{"meshlink.io/node-report", annotation}}}}}};
}

json node(const std::string& name, const json& checks) {
    return node_with_annotation(name, report_of(name, checks).dump());
}

std::string verdict_of(const std::vector<NodeVerdict>& verdicts, const std::string& name) {
    for (const auto& verdict : verdicts) {
        if (verdict.node == name) {
            return std::string(to_string(verdict.verdict));
        }
    }
    return "(none)";
}

} // namespace

BOOST_AUTO_TEST_SUITE(kernel_plan)

BOOST_AUTO_TEST_CASE(nodes_are_judged_from_their_reports) {
    const auto el9 = check("node.os", "pass", "Rocky Linux 9.4 (EL9): ...");
    const std::vector<json> nodes{
        node("needs", json::array({check("node.kernel.btf", "fail"), el9})),
        node("fine", json::array({check("node.kernel.btf", "pass"), el9})),
        node("el7", json::array({check("node.kernel.version", "fail"),
                                 check("node.os", "warn", "CentOS 7 is end of life")})),
        node("ubuntu", json::array({check("node.kernel.version", "fail"),
                                    check("node.os", "pass",
                                          "Ubuntu 20.04: kernel upgrades come from the distribution")})),
        node("secure-boot",
             json::array({check("node.kernel.btf", "fail"), el9,
                          check("node.boot", "warn", "Secure Boot would refuse an ELRepo kernel-ml")})),
        {{"metadata", {{"name", "no-agent"}}}},
    };
    const auto verdicts = judge_nodes(nodes);
    BOOST_TEST(verdict_of(verdicts, "needs") == "upgrade");
    BOOST_TEST(verdict_of(verdicts, "fine") == "current");
    BOOST_TEST(verdict_of(verdicts, "el7") == "cannot");
    BOOST_TEST(verdict_of(verdicts, "ubuntu") == "cannot");
    BOOST_TEST(verdict_of(verdicts, "secure-boot") == "cannot");
    BOOST_TEST(verdict_of(verdicts, "no-agent") == "no-report");
}

// Each node writes its own report: one odd report makes that node "no-report" with the reason, and never ends
// the plan or changes another node's verdict (the attacks on `agent status` of the hardening issue, here).
BOOST_AUTO_TEST_CASE(a_hostile_report_spoils_only_its_own_node) {
    const auto needs =
        json::array({check("node.kernel.btf", "fail"), check("node.os", "pass", "Rocky 9 (EL9)")});
    json wrong_version_type = report_of("number", needs);
    wrong_version_type["ciliumVersion"] = 5;
    json wrong_status_type = report_of("status", needs);
    wrong_status_type["checks"][0]["status"] = 5;
    json wrong_message_type = report_of("message", needs);
    wrong_message_type["checks"][1]["message"] = json::object();
    json old_schema = report_of("schema", needs);
    old_schema["schemaVersion"] = 99;
    const std::vector<json> nodes{
        node("needs", needs),
        node_with_annotation("number", wrong_version_type.dump()),
        node_with_annotation("status", wrong_status_type.dump()),
        node_with_annotation("message", wrong_message_type.dump()),
        node_with_annotation("schema", old_schema.dump()),
        node_with_annotation("deep", std::string(100000, '[') + std::string(100000, ']')),
        node_with_annotation("not-json", "{\"checks\": [}"),
    };
    const auto verdicts = judge_nodes(nodes);
    BOOST_TEST_REQUIRE(verdicts.size() == nodes.size());
    for (const auto& verdict : verdicts) {
        if (verdict.node == "needs") {
            BOOST_TEST(to_string(verdict.verdict) == "upgrade");
            continue;
        }
        BOOST_TEST(to_string(verdict.verdict) == "no-report", verdict.node);
        BOOST_TEST(verdict.reason.starts_with("the node report is invalid: "),
                   verdict.node << ": " << verdict.reason);
        BOOST_TEST(verdict.failing.empty(), verdict.node);
    }
    // The plan document carries the reasons; nothing a node wrote comes through unjudged.
    const json document = to_json(verdicts);
    BOOST_TEST(document["nodes"].size() == nodes.size());
}

BOOST_AUTO_TEST_CASE(the_written_plan_is_what_the_agents_accept) {
    probe::RolloutPlan plan;
    plan.id = new_rollout_id();
    plan.created_at = "2024-05-01T12:00:00Z";
    plan.created_by = "kubectl-meshlink";
    plan.cilium = "1.20";
    plan.nodes = {"node-b", "node-a"};
    const auto objects = rollout_objects(plan, std::string("registry.example/agent:1"));
    const json& configmap = objects.at(1);
    BOOST_TEST_REQUIRE(configmap["kind"] == "ConfigMap");
    auto read = probe::plan_from_text(configmap["data"]["plan.json"].get<std::string>());
    BOOST_TEST_REQUIRE(read.has_value(), read.error().message);
    BOOST_TEST((read->nodes == std::vector<std::string>{"node-b", "node-a"}), "the order is kept");
    BOOST_TEST(objects.at(0)["metadata"]["annotations"]["meshlink.io/kernel-rollout"] == plan.id);
    const json& daemonset = objects.back();
    BOOST_TEST_REQUIRE(daemonset["kind"] == "DaemonSet");
    BOOST_TEST(daemonset["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/agent:1");
    BOOST_TEST(daemonset["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
                        ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
                        ["matchFields"][0]["values"] == json::array({"node-b", "node-a"}));

    // A node name the API server could never have is refused on read.
    json bad = json::parse(configmap["data"]["plan.json"].get<std::string>());
    bad["nodes"] = json::array({"node-a", "../etc"});
    BOOST_TEST(!probe::plan_from_json(bad).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace meshlink::plugin::kernel
