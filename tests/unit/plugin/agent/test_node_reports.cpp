#include "plugin/agent/node_reports.hpp"
#include "tests/unit/plugin/agent/fake_cluster.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink::plugin::agent;
using nlohmann::json;

namespace {

using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

const Clock::time_point k_now = Clock::from_time_t(1714567890); // 2024-05-01T12:51:30Z

json node_with_report(const std::string& name, const std::string& observed_at, std::optional<int> interval,
                      const std::string& ready = "true") {
    json report = {{"schemaVersion", 1},
                   {"node", name},
                   {"observedAt", observed_at},
                   {"ciliumVersion", "1.16"},
                   {"checks", json::array({{{"id", "node.kernel.version"}, {"status", "fail"}},
                                           {{"id", "node.bpffs"}, {"status", "pass"}}})}};
    if (interval) {
        report["intervalSeconds"] = *interval;
    }
    return {{"name", name},
            {"labels", {{"meshlink.io/kernel-ready", ready}, {"meshlink.io/kernel-version", "3.10.0"}}},
            {"annotations", {{"meshlink.io/node-report", report.dump()}}}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(agent_node_reports)

BOOST_AUTO_TEST_CASE(fresh_until_three_intervals) {
    // 60 s intervals: 180 s old is still fresh, 181 s is stale.
    auto at_limit = classify_node(node_with_report("a", "2024-05-01T12:48:30Z", 60), k_now);
    BOOST_TEST(to_string(at_limit.state) == "fresh");
    auto past_limit = classify_node(node_with_report("a", "2024-05-01T12:48:29Z", 60), k_now);
    BOOST_TEST(to_string(past_limit.state) == "stale");
    BOOST_TEST(past_limit.interval.count() == 60);
    BOOST_TEST(past_limit.kernel_ready.value_or(false)); // the label says "true"
    BOOST_TEST(past_limit.kernel_version.value_or("") == "3.10.0");
    BOOST_TEST(past_limit.failing == std::vector<std::string>{"node.kernel.version"});
    BOOST_TEST(past_limit.cilium_version == "1.16");
}

BOOST_AUTO_TEST_CASE(reports_without_interval_use_the_agent_default) {
    // The default interval is 10 minutes: 29 minutes old is fresh, 31 stale.
    BOOST_TEST(
        to_string(classify_node(node_with_report("a", "2024-05-01T12:22:30Z", std::nullopt), k_now).state) ==
        "fresh");
    BOOST_TEST(
        to_string(classify_node(node_with_report("a", "2024-05-01T12:20:30Z", std::nullopt), k_now).state) ==
        "stale");
}

BOOST_AUTO_TEST_CASE(missing_and_invalid) {
    auto missing = classify_node(json{{"name", "bare"}, {"labels", {{"x", "y"}}}}, k_now);
    BOOST_TEST(to_string(missing.state) == "missing");
    BOOST_TEST(!missing.kernel_ready.has_value());

    auto garbage =
        classify_node(json{{"name", "g"}, {"annotations", {{"meshlink.io/node-report", "{oops"}}}}, k_now);
    BOOST_TEST(to_string(garbage.state) == "invalid");
    BOOST_TEST(!garbage.problem.empty());

    auto no_time = node_with_report("t", "yesterday", 60);
    BOOST_TEST(to_string(classify_node(no_time, k_now).state) == "invalid");
}

BOOST_AUTO_TEST_CASE(overview_reads_daemonset_and_all_nodes) {
    testing::FakeCluster cluster;
    cluster.objects["/api/v1/nodes/b-stale"] = {
        {"metadata", node_with_report("b-stale", "2024-05-01T10:00:00Z", 600)}};
    cluster.objects["/api/v1/nodes/a-fresh"] = {
        {"metadata", node_with_report("a-fresh", "2024-05-01T12:50:00Z", 600, "false")}};
    cluster.objects["/api/v1/nodes/c-missing"] = {{"metadata", {{"name", "c-missing"}}}};
    cluster.objects["/apis/apps/v1/namespaces/meshlink-system/daemonsets/meshlink-agent"] = json::parse(
        R"({"spec":{"template":{"spec":{"containers":[{"name":"agent","image":"img:1",
            "args":["serve","--cilium-version=1.16"]}]}}},"status":{"desiredNumberScheduled":3,"numberReady":2}})");
    auto overview = collect_overview(cluster, k_now);
    BOOST_REQUIRE(overview.has_value());
    BOOST_TEST(overview->daemonset_present);
    BOOST_TEST(overview->cilium_flag == "1.16");
    BOOST_TEST(overview->ready == 2);
    BOOST_REQUIRE(overview->nodes.size() == 3u);
    BOOST_TEST(overview->nodes[0].node == "a-fresh"); // sorted by name

    const json out = to_json(*overview, k_now);
    BOOST_TEST(out["summary"]["fresh"] == 1);
    BOOST_TEST(out["summary"]["stale"] == 1);
    BOOST_TEST(out["summary"]["missing"] == 1);
    BOOST_TEST(out["nodes"][0]["kernelReady"] == false);
    BOOST_TEST(out["nodes"][0]["ageSeconds"] == 90);
    BOOST_TEST(out["nodes"][2]["report"] == "missing");
    BOOST_TEST(out["nodes"][2]["kernelReady"].is_null());
    BOOST_TEST(out["daemonSet"]["image"] == "img:1");
}

BOOST_AUTO_TEST_SUITE_END()
