#include "plugin/preflight/check.hpp"
#include "plugin/preflight/output.hpp"

#include <boost/test/unit_test.hpp>

#include <sstream>

using namespace meshlink;
using namespace meshlink::plugin::preflight;

namespace {

std::vector<Check> sample() {
    Check ok{"cluster.api.reachable",
             Scope::cluster,
             "east",
             Status::pass,
             "Kubernetes v1.30.4 answers",
             "",
             std::nullopt};
    Check bad{"mesh.pod-cidr.overlap", Scope::mesh,         "east,west", Status::fail,
              "pod CIDRs overlap",     "give each its own", std::nullopt};
    NodeCounts counts;
    counts.total = 3;
    counts.pass = 1;
    counts.fail = 1;
    counts.missing = 1;
    counts.failing = {"old-1"};
    Check node{"node.kernel.version",      Scope::node, "west", Status::fail,
               "1 of 2 nodes fail: old-1", "upgrade",   counts};
    return {ok, bad, node};
}

} // namespace

BOOST_AUTO_TEST_SUITE(preflight_output)

BOOST_AUTO_TEST_CASE(json_document_shape) {
    const auto doc = to_json(sample());
    BOOST_TEST(doc.size() == 3u);
    BOOST_TEST(doc.at("schemaVersion") == 1);
    BOOST_TEST(doc.at("result") == "fail");
    const auto& checks = doc.at("checks");
    BOOST_TEST_REQUIRE(checks.size() == 3u);
    BOOST_TEST(checks[0].at("hint").is_null()); // no hint: null, as in the node report
    BOOST_TEST(!checks[0].contains("nodes"));   // only aggregated node checks carry counts
    BOOST_TEST(checks[1].at("scope") == "mesh");
    BOOST_TEST(checks[1].at("cluster") == "east,west");
    BOOST_TEST(checks[1].at("hint") == "give each its own");
    const auto& nodes = checks[2].at("nodes");
    BOOST_TEST(nodes.at("total") == 3);
    BOOST_TEST(nodes.at("missing") == 1);
    BOOST_TEST(nodes.at("failing") == nlohmann::ordered_json::array({"old-1"}));
    std::vector<std::string> keys;
    for (const auto& [key, value] : checks[2].items()) {
        keys.push_back(key);
    }
    BOOST_TEST(keys ==
               (std::vector<std::string>{"id", "scope", "cluster", "status", "message", "hint", "nodes"}));
    // Warnings and unknowns do not fail the result.
    auto lenient = sample();
    lenient[1].status = Status::warn;
    lenient[2].status = Status::unknown;
    BOOST_TEST(to_json(lenient).at("result") == "pass");
    BOOST_TEST(to_json({}).at("result") == "pass");
}

BOOST_AUTO_TEST_CASE(table_groups_by_scope_with_ascii_marks_off_a_terminal) {
    std::ostringstream out;
    print_table(sample(), util::Terminal{false, false}, out);
    const std::string text = out.str();
    BOOST_TEST(text.find("CLUSTER\n") < text.find("MESH\n"));
    BOOST_TEST(text.find("MESH\n") < text.find("NODE\n"));
    BOOST_TEST(text.find("KUBECONFIG") == std::string::npos); // no empty groups
    BOOST_TEST(text.find("[FAIL]  mesh.pod-cidr.overlap") != std::string::npos, text);
    BOOST_TEST(text.find("-> give each its own") != std::string::npos, text);
    BOOST_TEST(text.find("nodes: 3 total, 1 pass, 0 warn, 1 fail, 0 unknown, 1 missing") != std::string::npos,
               text);
    BOOST_TEST(text.find("Preflight failed: 1 passed, 0 warnings, 2 failed, 0 unknown") != std::string::npos,
               text);
    for (unsigned char c : text) {
        BOOST_TEST_REQUIRE(c < 0x80);
        BOOST_TEST_REQUIRE(c != 0x1b); // no escape sequences
    }
    std::ostringstream fancy;
    print_table(sample(), util::Terminal{true, true}, fancy);
    BOOST_TEST(fancy.str().find("\x1b[") != std::string::npos);
    BOOST_TEST(fancy.str().find("→ give each its own") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
