// `agent status`'s overview: the DaemonSet, the Leases listed once, every node through the one reader.

#include "plugin/agent/node_reports.hpp"
#include "tests/unit/plugin/agent/fake_cluster.hpp"
#include "util/rfc3339.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink;
using namespace meshlink::plugin::agent;
using nlohmann::json;

namespace {

using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

const Clock::time_point k_now = Clock::from_time_t(1714567890); // 2024-05-01T12:51:30Z
const std::string k_leases = "/apis/coordination.k8s.io/v1/namespaces/meshlink-system/leases";

json node_with_report(const std::string& name, Clock::time_point observed, std::optional<int> interval,
                      const std::string& ready = "true") {
    json report = {{"schemaVersion", 1},
                   {"node", name},
                   {"observedAt", util::format_rfc3339(observed)},
                   {"ciliumVersion", "1.16"},
                   {"checks", json::array({{{"id", "node.kernel.version"}, {"status", "fail"}},
                                           {{"id", "node.bpffs"}, {"status", "pass"}}})}};
    if (interval) {
        report["intervalSeconds"] = *interval;
    }
    return {{"metadata",
             {{"name", name},
              {"labels", {{"meshlink.io/kernel-ready", ready}, {"meshlink.io/kernel-version", "3.10.0"}}},
              {"annotations", {{"meshlink.io/node-report", report.dump()}}}}}};
}

void add_lease(testing::FakeCluster& cluster, const std::string& node, Clock::time_point renewed) {
    const std::string name = "meshlink-agent-" + node;
    cluster.objects[k_leases + "/" + name] = {
        {"metadata", {{"name", name}, {"namespace", "meshlink-system"}}},
        {"spec",
         {{"holderIdentity", node},
          {"leaseDurationSeconds", 1800},
          {"renewTime", util::format_rfc3339_micro(renewed)}}}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(agent_node_reports)

BOOST_AUTO_TEST_CASE(overview_reads_daemonset_leases_and_all_nodes) {
    testing::FakeCluster cluster;
    cluster.objects["/api/v1/nodes/b-stale"] = node_with_report("b-stale", k_now - 3h, 600);
    cluster.objects["/api/v1/nodes/a-fresh"] = node_with_report("a-fresh", k_now - 90s, 600, "false");
    // A day-old report whose agent renews its Lease: fresh, and its age is the Lease's.
    cluster.objects["/api/v1/nodes/d-leased"] = node_with_report("d-leased", k_now - 24h, 600);
    add_lease(cluster, "d-leased", k_now - 30s);
    cluster.objects["/api/v1/nodes/c-missing"] = {{"metadata", {{"name", "c-missing"}}}};
    cluster.objects["/apis/apps/v1/namespaces/meshlink-system/daemonsets/meshlink-agent"] = json::parse(
        R"({"spec":{"template":{"spec":{"containers":[{"name":"agent","image":"img:1",
            "args":["serve","--cilium-version=1.16"]}]}}},"status":{"desiredNumberScheduled":3,"numberReady":2}})");
    auto overview = collect_overview(cluster, k_now);
    BOOST_REQUIRE(overview.has_value());
    BOOST_TEST(overview->daemonset_present);
    BOOST_TEST(overview->cilium_flag == "1.16");
    BOOST_TEST(overview->ready == 2);
    BOOST_TEST(overview->leases_problem.empty());
    // One list of Leases, then the nodes.
    BOOST_TEST(cluster.lists == (std::vector<std::string>{k_leases, "/api/v1/nodes"}));
    BOOST_REQUIRE(overview->nodes.size() == 4u);
    BOOST_TEST(overview->nodes[0].node == "a-fresh"); // sorted by name
    for (const auto& node : overview->nodes) {
        BOOST_TEST(!node.report.has_value(), node.node); // no documents kept
    }

    const json out = to_json(*overview);
    BOOST_TEST(out["summary"]["fresh"] == 2);
    BOOST_TEST(out["summary"]["stale"] == 1);
    BOOST_TEST(out["summary"]["missing"] == 1);
    BOOST_TEST(out["leases"]["readable"] == true);
    BOOST_TEST(out["nodes"][0]["kernelReady"] == false);
    BOOST_TEST(out["nodes"][0]["ageSeconds"] == 90);
    BOOST_TEST(out["nodes"][0]["liveness"] == "observedAt");
    BOOST_TEST(out["nodes"][0]["failing"] == json::array({"node.kernel.version"}));
    BOOST_TEST(out["nodes"][2]["report"] == "missing");
    BOOST_TEST(out["nodes"][2]["kernelReady"].is_null());
    BOOST_TEST(out["nodes"][3]["report"] == "fresh");
    BOOST_TEST(out["nodes"][3]["liveness"] == "lease");
    BOOST_TEST(out["nodes"][3]["ageSeconds"] == 30);
    BOOST_TEST(out["nodes"][3]["observedAt"] == "2024-04-30T12:51:30Z");
    BOOST_TEST(out["daemonSet"]["image"] == "img:1");
}

BOOST_AUTO_TEST_CASE(forbidden_leases_fall_back_to_observed_at_and_say_so) {
    testing::FakeCluster cluster;
    cluster.objects["/api/v1/nodes/n1"] = node_with_report("n1", k_now - 60s, 600);
    cluster.objects["/api/v1/nodes/n2"] = node_with_report("n2", k_now - 24h, 600);
    add_lease(cluster, "n2", k_now - 30s);
    cluster.list_error =
        util::Error{util::ErrorKind::forbidden,
                    "GET " + k_leases + ": 403 Forbidden: leases.coordination.k8s.io is forbidden", 403};
    auto overview = collect_overview(cluster, k_now);
    BOOST_REQUIRE(overview.has_value());
    BOOST_TEST(overview->leases_problem.find("403 Forbidden") != std::string::npos);
    const json out = to_json(*overview);
    BOOST_TEST(out["leases"]["readable"] == false);
    BOOST_TEST(out["nodes"][0]["report"] == "fresh");
    BOOST_TEST(out["nodes"][1]["report"] == "stale"); // without its Lease, a day-old report is stale
    BOOST_TEST(out["nodes"][1]["livenessNote"].get<std::string>().find("Leases not readable") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
