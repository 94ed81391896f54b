#include "node-agent/publish/publisher.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <string>
#include <vector>

using namespace meshlink::agent;
using nlohmann::json;

namespace {

using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

constexpr const char* k_annotation = "meshlink.io/node-report";
constexpr const char* k_ready = "meshlink.io/kernel-ready";
constexpr const char* k_version = "meshlink.io/kernel-version";

// One Node in memory; patches are applied with RFC 7386 semantics, as the API server applies them.
class FakeNodes final : public publish::NodeApi {
public:
    json metadata = {{"name", "n1"}, {"labels", {{"kubernetes.io/hostname", "n1"}}}};
    std::vector<std::string> nodes_touched;
    std::vector<json> patches;
    std::optional<meshlink::util::Error> get_error;
    std::optional<meshlink::util::Error> patch_error;

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

    [[nodiscard]] json published() const {
        return json::parse(metadata["annotations"][k_annotation].get<std::string>());
    }
};

publish::NodeReport desired(Clock::time_point observed, bool ready = true,
                            std::optional<std::string> kernel = "6.1.0-18-amd64",
                            std::string check_status = "pass") {
    publish::NodeReport report;
    report.document = nlohmann::ordered_json::parse(R"({"schemaVersion":1,"node":"n1","intervalSeconds":600,
        "ciliumVersion":"1.16","checks":[{"id":"node.kernel.version","status":")" +
                                                    check_status + R"(","message":"m","hint":null}]})");
    report.kernel_ready = ready;
    report.kernel_version = std::move(kernel);
    report.observed_at = observed;
    return report;
}

const Clock::time_point t0 = Clock::from_time_t(1714567890);

} // namespace

BOOST_AUTO_TEST_SUITE(publish_publisher)

BOOST_AUTO_TEST_CASE(first_publish_writes_annotation_and_labels_on_the_own_node_only) {
    FakeNodes api;
    auto result = publish::publish(api, "n1", desired(t0, false, "3.10.0-1160.el7.x86_64"), t0);
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
    BOOST_REQUIRE(publish::publish(api, "n1", desired(t0), t0).has_value());
    // Re-probed a minute later: same document, same labels.
    auto again = publish::publish(api, "n1", desired(t0 + 60s), t0 + 60s);
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(publish::to_string(again->change) == "none");
    BOOST_TEST(api.patches.size() == 1u);
    BOOST_TEST(api.published()["observedAt"] == "2024-05-01T12:51:30Z"); // the first observation stays
}

BOOST_AUTO_TEST_CASE(key_order_of_the_published_document_does_not_count) {
    FakeNodes api;
    api.metadata["annotations"][k_annotation] =
        R"({"checks":[{"hint":null,"id":"node.kernel.version","message":"m","status":"pass"}],"ciliumVersion":"1.16",)"
        R"("intervalSeconds":600,"node":"n1","observedAt":"2024-05-01T12:50:00Z","schemaVersion":1})";
    api.metadata["labels"][k_ready] = "true";
    api.metadata["labels"][k_version] = "6.1.0-18-amd64";
    auto result = publish::publish(api, "n1", desired(t0), t0);
    BOOST_REQUIRE(result.has_value());
    BOOST_TEST(publish::to_string(result->change) == "none");
    BOOST_TEST(api.patches.empty());
}

BOOST_AUTO_TEST_CASE(a_changed_check_or_label_is_written) {
    FakeNodes api;
    BOOST_REQUIRE(publish::publish(api, "n1", desired(t0), t0).has_value());
    auto changed = publish::publish(api, "n1", desired(t0 + 60s, true, "6.1.0-18-amd64", "warn"), t0 + 60s);
    BOOST_REQUIRE(changed.has_value());
    BOOST_TEST(publish::to_string(changed->change) == "report");
    BOOST_TEST(api.published()["checks"][0]["status"] == "warn");
    BOOST_TEST(api.published()["observedAt"] == "2024-05-01T12:52:30Z");

    // Someone removed our label: put it back.
    api.metadata["labels"].erase(k_ready);
    auto relabelled =
        publish::publish(api, "n1", desired(t0 + 120s, true, "6.1.0-18-amd64", "warn"), t0 + 120s);
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
    BOOST_REQUIRE(publish::publish(api, "n1", with_boot(t0, 600ll << 20, "pass"), t0).has_value());
    auto moved = publish::publish(api, "n1", with_boot(t0 + 60s, 590ll << 20, "pass"), t0 + 60s);
    BOOST_REQUIRE(moved.has_value());
    BOOST_TEST(publish::to_string(moved->change) == "none");
    BOOST_TEST(api.patches.size() == 1u);
    // Below the threshold the check's status changes: that is written.
    auto low = publish::publish(api, "n1", with_boot(t0 + 120s, 100ll << 20, "warn"), t0 + 120s);
    BOOST_REQUIRE(low.has_value());
    BOOST_TEST(publish::to_string(low->change) == "report");
    BOOST_TEST(api.published()["facts"]["boot"]["bootFreeBytes"] == 100ll << 20);
    // Another fact in the same family still counts.
    auto other = with_boot(t0 + 180s, 100ll << 20, "warn");
    other.document["facts"]["boot"]["firmware"] = "bios";
    auto changed = publish::publish(api, "n1", other, t0 + 180s);
    BOOST_REQUIRE(changed.has_value());
    BOOST_TEST(publish::to_string(changed->change) == "report");
}

BOOST_AUTO_TEST_CASE(an_unknown_kernel_release_removes_the_version_label) {
    FakeNodes api;
    BOOST_REQUIRE(publish::publish(api, "n1", desired(t0), t0).has_value());
    BOOST_TEST(api.metadata["labels"].contains(k_version));
    BOOST_REQUIRE(publish::publish(api, "n1", desired(t0 + 60s, true, std::nullopt), t0 + 60s).has_value());
    BOOST_TEST(!api.metadata["labels"].contains(k_version));
    BOOST_TEST(api.patches.back()["metadata"]["labels"][k_version].is_null()); // a merge-patch delete
}

// Readers call a report stale after three intervals; an unchanged one is refreshed after 1.5.
BOOST_AUTO_TEST_CASE(heartbeat_refreshes_observed_at_of_an_unchanged_report) {
    FakeNodes api;
    BOOST_REQUIRE(publish::publish(api, "n1", desired(t0), t0).has_value());
    auto early = publish::publish(api, "n1", desired(t0 + 600s), t0 + 600s); // one interval: no write
    BOOST_REQUIRE(early.has_value());
    BOOST_TEST(publish::to_string(early->change) == "none");
    auto due = publish::publish(api, "n1", desired(t0 + 1200s), t0 + 1200s); // two intervals: heartbeat
    BOOST_REQUIRE(due.has_value());
    BOOST_TEST(publish::to_string(due->change) == "heartbeat");
    BOOST_TEST(api.patches.size() == 2u);
    BOOST_TEST(!api.patches.back()["metadata"].contains("labels")); // labels did not change
    BOOST_TEST(api.published()["observedAt"] == "2024-05-01T13:11:30Z");
}

BOOST_AUTO_TEST_CASE(an_unreadable_annotation_is_replaced) {
    FakeNodes api;
    api.metadata["annotations"][k_annotation] = "not json";
    api.metadata["labels"][k_ready] = "true";
    api.metadata["labels"][k_version] = "6.1.0-18-amd64";
    auto result = publish::publish(api, "n1", desired(t0), t0);
    BOOST_REQUIRE(result.has_value());
    BOOST_TEST(publish::to_string(result->change) == "report");
    BOOST_TEST(api.published()["schemaVersion"] == 1);
}

BOOST_AUTO_TEST_CASE(api_errors_are_returned_and_nothing_half_written) {
    FakeNodes api;
    api.get_error = meshlink::util::Error{meshlink::util::ErrorKind::unavailable, "GET: 503", 503};
    auto failed_get = publish::publish(api, "n1", desired(t0), t0);
    BOOST_REQUIRE(!failed_get.has_value());
    BOOST_TEST(failed_get.error().http_status == 503);
    BOOST_TEST(api.patches.empty());

    api.get_error.reset();
    api.patch_error = meshlink::util::Error{meshlink::util::ErrorKind::forbidden, "PATCH: 403", 403};
    auto failed_patch = publish::publish(api, "n1", desired(t0), t0);
    BOOST_REQUIRE(!failed_patch.has_value());
    BOOST_TEST(failed_patch.error().http_status == 403);
    BOOST_TEST(!api.metadata.contains("annotations"));

    // The next attempt, with the API back, publishes in full.
    api.patch_error.reset();
    auto retried = publish::publish(api, "n1", desired(t0), t0 + 5s);
    BOOST_REQUIRE(retried.has_value());
    BOOST_TEST(publish::to_string(retried->change) == "report");
    BOOST_TEST(api.metadata["labels"][k_ready] == "true");
}

BOOST_AUTO_TEST_SUITE_END()
