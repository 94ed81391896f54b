// facts_from_json, the inverse of the report's facts: `kubectl meshlink preflight` re-judges published
// documents for the cluster's Cilium version, so what it reads back must judge exactly like what the agent
// gathered.

#include "probe/report.hpp"
#include "tests/unit/probe/probe_test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <cerrno>

using namespace meshlink::probe;
using meshlink::probe::testing::fixture_host;

namespace {

// A kernel that supports every program type, map type and helper, except one helper.
class MostlyCapableKernel : public BpfKernel {
public:
    int syscall_access() override { return 0; }
    int program_type(int) override { return 1; }
    int map_type(int) override { return 1; }
    int helper(int, int id) override { return id == BPF_FUNC_redirect_peer ? 0 : 1; }
    int jit() override { return 1; }
};

const char* const k_fixtures[] = {"centos7",     "rocky8.10",  "rocky9-elrepo",
                                  "ubuntu22.04", "no-kconfig", "unknown-distro"};

Report fixture_report(std::string_view name, BpfFeatures* bpf) {
    ProbeOptions options;
    options.host = fixture_host(name);
    options.bpf = bpf;
    return make_report(options, {1, 16});
}

nlohmann::json plain(const nlohmann::ordered_json& doc) {
    return nlohmann::json::parse(doc.dump());
}

void require_same_checks(const std::vector<Check>& expected, const std::vector<Check>& actual,
                         std::string_view what) {
    BOOST_TEST_REQUIRE(expected.size() == actual.size(), what);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        BOOST_TEST(expected[i].id == actual[i].id, what);
        BOOST_TEST(expected[i].status == actual[i].status, what << " " << expected[i].id);
        BOOST_TEST(expected[i].message == actual[i].message, what << " " << expected[i].id);
        BOOST_TEST(expected[i].hint == actual[i].hint, what << " " << expected[i].id);
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(probe_report_facts)

BOOST_AUTO_TEST_CASE(document_round_trips_through_facts) {
    MostlyCapableKernel kernel;
    for (bool probed : {false, true}) {
        for (const char* fixture : k_fixtures) {
            BpfFeatures features(kernel);
            const Report report = fixture_report(fixture, probed ? &features : nullptr);
            const auto doc = plain(to_json(report));
            Report again = report;
            again.facts = facts_from_json(doc);
            BOOST_TEST(again.facts.node == report.facts.node, fixture);
            // Serialising the facts read back gives the same document.
            BOOST_TEST(plain(to_json(again)) == doc, fixture << (probed ? " (bpf probed)" : ""));
        }
    }
}

BOOST_AUTO_TEST_CASE(facts_read_back_judge_like_the_gathered_ones_for_every_release) {
    MostlyCapableKernel kernel;
    for (const char* fixture : k_fixtures) {
        BpfFeatures features(kernel);
        const Report report = fixture_report(fixture, &features);
        const NodeFacts back = facts_from_json(plain(to_json(report)));
        for (CiliumVersion cilium :
             {CiliumVersion{1, 12}, CiliumVersion{1, 16}, CiliumVersion{1, 18}, newest_cilium()}) {
            require_same_checks(evaluate(report.facts, cilium), evaluate(back, cilium),
                                std::string(fixture) + " for " + to_string(cilium));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_kernel_judged_again_for_another_release) {
    // The 4.18.0-553 EL8 kernel passes for 1.16 (5.4, RHEL 8.6 exception) and 1.18 (RHEL 8.10 exception):
    // the build number must survive the round trip, or the exception cannot apply.
    const NodeFacts back = facts_from_json(plain(to_json(fixture_report("rocky8.10", nullptr))));
    BOOST_TEST_REQUIRE(back.kernel.build.has_value());
    BOOST_TEST(*back.kernel.build == 553);
    BOOST_TEST(evaluate(back, {1, 18}).front().status == Status::pass);
    // The CentOS 7 kernel fails for every release that needs more than 3.10.
    const NodeFacts old = facts_from_json(plain(to_json(fixture_report("centos7", nullptr))));
    BOOST_TEST(evaluate(old, {1, 12}).front().status == Status::fail);
    BOOST_TEST(evaluate(old, {1, 16}).front().status == Status::fail);
}

BOOST_AUTO_TEST_CASE(missing_or_mistyped_fields_read_as_unknown) {
    for (const char* text : {R"({})", R"({"facts": 3})", R"({"node": 5, "facts": {"kernel": []}})",
                             R"({"facts": {"kernel": {"release": 7, "version": ["a", 1, 2]},
                                           "kconfig": {"options": {"CONFIG_BPF": true}},
                                           "bpf": {"probed": "yes"}, "mounts": {"bpffs": "no"}}})"}) {
        const NodeFacts facts = facts_from_json(nlohmann::json::parse(text));
        BOOST_TEST(facts.node.empty());
        BOOST_TEST(!facts.kernel.version.has_value(), text);
        BOOST_TEST(!facts.kernel.error.empty(), text);
        BOOST_TEST(facts.kconfig.get("CONFIG_BPF") == OptionState::unknown, text);
        BOOST_TEST(!facts.bpf.probed, text);
        BOOST_TEST(!facts.mounts.bpffs.has_value(), text);
        for (const auto& check : evaluate(facts, {1, 16})) {
            // Nothing known means nothing can fail: the verdicts are unknown (or pass for what the checks
            // accept without evidence), never a crash.
            BOOST_TEST(check.status != Status::fail, check.id << ": " << check.message);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
