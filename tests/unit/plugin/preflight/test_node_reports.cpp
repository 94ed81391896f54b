#include "plugin/preflight/checks.hpp"
#include "plugin/preflight/node_reports.hpp"
#include "plugin/preflight/output.hpp"
#include "tests/unit/plugin/preflight/facts_builder.hpp"
#include "tests/unit/plugin/preflight/reports.hpp"

#include <boost/test/unit_test.hpp>

#include <limits>
#include <sstream>

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
    NodeReportReader reader(cilium, [config](std::string_view id) { return node_check_applies(id, config); },
                            k_now, {});
    for (const auto& node : nodes) {
        reader.add(node);
    }
    return reader.finish();
}

const std::string k_annotation(probe::defaults::k_report_annotation);

// `node`'s report document, changed by `edit`.
nlohmann::json edited(nlohmann::json node, const std::function<void(nlohmann::json&)>& edit) {
    auto& text = node["metadata"]["annotations"][k_annotation];
    auto doc = nlohmann::json::parse(text.get<std::string>());
    edit(doc);
    text = doc.dump();
    return node;
}

} // namespace

BOOST_AUTO_TEST_SUITE(preflight_node_reports)

BOOST_AUTO_TEST_CASE(fresh_stale_missing_and_unreadable) {
    auto broken = node_with_report("broken", "", k_now);
    broken["metadata"]["annotations"][k_annotation] = "{not json";
    auto future = edited(node_with_report("future-schema", "ubuntu22.04", k_now),
                         [](nlohmann::json& doc) { doc["schemaVersion"] = 2; });
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

// Issue: one node's annotation must not break the cluster's view. Each attack below is on one node among
// healthy ones; that node is invalid with the reason, every other node is judged as usual.
BOOST_AUTO_TEST_CASE(one_hostile_report_spoils_only_its_own_node) {
    std::vector<nlohmann::json> nodes{node_with_report("ok-1", "ubuntu22.04", k_now),
                                      node_with_report("ok-2", "centos7", k_now)};
    // 100,000 levels of nesting in facts: this crashed preflight with SIGSEGV (a recursive dump).
    nodes.push_back(edited(node_with_report("deep", "ubuntu22.04", k_now),
                           [](nlohmann::json& doc) { doc.erase("facts"); }));
    {
        auto& text = nodes.back()["metadata"]["annotations"][k_annotation];
        std::string hostile = text.get<std::string>();
        hostile.insert(1, "\"facts\":" + std::string(100000, '[') + std::string(100000, ']') + ",");
        text = hostile;
    }
    nodes.push_back(edited(node_with_report("typed", "ubuntu22.04", k_now),
                           [](nlohmann::json& doc) { doc["ciliumVersion"] = 5; }));
    nodes.push_back(edited(node_with_report("forever", "ubuntu22.04", k_now), [](nlohmann::json& doc) {
        doc["intervalSeconds"] = std::numeric_limits<std::int64_t>::max();
    }));

    const auto reports = read(nodes, {1, 16});
    BOOST_TEST(reports.total == 5);
    BOOST_TEST(reports.fresh == 2);
    BOOST_TEST_REQUIRE(reports.unreadable.size() == 3u);
    BOOST_TEST(reports.unreadable[0].first == "deep");
    BOOST_TEST(contains(reports.unreadable[0].second, "nested more than 32 levels"));
    BOOST_TEST(reports.unreadable[1].first == "typed");
    BOOST_TEST(contains(reports.unreadable[1].second, "ciliumVersion: want a string, got a number"));
    BOOST_TEST(reports.unreadable[2].first == "forever");
    BOOST_TEST(contains(reports.unreadable[2].second, "intervalSeconds 9223372036854775807 is outside"));
    const auto& kernel = tally_of(reports, "node.kernel.version");
    BOOST_TEST(kernel.counts.pass == 1);
    BOOST_TEST(kernel.counts.fail == 1);
    BOOST_TEST(kernel.counts.failing == std::vector<std::string>{"ok-2"});
    BOOST_TEST(kernel.counts.missing == 3);
}

// Escape sequences in what a node reports reach the table escaped: no screen clear, no new window title, no
// fake line.
BOOST_AUTO_TEST_CASE(report_strings_are_printed_escaped) {
    const std::string hostile = "\x1b[2J\x1b]0;all good\x07\r\n  ok  node.kernel.version  east  all fine";
    auto node = edited(node_with_report("n1", "centos7", k_now), [&](nlohmann::json& doc) {
        doc["facts"]["kconfig"]["source"] = hostile; // quoted by node.kernel.config's message
        doc["facts"]["kernel"]["release"] = hostile; // unparseable: quoted by node.kernel.version
    });
    auto facts = reachable_cluster("east", {{"routing-mode", "tunnel"}});
    choose_node_cilium(facts, std::nullopt);
    facts.nodes = util::Result<NodeReports>(read({node}, facts.node_cilium, facts.cilium_config()));
    const auto checks = node_checks(facts);
    bool quoted = false;
    for (const auto& check : checks) {
        quoted |= contains(check.message, "\x1b]0;all good");
    }
    BOOST_TEST_REQUIRE(quoted); // the checks do quote the node's text: the printing must escape it
    std::ostringstream out;
    print_table(checks, util::Terminal{}, out);
    const std::string table = out.str();
    BOOST_TEST(table.find('\x1b') == std::string::npos);
    BOOST_TEST(table.find('\x07') == std::string::npos);
    BOOST_TEST(table.find('\r') == std::string::npos);
    BOOST_TEST(contains(table, "\\x1b[2J\\x1b]0;all good\\x07\\x0d\\x0a"), table);
}

// Large distinct facts on every node: the verdict cache holds digests and cut verdicts, never the facts.
BOOST_AUTO_TEST_CASE(the_verdict_cache_stays_small_whatever_nodes_report) {
    NodeReportReader reader({1, 16}, {}, k_now, {});
    const auto base = node_with_report("n", "ubuntu22.04", k_now);
    std::size_t fed = 0;
    for (int i = 0; i < 300; ++i) {
        const std::string name = fmt::format("n{:03}", i);
        auto node = edited(base, [&](nlohmann::json& doc) {
            doc["node"] = name;
            // 200 KB of facts unique to this node, in a string the checks quote.
            doc["facts"]["kconfig"]["source"] = fmt::format("{:03}", i) + std::string(200 * 1024, 'x');
        });
        node["metadata"]["name"] = name;
        fed += node["metadata"]["annotations"][k_annotation].get<std::string>().size();
        reader.add(node);
    }
    const auto size = reader.verdict_cache_size();
    BOOST_TEST(size.entries == plugin::defaults::k_verdict_cache_entries); // bounded, the oldest evicted
    // 60 MB of reports in, a few MB of cache: 32-byte keys and verdicts whose quotes are cut at 1 KiB.
    BOOST_TEST(fed > 60'000'000u);
    BOOST_TEST(size.bytes < 4u * 1024 * 1024, size.bytes);
    const auto reports = reader.finish();
    BOOST_TEST(reports.fresh == 300);
    BOOST_TEST(contains(tally_of(reports, "node.kernel.config").worst_message, "[...]"));
}

BOOST_AUTO_TEST_CASE(leases_decide_staleness_and_a_forbidden_list_is_said) {
    // A day-old report of an agent that renews its Lease is fresh; without the Lease it would be stale.
    const auto day_old = node_with_report("n1", "ubuntu22.04", k_now, 24h);
    probe::LeaseIndex leases;
    leases.add({{"metadata", {{"name", "meshlink-agent-n1"}}},
                {"spec",
                 {{"holderIdentity", "n1"},
                  {"leaseDurationSeconds", 1800},
                  {"renewTime", util::format_rfc3339_micro(k_now - 60s)}}}});
    NodeReportReader leased({1, 16}, {}, k_now, leases);
    leased.add(day_old);
    const auto with_lease = leased.finish();
    BOOST_TEST(with_lease.fresh == 1);
    BOOST_TEST(with_lease.judged_by_observed_at == 0);

    probe::LeaseIndex forbidden;
    forbidden.set_unavailable("403 Forbidden");
    NodeReportReader unleased({1, 16}, {}, k_now, forbidden);
    unleased.add(day_old);
    auto facts = reachable_cluster("east", {{"routing-mode", "tunnel"}});
    choose_node_cilium(facts, std::nullopt);
    facts.nodes = util::Result<NodeReports>(unleased.finish());
    BOOST_TEST(facts.nodes->value().stale == std::vector<std::string>{"n1"});
    const auto checks = node_checks(facts); // check_of refers into it
    const auto& present = check_of(checks, "node.report.present");
    BOOST_TEST(present.status == Status::warn);
    BOOST_TEST(contains(present.message,
                        "staleness judged by observedAt: the agents' Leases could not be read "
                        "(403 Forbidden)"),
               present.message);
}

BOOST_AUTO_TEST_SUITE_END()
