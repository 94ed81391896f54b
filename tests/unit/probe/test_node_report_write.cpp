// The node report's writer (probe/node_report.hpp): what meshlink-agent publishes, and its Lease.

#include "probe/node_report.hpp"
#include "tests/unit/probe/probe_test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <limits>
#include <regex>

using namespace meshlink;
using meshlink::probe::testing::fixture_host;

namespace {

using Clock = std::chrono::system_clock;

probe::Report report_with(std::vector<probe::Status> statuses, std::string release = "6.1.0-18-amd64") {
    probe::Report report;
    report.cilium = {1, 16};
    report.facts.node = "n1";
    report.facts.kernel.release = std::move(release);
    int i = 0;
    for (auto status : statuses) {
        report.checks.push_back({"node.check." + std::to_string(i++), status, "message", ""});
    }
    return report;
}

} // namespace

BOOST_AUTO_TEST_SUITE(node_report_writer)

// NFD's rule: [^-A-Za-z0-9_.] -> '_', then a valid label value (<= 63, alphanumeric at both ends).
BOOST_AUTO_TEST_CASE(kernel_version_label_follows_nfd) {
    BOOST_TEST(*probe::kernel_version_label("3.10.0-1160.119.1.el7.x86_64") ==
               "3.10.0-1160.119.1.el7.x86_64");
    BOOST_TEST(*probe::kernel_version_label("6.1.0+debian~rc1") == "6.1.0_debian_rc1");
    BOOST_TEST(*probe::kernel_version_label("5.15.0-1057-azure+") == "5.15.0-1057-azure");
    BOOST_TEST(*probe::kernel_version_label("#5.4 custom") == "5.4_custom");
    BOOST_TEST(!probe::kernel_version_label("").has_value());
    BOOST_TEST(!probe::kernel_version_label("-+~").has_value());

    // 62 characters, then a '-' at position 63: the cut keeps the '-', the trim removes it.
    const std::string long_release = std::string(62, 'a') + "-tail-of-a-very-long-release";
    const auto cut = probe::kernel_version_label(long_release);
    BOOST_REQUIRE(cut.has_value());
    BOOST_TEST(*cut == std::string(62, 'a'));
}

BOOST_AUTO_TEST_CASE(kernel_version_label_is_always_a_valid_label_value) {
    const std::regex valid("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");
    for (const std::string& release : std::vector<std::string>{
             "4.18.0-553.el8_10.x86_64", "6.12.1-1.el9.elrepo.x86_64", "_x_", ".5.", std::string(200, '9'),
             "5.4.0-acme7 (builder@host) #1 SMP", "\xc3\xa9t\xc3\xa9-6.1", std::string(63, 'x') + "."}) {
        const auto label = probe::kernel_version_label(release);
        if (label) {
            BOOST_TEST(std::regex_match(*label, valid), release << " -> " << *label);
            BOOST_TEST(probe::is_valid_label_value(*label));
        }
    }
}

BOOST_AUTO_TEST_CASE(kernel_ready_is_false_only_when_a_check_fails) {
    using probe::Status;
    const auto now = Clock::now();
    BOOST_TEST(
        probe::make_node_report(report_with({Status::pass, Status::warn}), std::chrono::seconds(600), now)
            .kernel_ready);
    BOOST_TEST(
        probe::make_node_report(report_with({Status::pass, Status::unknown}), std::chrono::seconds(600), now)
            .kernel_ready);
    BOOST_TEST(!probe::make_node_report(report_with({Status::pass, Status::fail, Status::warn}),
                                        std::chrono::seconds(600), now)
                    .kernel_ready);
}

BOOST_AUTO_TEST_CASE(document_is_the_probe_document_plus_interval) {
    probe::ProbeOptions options;
    options.host = fixture_host("centos7");
    const auto report = probe::make_report(options, {1, 16});
    const auto observed = Clock::from_time_t(1714567890);
    const auto node_report = probe::make_node_report(report, std::chrono::seconds(300), observed);

    BOOST_TEST(!node_report.kernel_ready); // 3.10 is below every Cilium minimum
    BOOST_TEST(node_report.kernel_version.value_or("") == "3.10.0-1160.119.1.el7.x86_64");
    BOOST_TEST(node_report.document.at("intervalSeconds").get<int>() == 300);
    BOOST_TEST(!node_report.document.contains("observedAt"));

    // Everything the probe says is there unchanged.
    auto without_interval = nlohmann::json::parse(node_report.document.dump());
    without_interval.erase("intervalSeconds");
    BOOST_TEST(without_interval == nlohmann::json::parse(probe::to_json_text(report)));

    const std::string text = probe::annotation_text(node_report);
    BOOST_TEST(text.find('\n') == std::string::npos); // compact
    const auto published = nlohmann::ordered_json::parse(text);
    BOOST_TEST(published.at("observedAt").get<std::string>() == "2024-05-01T12:51:30Z");
    // Whose report and how old come first, so a person reading the annotation sees them.
    std::vector<std::string> keys;
    for (const auto& [key, value] : published.items()) {
        keys.push_back(key);
    }
    BOOST_REQUIRE(keys.size() >= 4u);
    BOOST_TEST(keys[0] == "schemaVersion");
    BOOST_TEST(keys[1] == "node");
    BOOST_TEST(keys[2] == "observedAt");
    BOOST_TEST(keys[3] == "intervalSeconds");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_from_the_node_is_replaced) {
    auto report = report_with({probe::Status::pass});
    report.facts.node = "n\xff"
                        "1";
    const auto node_report = probe::make_node_report(report, std::chrono::seconds(600), Clock::now());
    const std::string text = probe::annotation_text(node_report);
    BOOST_TEST(nlohmann::json::parse(text).at("node").get<std::string>() == "n\xef\xbf\xbd"
                                                                            "1");
}

// The Lease says who holds it, since when and for how long, in the formats the API server accepts:
// metav1.MicroTime (six fraction digits) and an int32 duration.
BOOST_AUTO_TEST_CASE(lease_is_owned_by_the_node_and_held_for_three_intervals) {
    const auto t0 = Clock::from_time_t(1714567890) + std::chrono::microseconds(123456);
    auto lease = probe::make_lease("worker-1", "uid-1", std::chrono::seconds(600), t0);
    BOOST_TEST(lease["apiVersion"] == "coordination.k8s.io/v1");
    BOOST_TEST(lease["kind"] == "Lease");
    BOOST_TEST(lease["metadata"]["name"] == "meshlink-agent-worker-1");
    BOOST_TEST(lease["metadata"]["namespace"] == "meshlink-system");
    BOOST_TEST(lease["metadata"]["ownerReferences"][0]["kind"] == "Node");
    BOOST_TEST(lease["metadata"]["ownerReferences"][0]["uid"] == "uid-1");
    BOOST_TEST(!lease["metadata"]["ownerReferences"][0].contains("blockOwnerDeletion"));
    BOOST_TEST(lease["spec"]["holderIdentity"] == "worker-1");
    BOOST_TEST(lease["spec"]["leaseDurationSeconds"] == 1800);
    BOOST_TEST(lease["spec"]["renewTime"] == "2024-05-01T12:51:30.123456Z");
    BOOST_TEST(lease["spec"]["acquireTime"] == "2024-05-01T12:51:30.123456Z");
    // Without a uid (the Node's metadata had none) there is no owner.
    BOOST_TEST(!probe::make_lease("worker-1", "", std::chrono::seconds(600), t0)["metadata"].contains(
        "ownerReferences"));

    // Renewing moves renewTime only; a new holder is an acquisition.
    probe::renew_lease(lease, "worker-1", std::chrono::seconds(600), t0 + std::chrono::seconds(600));
    BOOST_TEST(lease["spec"]["renewTime"] == "2024-05-01T13:01:30.123456Z");
    BOOST_TEST(lease["spec"]["acquireTime"] == "2024-05-01T12:51:30.123456Z");
    BOOST_TEST(lease["spec"]["leaseTransitions"] == 0);
    lease["spec"]["holderIdentity"] = "someone-else";
    probe::renew_lease(lease, "worker-1", std::chrono::seconds(60), t0 + std::chrono::seconds(700));
    BOOST_TEST(lease["spec"]["holderIdentity"] == "worker-1");
    BOOST_TEST(lease["spec"]["leaseTransitions"] == 1);
    BOOST_TEST(lease["spec"]["leaseDurationSeconds"] == 180);
    BOOST_TEST(lease["spec"]["acquireTime"] == lease["spec"]["renewTime"]);
}

BOOST_AUTO_TEST_CASE(lease_names_fit_an_object_name) {
    BOOST_TEST(probe::lease_name("n1") == "meshlink-agent-n1");
    const std::string longest_plain(253 - 15, 'a');
    BOOST_TEST(probe::lease_name(longest_plain) == "meshlink-agent-" + longest_plain);
    // Longer node names get a digest: short, stable, and different for different nodes.
    const std::string long_a = std::string(250, 'a');
    const std::string long_b = std::string(249, 'a') + "b";
    BOOST_TEST(probe::lease_name(long_a).size() == 55u);
    BOOST_TEST(probe::lease_name(long_a) == probe::lease_name(long_a));
    BOOST_TEST(probe::lease_name(long_a) != probe::lease_name(long_b));
    // The duration is an int32 in the API.
    BOOST_TEST(probe::lease_duration(std::chrono::seconds(1)).count() == 3);
    BOOST_TEST(
        probe::lease_duration(std::chrono::seconds(std::numeric_limits<std::int64_t>::max())).count() ==
        std::numeric_limits<std::int32_t>::max());
}

BOOST_AUTO_TEST_SUITE_END()
