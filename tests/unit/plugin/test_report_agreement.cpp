// preflight and `agent status` read node reports with one reader: for the same annotations (and Leases) they
// must give the same verdict, fresh, stale, missing or invalid, node by node. Each row here is fed to both.

#include "plugin/agent/node_reports.hpp"
#include "plugin/preflight/facts.hpp"
#include "tests/unit/plugin/agent/fake_cluster.hpp"
#include "tests/unit/plugin/preflight/memory_api.hpp"
#include "util/rfc3339.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>

using namespace meshlink;
using nlohmann::json;

namespace {

using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

const auto k_now = Clock::from_time_t(1714567890);

json report(Clock::duration age) {
    return {{"schemaVersion", 1},
            {"observedAt", util::format_rfc3339(k_now - age)},
            {"intervalSeconds", 600},
            {"ciliumVersion", "1.16"},
            {"facts", {{"kernel", {{"release", "6.1.0-18-amd64"}}}}},
            {"checks", json::array({{{"id", "node.kernel.version"}, {"status", "pass"}}})}};
}

struct Row {
    std::string node;
    std::optional<std::string> annotation; // nullopt: no annotation
    bool leased = false;                   // the agent renewed its Lease a minute ago
    std::string expected;
};

std::string changed(const std::function<void(json&)>& edit, Clock::duration age = 60s) {
    json doc = report(age);
    edit(doc);
    return doc.dump();
}

std::vector<Row> rows() {
    return {
        {"fresh", report(60s).dump(), false, "fresh"},
        {"stale", report(2h).dump(), false, "stale"},
        {"leased-old", report(48h).dump(), true, "fresh"},
        {"no-report", std::nullopt, false, "missing"},
        {"not-json", "{\"schemaVersion\":1,", false, "invalid"},
        {"schema-2", changed([](json& d) { d["schemaVersion"] = 2; }), false, "invalid"},
        {"schema-text", changed([](json& d) { d["schemaVersion"] = "1"; }), false, "invalid"},
        {"no-observed-at", changed([](json& d) { d.erase("observedAt"); }), false, "invalid"},
        {"observed-at-number", changed([](json& d) { d["observedAt"] = 1714567890; }), false, "invalid"},
        {"observed-at-garbage", changed([](json& d) { d["observedAt"] = "last tuesday"; }), true, "invalid"},
        {"interval-text", changed([](json& d) { d["intervalSeconds"] = "600"; }), false, "invalid"},
        {"interval-max",
         changed([](json& d) { d["intervalSeconds"] = std::numeric_limits<std::int64_t>::max(); }), false,
         "invalid"},
        {"no-interval-29m", changed([](json& d) { d.erase("intervalSeconds"); }, 29min), false, "fresh"},
        {"no-interval-31m", changed([](json& d) { d.erase("intervalSeconds"); }, 31min), false, "stale"},
        {"cilium-number", changed([](json& d) { d["ciliumVersion"] = 5; }), false, "invalid"},
        {"facts-array", changed([](json& d) { d["facts"] = json::array(); }), false, "invalid"},
        {"checks-object", changed([](json& d) { d["checks"] = json::object(); }), false, "invalid"},
        {"check-status-number", changed([](json& d) { d["checks"][0]["status"] = 1; }), false, "invalid"},
        {"deep", "{\"schemaVersion\":1,\"x\":" + std::string(5000, '[') + std::string(5000, ']') + "}", false,
         "invalid"},
        {"added-field", changed([](json& d) {
             d["somethingNew"] = {{"a", 1}};
         }),
         false, "fresh"},
    };
}

json node_object(const Row& row) {
    json node = {
        {"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", row.node}}}, {"spec", json::object()}};
    if (row.annotation) {
        node["metadata"]["annotations"] = {{"meshlink.io/node-report", *row.annotation}};
    }
    return node;
}

json lease_object(const std::string& node) {
    return {{"metadata", {{"name", "meshlink-agent-" + node}, {"namespace", "meshlink-system"}}},
            {"spec",
             {{"holderIdentity", node},
              {"leaseDurationSeconds", 1800},
              {"renewTime", util::format_rfc3339_micro(k_now - 60s)}}}};
}

// What preflight decided for each node, from its tallies.
std::map<std::string, std::string> preflight_verdicts(const plugin::preflight::NodeReports& reports,
                                                      const std::vector<Row>& table) {
    std::map<std::string, std::string> out;
    for (const auto& row : table) {
        out[row.node] = "fresh";
    }
    for (const auto& name : reports.stale) {
        out[name] = "stale";
    }
    for (const auto& name : reports.missing) {
        out[name] = "missing";
    }
    for (const auto& [name, why] : reports.unreadable) {
        out[name] = "invalid";
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(report_agreement)

BOOST_AUTO_TEST_CASE(preflight_and_agent_status_agree_node_by_node) {
    const auto table = rows();

    plugin::preflight::testing::MemoryApi preflight_api;
    plugin::agent::testing::FakeCluster agent_api;
    for (const auto& row : table) {
        preflight_api.nodes.push_back(node_object(row));
        agent_api.objects["/api/v1/nodes/" + row.node] = node_object(row);
        if (row.leased) {
            preflight_api.leases.push_back(lease_object(row.node));
            agent_api
                .objects["/apis/coordination.k8s.io/v1/namespaces/meshlink-system/leases/meshlink-agent-" +
                         row.node] = lease_object(row.node);
        }
    }

    plugin::preflight::GatherOptions options;
    options.now = k_now;
    const auto facts = plugin::preflight::gather(preflight_api, "c1", options);
    BOOST_TEST(preflight_api.lease_lists == 1);
    BOOST_TEST_REQUIRE((facts.nodes && facts.nodes->has_value()));
    BOOST_TEST(facts.nodes->value().total == static_cast<int>(table.size()));
    const auto from_preflight = preflight_verdicts(facts.nodes->value(), table);

    const auto overview = plugin::agent::collect_overview(agent_api, k_now);
    BOOST_TEST_REQUIRE(overview.has_value());
    std::map<std::string, std::string> from_status;
    for (const auto& node : overview->nodes) {
        from_status[node.node] = std::string(probe::to_string(node.state));
    }

    for (const auto& row : table) {
        BOOST_TEST(from_preflight.at(row.node) == row.expected, row.node);
        BOOST_TEST(from_status.at(row.node) == row.expected, row.node);
    }
    // And the reasons given for invalid reports are the same words.
    for (const auto& [name, why] : facts.nodes->value().unreadable) {
        const auto it = std::find_if(overview->nodes.begin(), overview->nodes.end(),
                                     [&](const auto& node) { return node.node == name; });
        BOOST_TEST_REQUIRE((it != overview->nodes.end()));
        BOOST_TEST(it->problem == why, name);
    }
}

BOOST_AUTO_TEST_SUITE_END()
