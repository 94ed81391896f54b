#include "plugin/preflight/checks.hpp"
#include "plugin/preflight/node_reports.hpp"
#include "tests/unit/plugin/preflight/facts_builder.hpp"
#include "tests/unit/plugin/preflight/reports.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink;
using namespace meshlink::plugin::preflight;
using namespace meshlink::plugin::preflight::testing;
using namespace std::chrono_literals;

namespace {

const auto k_now = std::chrono::system_clock::now();

const NodeCheckTally& tally_of(const NodeReports& reports, std::string_view id) {
    for (const auto& tally : reports.checks) {
        if (tally.id == id) {
            return tally;
        }
    }
    BOOST_FAIL("no tally for " << id);
    return reports.checks.front();
}

NodeReports read(const std::vector<nlohmann::json>& nodes, probe::CiliumVersion cilium,
                 const CiliumConfig* config = nullptr) {
    NodeReportReader reader(
        cilium, [config](std::string_view id) { return node_check_applies(id, config); }, k_now);
    for (const auto& node : nodes) {
        reader.add(node);
    }
    return reader.finish();
}

} // namespace

BOOST_AUTO_TEST_SUITE(preflight_node_reports)

BOOST_AUTO_TEST_CASE(fresh_stale_missing_and_unreadable) {
    auto broken = node_with_report("broken", "", k_now);
    broken["metadata"]["annotations"][std::string(plugin::defaults::k_node_report_annotation)] = "{not json";
    auto future = node_with_report("future-schema", "ubuntu22.04", k_now);
    {
        auto doc = nlohmann::json::parse(
            future["metadata"]["annotations"][std::string(plugin::defaults::k_node_report_annotation)]
                .get<std::string>());
        doc["schemaVersion"] = 2;
        future["metadata"]["annotations"][std::string(plugin::defaults::k_node_report_annotation)] =
            doc.dump();
    }
    const auto reports = read({node_with_report("fresh", "ubuntu22.04", k_now, 60s),
                               // 3 intervals of 10 minutes is the limit: 29 minutes is fresh, 31 stale.
                               node_with_report("almost", "ubuntu22.04", k_now, 29min),
                               node_with_report("stale", "ubuntu22.04", k_now, 31min),
                               // A short interval makes a report stale sooner.
                               node_with_report("fast-stale", "ubuntu22.04", k_now, 4min, 60),
                               node_with_report("missing", "", k_now), broken, future},
                              {1, 16});
    BOOST_TEST(reports.total == 7);
    BOOST_TEST(reports.fresh == 2);
    BOOST_TEST(reports.stale == (std::vector<std::string>{"stale", "fast-stale"}));
    BOOST_TEST(reports.missing == (std::vector<std::string>{"missing"}));
    BOOST_TEST_REQUIRE(reports.unreadable.size() == 2u);
    BOOST_TEST(reports.unreadable[0].first == "broken");
    BOOST_TEST(reports.unreadable[1].first == "future-schema");
    BOOST_TEST(contains(reports.unreadable[1].second, "schemaVersion 2"));
    // Every tally accounts for every node.
    for (const auto& tally : reports.checks) {
        const auto& c = tally.counts;
        BOOST_TEST(c.total == 7, tally.id);
        BOOST_TEST(c.pass + c.warn + c.fail + c.unknown + c.missing == 7, tally.id);
        BOOST_TEST(c.missing == 3, tally.id);
    }
}

BOOST_AUTO_TEST_CASE(reports_are_judged_again_for_the_clusters_cilium) {
    // The agents judged for Cilium 1.12 (minimum 4.9.17). The cluster runs 1.18 (minimum 5.10), which accepts
    // Rocky 8.10's 4.18.0-553 as a RHEL 8.10 kernel, and not CentOS 7's 3.10.
    const std::vector<nlohmann::json> nodes{
        node_with_report("rocky", "rocky8.10", k_now, 60s, 600, {1, 12}),
        node_with_report("centos", "centos7", k_now, 60s, 600, {1, 12}),
    };
    const auto for_118 = read(nodes, {1, 18});
    const auto& kernel = tally_of(for_118, "node.kernel.version");
    BOOST_TEST(kernel.counts.pass == 1);
    BOOST_TEST(kernel.counts.fail == 1);
    BOOST_TEST(kernel.counts.failing == std::vector<std::string>{"centos"});
    BOOST_TEST(kernel.worst == Status::fail);
    BOOST_TEST(kernel.worst_node == "centos");
    BOOST_TEST(contains(kernel.worst_message, "Cilium 1.18"), kernel.worst_message);
    // The published verdicts said 1.12; what is judged here is the cluster's release.
    const auto for_112 = read(nodes, {1, 12});
    BOOST_TEST(contains(tally_of(for_112, "node.kernel.version").worst_message, "Cilium 1.12"));
}

BOOST_AUTO_TEST_CASE(feature_checks_follow_the_clusters_values) {
    const std::vector<nlohmann::json> nodes{node_with_report("n1", "ubuntu22.04", k_now)};
    const CiliumConfig tunnel{{"routing-mode", "tunnel"}, {"kube-proxy-replacement", "false"}};
    const auto plain = read(nodes, {1, 16}, &tunnel);
    std::set<std::string> ids;
    for (const auto& tally : plain.checks) {
        ids.insert(tally.id);
    }
    BOOST_TEST(ids.count("node.feature.tunnel") == 1u);
    BOOST_TEST(ids.count("node.feature.wireguard") == 0u);
    BOOST_TEST(ids.count("node.feature.kube-proxy-replacement") == 0u);
    BOOST_TEST(ids.count("node.feature.ipsec") == 0u);
    BOOST_TEST(ids.count("node.kernel.version") == 1u); // the node's own checks always apply
    const CiliumConfig native{
        {"routing-mode", "native"}, {"kube-proxy-replacement", "true"}, {"enable-wireguard", "true"}};
    const auto wired = read(nodes, {1, 16}, &native);
    ids.clear();
    for (const auto& tally : wired.checks) {
        ids.insert(tally.id);
    }
    BOOST_TEST(ids.count("node.feature.tunnel") == 0u);
    BOOST_TEST(ids.count("node.feature.wireguard") == 1u);
    BOOST_TEST(ids.count("node.feature.kube-proxy-replacement") == 1u);
    // Without a config nothing is filtered.
    BOOST_TEST(node_check_applies("node.feature.netkit", nullptr));
}

BOOST_AUTO_TEST_CASE(node_checks_aggregate_with_counts_and_names) {
    auto facts = reachable_cluster("east", {{"routing-mode", "tunnel"}});
    choose_node_cilium(facts, std::nullopt);
    BOOST_TEST(facts.node_cilium_source == "the cluster's Cilium 1.16.12");
    facts.nodes = util::Result<NodeReports>(
        read({node_with_report("ok-1", "ubuntu22.04", k_now), node_with_report("old-1", "centos7", k_now),
              node_with_report("silent", "", k_now)},
             facts.node_cilium, facts.cilium_config()));
    const auto checks = node_checks(facts);
    const auto& present = check_of(checks, "node.report.present");
    BOOST_TEST(present.status == Status::fail);
    BOOST_TEST(present.nodes->missing == 1);
    BOOST_TEST(present.nodes->failing == std::vector<std::string>{"silent"});
    BOOST_TEST(contains(present.hint, "kubectl meshlink agent install --context east"));
    const auto& kernel = check_of(checks, "node.kernel.version");
    BOOST_TEST(kernel.status == Status::fail);
    BOOST_TEST(kernel.scope == Scope::node);
    BOOST_TEST(kernel.nodes->total == 3);
    BOOST_TEST(kernel.nodes->fail == 1);
    BOOST_TEST(kernel.nodes->pass == 1);
    BOOST_TEST(kernel.nodes->missing == 1);
    BOOST_TEST(contains(kernel.message, "old-1"), kernel.message);
    BOOST_TEST(!kernel.hint.empty());
}

BOOST_AUTO_TEST_CASE(many_nodes_with_the_same_report_are_each_counted) {
    std::vector<nlohmann::json> nodes;
    for (int i = 0; i < 200; ++i) {
        nodes.push_back(node_with_report(fmt::format("n{:03}", i), i % 2 ? "ubuntu22.04" : "centos7", k_now));
    }
    const auto reports = read(nodes, {1, 16});
    const auto& kernel = tally_of(reports, "node.kernel.version");
    BOOST_TEST(kernel.counts.fail == 100);
    BOOST_TEST(kernel.counts.pass == 100);
    BOOST_TEST(kernel.counts.failing.size() == 100u);
    BOOST_TEST(kernel.counts.failing.front() == "n000");
}

BOOST_AUTO_TEST_SUITE_END()
