// The rollout's lock (a Lease whose holders are nodes) and kubectl drain's Pod filters, on documents shaped
// like the API server's.

#include "node-agent/rollout/drain.hpp"
#include "node-agent/rollout/lock.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>

namespace meshlink::agent::rollout {
namespace {

using nlohmann::json;

const auto k_now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

json lease(const std::string& holders, const json& annotations = json::object()) {
    json object = {{"apiVersion", "coordination.k8s.io/v1"},
                   {"kind", "Lease"},
                   {"metadata",
                    {{"name", "meshlink-kernel-rollout"},
                     {"namespace", "meshlink-system"},
                     {"resourceVersion", "7"},
                     {"annotations", annotations}}},
                   {"spec", {{"leaseDurationSeconds", 60}}}};
    if (!holders.empty()) {
        object["spec"]["holderIdentity"] = holders;
        // An old renewTime: the age of a hold never matters.
        object["spec"]["renewTime"] = "2001-01-01T00:00:00.000000Z";
    }
    return object;
}

json pod(const std::string& name, const std::string& owner_kind,
         const json& extra_metadata = json::object()) {
    json object = {{"metadata", {{"name", name}, {"namespace", "default"}}},
                   {"spec", {{"nodeName", "node-a"}, {"containers", json::array({{{"name", "c"}}})}}},
                   {"status", {{"phase", "Running"}}}};
    if (!owner_kind.empty()) {
        object["metadata"]["ownerReferences"] = json::array({{{"apiVersion", "apps/v1"},
                                                              {"kind", owner_kind},
                                                              {"name", "o"},
                                                              {"uid", "u"},
                                                              {"controller", true}}});
    }
    object["metadata"].update(extra_metadata);
    return object;
}

bool mentions(const std::vector<std::string>& items, const std::string& text) {
    return std::any_of(items.begin(), items.end(),
                       [&](const auto& item) { return item.find(text) != std::string::npos; });
}

} // namespace

BOOST_AUTO_TEST_SUITE(rollout_lock)

BOOST_AUTO_TEST_CASE(a_free_lock_is_taken_and_keeps_the_resource_version) {
    std::string why;
    auto taken = with_hold(read_lock(lease("")), "node-a", 1, k_now, &why);
    BOOST_TEST_REQUIRE(taken.has_value(), why);
    BOOST_TEST((*taken)["spec"]["holderIdentity"] == "node-a");
    // The write is conditional: it carries the resourceVersion it was read at.
    BOOST_TEST((*taken)["metadata"]["resourceVersion"] == "7");
    // metav1.MicroTime: six fraction digits.
    BOOST_TEST((*taken)["spec"]["renewTime"].get<std::string>().size() ==
               std::string("2023-11-14T22:13:20.000000Z").size());
}

BOOST_AUTO_TEST_CASE(a_held_lock_is_never_taken_however_old_the_hold) {
    std::string why;
    const auto view = read_lock(lease("node-a"));
    BOOST_TEST(!with_hold(view, "node-b", 1, k_now, &why).has_value());
    BOOST_TEST(why.find("node-a") != std::string::npos, why);
    // With room for two, the second node joins and the first keeps its hold.
    auto both = with_hold(view, "node-b", 2, k_now, &why);
    BOOST_TEST_REQUIRE(both.has_value());
    BOOST_TEST((*both)["spec"]["holderIdentity"] == "node-a,node-b");
}

BOOST_AUTO_TEST_CASE(releasing_removes_only_that_node_and_its_halt) {
    const json halt = probe::to_json(probe::Halt{"node-b", "confirm failed", "2024-01-01T00:00:00Z"});
    const auto view = read_lock(lease("node-a,node-b", {{"meshlink.io/kernel-halt", halt.dump()}}));
    BOOST_TEST_REQUIRE(view.halt.has_value());
    const json after_a = without_hold(view, "node-a", k_now);
    BOOST_TEST(after_a["spec"]["holderIdentity"] == "node-b");
    BOOST_TEST(after_a["metadata"]["annotations"].contains("meshlink.io/kernel-halt"), "node-b's halt stays");
    const json after_b = without_hold(view, "node-b", k_now);
    BOOST_TEST(!after_b["metadata"]["annotations"].contains("meshlink.io/kernel-halt"));
}

BOOST_AUTO_TEST_CASE(an_unreadable_halt_still_halts_and_unreadable_holders_block_writes) {
    const auto halted = read_lock(lease("", {{"meshlink.io/kernel-halt", "{not json"}}));
    BOOST_TEST(halted.halt.has_value());
    const auto garbled = read_lock(lease("node-a,,Node_B"));
    BOOST_TEST(!garbled.problem.empty());
}

BOOST_AUTO_TEST_CASE(the_first_pin_of_an_el_release_stands) {
    auto view = read_lock(lease(""));
    view = read_lock(with_pin(view, 9, "7.1.9-1.el9.elrepo"));
    view = read_lock(with_pin(view, 9, "7.2.0-1.el9.elrepo"));
    BOOST_TEST(view.pins.at(9) == "7.1.9-1.el9.elrepo");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(rollout_drain)

BOOST_AUTO_TEST_CASE(kubectl_drain_filters) {
    json with_data = pod("cache", "ReplicaSet");
    with_data["spec"]["volumes"] = json::array({{{"name", "scratch"}, {"emptyDir", json::object()}}});
    json finished = pod("job-done", "");
    finished["status"]["phase"] = "Succeeded";
    const std::vector<json> pods{
        pod("web", "ReplicaSet"),
        pod("cilium-x", "DaemonSet"),
        pod("etcd-node-a", "Node", {{"annotations", {{"kubernetes.io/config.mirror", "h"}}}}),
        pod("gone", "ReplicaSet", {{"deletionTimestamp", "2024-01-01T00:00:00Z"}}),
        pod("bare", ""),
        with_data,
        finished};
    const auto selection = select_pods(pods, /*delete_emptydir_data=*/false);
    std::vector<std::string> evict;
    for (const auto& ref : selection.evict) {
        evict.push_back(ref.name);
    }
    BOOST_TEST((evict == std::vector<std::string>{"web", "job-done"}));
    BOOST_TEST(selection.terminating.size() == 1u);
    BOOST_TEST(mentions(selection.kept, "cilium-x (DaemonSet)"));
    BOOST_TEST(mentions(selection.kept, "etcd-node-a (mirror"));
    BOOST_TEST(mentions(selection.refused, "default/bare"));
    BOOST_TEST(mentions(selection.refused, "default/cache"));
    const auto allowed = select_pods(pods, /*delete_emptydir_data=*/true);
    BOOST_TEST(std::any_of(allowed.evict.begin(), allowed.evict.end(),
                           [](const auto& ref) { return ref.name == "cache"; }));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace meshlink::agent::rollout
