#include "node-agent/publish/publisher.hpp"
#include "tests/unit/probe/probe_test_support.hpp"
#include "util/rfc3339.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <string>
#include <vector>

using namespace meshlink::agent;
namespace probe = meshlink::probe;
using nlohmann::json;

namespace {

using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

constexpr const char* k_annotation = "meshlink.io/node-report";
constexpr const char* k_ready = "meshlink.io/kernel-ready";
constexpr const char* k_version = "meshlink.io/kernel-version";

// One Node and one namespace of Leases in memory; patches are applied with RFC 7386 semantics and Lease
// writes with resourceVersion checks, as the API server does.
class FakeNodes final : public publish::NodeApi {
public:
    json metadata = {{"name", "n1"}, {"uid", "uid-n1"}, {"labels", {{"kubernetes.io/hostname", "n1"}}}};
    std::vector<std::string> nodes_touched;
    std::vector<json> patches;
    std::optional<meshlink::util::Error> get_error;
    std::optional<meshlink::util::Error> patch_error;
    std::optional<meshlink::util::Error> lease_error;
    std::map<std::string, json> leases;
    std::vector<std::string> lease_calls; // "GET name", "POST name", "PUT name"
    int resource_version = 1;

    meshlink::util::Result<json> get_metadata(std::string_view node) override {
        nodes_touched.emplace_back(node);
        if (get_error) {
            return std::unexpected(*get_error);
        }
        return metadata;
    }

    meshlink::util::Result<void> patch(std::string_view node, const json& merge_patch) override {
        nodes_touched.emplace_back(node);
        if (patch_error) {
            return std::unexpected(*patch_error);
        }
        patches.push_back(merge_patch);
        json object = {{"metadata", metadata}};
        object.merge_patch(merge_patch);
        metadata = object["metadata"];
        return {};
    }

    meshlink::util::Result<std::optional<json>> get_lease(std::string_view name) override {
        lease_calls.push_back("GET " + std::string(name));
        if (lease_error) {
            return std::unexpected(*lease_error);
        }
        auto it = leases.find(std::string(name));
        return it == leases.end() ? std::optional<json>() : std::optional<json>(it->second);
    }

    meshlink::util::Result<json> create_lease(const json& lease) override {
        const std::string name = lease["metadata"]["name"];
        lease_calls.push_back("POST " + name);
        if (leases.count(name) > 0) {
            return meshlink::util::fail(meshlink::util::ErrorKind::already_exists, "exists", 409);
        }
        json stored = lease;
        stored["metadata"]["resourceVersion"] = std::to_string(++resource_version);
        return leases[name] = stored;
    }

    meshlink::util::Result<json> update_lease(const json& lease) override {
        const std::string name = lease["metadata"]["name"];
        lease_calls.push_back("PUT " + name);
        auto it = leases.find(name);
        if (it == leases.end()) {
            return meshlink::util::fail(meshlink::util::ErrorKind::not_found, "not found", 404);
        }
        if (it->second["metadata"]["resourceVersion"] != lease["metadata"]["resourceVersion"]) {
            return meshlink::util::fail(meshlink::util::ErrorKind::conflict, "the object has been modified",
                                        409);
        }
        json stored = lease;
        stored["metadata"]["resourceVersion"] = std::to_string(++resource_version);
        return it->second = stored;
    }

    [[nodiscard]] std::string renewed(const std::string& node = "n1") const {
        return leases.at("meshlink-agent-" + node)["spec"]["renewTime"];
    }

    [[nodiscard]] json published() const {
        return json::parse(metadata["annotations"][k_annotation].get<std::string>());
    }
};

probe::NodeReport desired(Clock::time_point observed, bool ready = true,
                          std::optional<std::string> kernel = "6.1.0-18-amd64",
                          std::string check_status = "pass") {
    probe::NodeReport report;
    report.document = nlohmann::ordered_json::parse(R"({"schemaVersion":1,"node":"n1","intervalSeconds":600,
        "ciliumVersion":"1.16","checks":[{"id":"node.kernel.version","status":")" +
                                                    check_status + R"(","message":"m","hint":null}]})");
    report.kernel_ready = ready;
    report.kernel_version = std::move(kernel);
    report.observed_at = observed;
    return report;
}

const Clock::time_point t0 = Clock::from_time_t(1714567890);

// The agent's publish for node n1 with its 10-minute interval.
meshlink::util::Result<publish::PublishResult> publish_at(FakeNodes& api, publish::LeaseKeeper& lease,
                                                          const probe::NodeReport& report,
                                                          Clock::time_point now) {
    return publish::publish(api, "n1", report, lease, now);
}

} // namespace

BOOST_AUTO_TEST_SUITE(publish_publisher)

BOOST_AUTO_TEST_CASE(first_publish_writes_annotation_and_labels_on_the_own_node_only) {
    FakeNodes api;
    publish::LeaseKeeper lease("n1", 600s);
    auto result = publish_at(api, lease, desired(t0, false, "3.10.0-1160.el7.x86_64"), t0);
    BOOST_REQUIRE(result.has_value());
    BOOST_TEST(publish::to_string(result->change) == "report");
    BOOST_TEST(api.patches.size() == 1u);
    for (const auto& node : api.nodes_touched) {
        BOOST_TEST(node == "n1");
    }
    BOOST_TEST(api.metadata["labels"][k_ready] == "false");
    BOOST_TEST(api.metadata["labels"][k_version] == "3.10.0-1160.el7.x86_64");
    BOOST_TEST(api.metadata["labels"]["kubernetes.io/hostname"] == "n1"); // other labels are left alone
    BOOST_TEST(api.published()["observedAt"] == "2024-05-01T12:51:30Z");
    BOOST_TEST(api.published()["intervalSeconds"] == 600);
    // The patch is on metadata only: nothing in spec or status.
    BOOST_TEST(api.patches[0].size() == 1u);
    BOOST_TEST(api.patches[0].contains("metadata"));
}

BOOST_AUTO_TEST_CASE(an_unchanged_report_is_not_written_again) {
    FakeNodes api;
    publish::LeaseKeeper lease("n1", 600s);
    BOOST_REQUIRE(publish_at(api, lease, desired(t0), t0).has_value());
    // Re-probed a minute later: same document, same labels.
    auto again = publish_at(api, lease, desired(t0 + 60s), t0 + 60s);
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(publish::to_string(again->change) == "none");
    BOOST_TEST(api.patches.size() == 1u);
    BOOST_TEST(api.published()["observedAt"] == "2024-05-01T12:51:30Z"); // the first observation stays
}

BOOST_AUTO_TEST_CASE(key_order_of_the_published_document_does_not_count) {
    FakeNodes api;
    publish::LeaseKeeper lease("n1", 600s);
    api.metadata["annotations"][k_annotation] =
        R"({"checks":[{"hint":null,"id":"node.kernel.version","message":"m","status":"pass"}],"ciliumVersion":"1.16",)"
        R"("intervalSeconds":600,"node":"n1","observedAt":"2024-05-01T12:50:00Z","schemaVersion":1})";
    api.metadata["labels"][k_ready] = "true";
    api.metadata["labels"][k_version] = "6.1.0-18-amd64";
    auto result = publish_at(api, lease, desired(t0), t0);
    BOOST_REQUIRE(result.has_value());
    BOOST_TEST(publish::to_string(result->change) == "none");
    BOOST_TEST(api.patches.empty());
}

BOOST_AUTO_TEST_CASE(a_changed_check_or_label_is_written) {
    FakeNodes api;
    publish::LeaseKeeper lease("n1", 600s);
    BOOST_REQUIRE(publish_at(api, lease, desired(t0), t0).has_value());
    auto changed = publish_at(api, lease, desired(t0 + 60s, true, "6.1.0-18-amd64", "warn"), t0 + 60s);
    BOOST_REQUIRE(changed.has_value());
    BOOST_TEST(publish::to_string(changed->change) == "report");
    BOOST_TEST(api.published()["checks"][0]["status"] == "warn");
    BOOST_TEST(api.published()["observedAt"] == "2024-05-01T12:52:30Z");

    // Someone removed our label: put it back.
    api.metadata["labels"].erase(k_ready);
    auto relabelled = publish_at(api, lease, desired(t0 + 120s, true, "6.1.0-18-amd64", "warn"), t0 + 120s);
    BOOST_REQUIRE(relabelled.has_value());
    BOOST_TEST(publish::to_string(relabelled->change) == "report");
    BOOST_TEST(api.metadata["labels"][k_ready] == "true");
    BOOST_TEST(api.patches.size() == 3u);
}

// /boot's free space moves with every write to its filesystem: by itself it is not a change worth a write.
BOOST_AUTO_TEST_CASE(free_space_on_boot_alone_is_not_a_change) {
    auto with_boot = [](Clock::time_point observed, std::int64_t free, const std::string& status) {
        auto report = desired(observed);
        report.document["facts"] = {{"boot", {{"firmware", "uefi"}, {"bootFreeBytes", free}}}};
        report.document["checks"].push_back({{"id", "node.boot"},
                                             {"status", status},
                                             {"message", fmt::format("/boot {} MiB free", free >> 20)},
                                             {"hint", nullptr}});
        return report;
    };
    FakeNodes api;
    publish::LeaseKeeper lease("n1", 600s);
    BOOST_REQUIRE(publish_at(api, lease, with_boot(t0, 600ll << 20, "pass"), t0).has_value());
    auto moved = publish_at(api, lease, with_boot(t0 + 60s, 590ll << 20, "pass"), t0 + 60s);
    BOOST_REQUIRE(moved.has_value());
    BOOST_TEST(publish::to_string(moved->change) == "none");
    BOOST_TEST(api.patches.size() == 1u);
    // Below the threshold the check's status changes: that is written.
    auto low = publish_at(api, lease, with_boot(t0 + 120s, 100ll << 20, "warn"), t0 + 120s);
    BOOST_REQUIRE(low.has_value());
    BOOST_TEST(publish::to_string(low->change) == "report");
    BOOST_TEST(api.published()["facts"]["boot"]["bootFreeBytes"] == 100ll << 20);
    // Another fact in the same family still counts.
    auto other = with_boot(t0 + 180s, 100ll << 20, "warn");
    other.document["facts"]["boot"]["firmware"] = "bios";
    auto changed = publish_at(api, lease, other, t0 + 180s);
    BOOST_REQUIRE(changed.has_value());
    BOOST_TEST(publish::to_string(changed->change) == "report");
}

BOOST_AUTO_TEST_CASE(an_unknown_kernel_release_removes_the_version_label) {
    FakeNodes api;
    publish::LeaseKeeper lease("n1", 600s);
    BOOST_REQUIRE(publish_at(api, lease, desired(t0), t0).has_value());
    BOOST_TEST(api.metadata["labels"].contains(k_version));
    BOOST_REQUIRE(publish_at(api, lease, desired(t0 + 60s, true, std::nullopt), t0 + 60s).has_value());
    BOOST_TEST(!api.metadata["labels"].contains(k_version));
    BOOST_TEST(api.patches.back()["metadata"]["labels"][k_version].is_null()); // a merge-patch delete
}

// Liveness is the Lease: an unchanged report is never written to the Node again, however long it stays
// unchanged, while the Lease is renewed on every publish with one PUT.
BOOST_AUTO_TEST_CASE(an_unchanged_report_only_renews_the_lease) {
    FakeNodes api;
    publish::LeaseKeeper lease("n1", 600s);
    BOOST_REQUIRE(publish_at(api, lease, desired(t0), t0).has_value());
    BOOST_TEST(api.lease_calls ==
               (std::vector<std::string>{"GET meshlink-agent-n1", "POST meshlink-agent-n1"}));
    const json& created = api.leases.at("meshlink-agent-n1");
    BOOST_TEST(created["metadata"]["ownerReferences"][0]["uid"] == "uid-n1"); // from the Node's metadata
    BOOST_TEST(created["spec"]["leaseDurationSeconds"] == 1800);
    BOOST_TEST(api.renewed() == "2024-05-01T12:51:30.000000Z");

    api.lease_calls.clear();
    for (int tick = 1; tick <= 6; ++tick) { // an hour of unchanged probes
        const auto now = t0 + tick * 600s;
        auto result = publish_at(api, lease, desired(now), now);
        BOOST_REQUIRE(result.has_value());
        BOOST_TEST(publish::to_string(result->change) == "none");
    }
    BOOST_TEST(api.patches.size() == 1u);                                // the first report only
    BOOST_TEST(api.published()["observedAt"] == "2024-05-01T12:51:30Z"); // when this content was found
    BOOST_TEST(api.lease_calls == std::vector<std::string>(6, "PUT meshlink-agent-n1"));
    BOOST_TEST(api.renewed() == "2024-05-01T13:51:30.000000Z");
}

BOOST_AUTO_TEST_CASE(a_lease_changed_or_deleted_meanwhile_is_read_again) {
    FakeNodes api;
    publish::LeaseKeeper lease("n1", 600s);
    BOOST_REQUIRE(publish_at(api, lease, desired(t0), t0).has_value());
    // Someone else wrote the Lease: the PUT with our resourceVersion answers 409, we read it and renew.
    api.leases.at("meshlink-agent-n1")["metadata"]["resourceVersion"] = "999";
    api.lease_calls.clear();
    BOOST_REQUIRE(publish_at(api, lease, desired(t0 + 600s), t0 + 600s).has_value());
    BOOST_TEST(api.lease_calls == (std::vector<std::string>{"PUT meshlink-agent-n1", "GET meshlink-agent-n1",
                                                            "PUT meshlink-agent-n1"}));
    BOOST_TEST(api.renewed() == "2024-05-01T13:01:30.000000Z");
    // Deleted meanwhile: created again.
    api.leases.clear();
    api.lease_calls.clear();
    BOOST_REQUIRE(publish_at(api, lease, desired(t0 + 1200s), t0 + 1200s).has_value());
    BOOST_TEST(api.lease_calls == (std::vector<std::string>{"PUT meshlink-agent-n1", "GET meshlink-agent-n1",
                                                            "POST meshlink-agent-n1"}));
    BOOST_TEST(api.renewed() == "2024-05-01T13:11:30.000000Z");
}

BOOST_AUTO_TEST_CASE(a_lease_that_cannot_be_renewed_fails_the_publish) {
    FakeNodes api;
    publish::LeaseKeeper lease("n1", 600s);
    api.lease_error =
        meshlink::util::Error{meshlink::util::ErrorKind::forbidden, "GET lease: 403 Forbidden", 403};
    auto failed = publish_at(api, lease, desired(t0), t0);
    BOOST_REQUIRE(!failed.has_value());
    BOOST_TEST(failed.error().http_status == 403);
    BOOST_TEST(failed.error().message.find("renewing Lease meshlink-system/meshlink-agent-n1") !=
                   std::string::npos,
               failed.error().message);
    // The report itself went out; the retry renews the Lease without writing the Node again.
    BOOST_TEST(api.patches.size() == 1u);
    api.lease_error.reset();
    auto retried = publish_at(api, lease, desired(t0), t0 + 2s);
    BOOST_REQUIRE(retried.has_value());
    BOOST_TEST(publish::to_string(retried->change) == "none");
    BOOST_TEST(api.patches.size() == 1u);
    BOOST_TEST(api.leases.count("meshlink-agent-n1") == 1u);
}

// Two probes of the same node a while apart (the fixture's /boot free space may move in between, as a real
// node's does) are not a change for the publisher.
BOOST_AUTO_TEST_CASE(two_probes_of_an_unchanged_node_are_no_change) {
    probe::ProbeOptions options;
    options.host = meshlink::probe::testing::fixture_host("rocky9-elrepo");
    const auto first =
        probe::make_node_report(probe::make_report(options, {1, 18}), 600s, Clock::from_time_t(1000));
    const auto second =
        probe::make_node_report(probe::make_report(options, {1, 18}), 600s, Clock::from_time_t(1060));
    const auto plan = publish::plan_publish(first, json::object());
    BOOST_REQUIRE(publish::to_string(plan.change) == "report");
    const auto again = publish::plan_publish(second, plan.patch["metadata"]);
    BOOST_TEST(publish::to_string(again.change) == "none", again.reason);
}

// What the one reader refuses is replaced, even when it is otherwise the same document.
BOOST_AUTO_TEST_CASE(a_report_the_reader_refuses_is_replaced) {
    auto report = desired(t0);
    json published = json::parse(probe::annotation_text(report));
    published["ciliumVersion"] = 5;
    const json metadata = {{"annotations", {{k_annotation, published.dump()}}},
                           {"labels", {{k_ready, "true"}, {k_version, "6.1.0-18-amd64"}}}};
    const auto plan = publish::plan_publish(report, metadata);
    BOOST_TEST(publish::to_string(plan.change) == "report");
    BOOST_TEST(plan.reason.find("ciliumVersion") != std::string::npos, plan.reason);
}

BOOST_AUTO_TEST_CASE(an_unreadable_annotation_is_replaced) {
    FakeNodes api;
    publish::LeaseKeeper lease("n1", 600s);
    api.metadata["annotations"][k_annotation] = "not json";
    api.metadata["labels"][k_ready] = "true";
    api.metadata["labels"][k_version] = "6.1.0-18-amd64";
    auto result = publish_at(api, lease, desired(t0), t0);
    BOOST_REQUIRE(result.has_value());
    BOOST_TEST(publish::to_string(result->change) == "report");
    BOOST_TEST(api.published()["schemaVersion"] == 1);
}

BOOST_AUTO_TEST_CASE(api_errors_are_returned_and_nothing_half_written) {
    FakeNodes api;
    publish::LeaseKeeper lease("n1", 600s);
    api.get_error = meshlink::util::Error{meshlink::util::ErrorKind::unavailable, "GET: 503", 503};
    auto failed_get = publish_at(api, lease, desired(t0), t0);
    BOOST_REQUIRE(!failed_get.has_value());
    BOOST_TEST(failed_get.error().http_status == 503);
    BOOST_TEST(api.patches.empty());

    api.get_error.reset();
    api.patch_error = meshlink::util::Error{meshlink::util::ErrorKind::forbidden, "PATCH: 403", 403};
    auto failed_patch = publish_at(api, lease, desired(t0), t0);
    BOOST_REQUIRE(!failed_patch.has_value());
    BOOST_TEST(failed_patch.error().http_status == 403);
    BOOST_TEST(!api.metadata.contains("annotations"));

    // The next attempt, with the API back, publishes in full.
    api.patch_error.reset();
    auto retried = publish_at(api, lease, desired(t0), t0 + 5s);
    BOOST_REQUIRE(retried.has_value());
    BOOST_TEST(publish::to_string(retried->change) == "report");
    BOOST_TEST(api.metadata["labels"][k_ready] == "true");
}

BOOST_AUTO_TEST_SUITE_END()
