#include "plugin/agent/install.hpp"
#include "plugin/agent/manifests.hpp"
#include "tests/unit/plugin/agent/fake_cluster.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink::plugin::agent;
using nlohmann::json;
using testing::FakeCluster;

namespace {

int count_writes(const FakeCluster& cluster, std::string_view verb) {
    int n = 0;
    for (const auto& write : cluster.writes) {
        n += write.starts_with(verb) ? 1 : 0;
    }
    return n;
}

const std::string k_daemonset_path = "/apis/apps/v1/namespaces/meshlink-system/daemonsets/meshlink-agent";
const std::string k_namespace_path = "/api/v1/namespaces/meshlink-system";

} // namespace

BOOST_AUTO_TEST_SUITE(agent_install)

BOOST_AUTO_TEST_CASE(paths_follow_the_api_groups) {
    auto ds = paths_of(json::parse(
        R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"a","namespace":"ns"}})"));
    BOOST_REQUIRE(ds.has_value());
    BOOST_TEST(ds->collection == "/apis/apps/v1/namespaces/ns/daemonsets");
    BOOST_TEST(ds->object == "/apis/apps/v1/namespaces/ns/daemonsets/a");
    auto role = paths_of(json::parse(
        R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"r"}})"));
    BOOST_REQUIRE(role.has_value());
    BOOST_TEST(role->object == "/apis/rbac.authorization.k8s.io/v1/clusterroles/r");
    auto ns = paths_of(json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"x"}})"));
    BOOST_REQUIRE(ns.has_value());
    BOOST_TEST(ns->object == "/api/v1/namespaces/x");
    BOOST_TEST(
        !paths_of(json::parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}})")).has_value());
}

BOOST_AUTO_TEST_CASE(covers_ignores_what_only_the_server_set) {
    const json desired = json::parse(R"({"a":1,"m":{"k":"v"},"l":[{"name":"c","image":"i"}],"empty":{}})");
    BOOST_TEST(
        covers(json::parse(R"({"a":1,"m":{"k":"v","x":"y"},"l":[{"name":"c","image":"i","d":1}],"s":{}})"),
               desired));
    BOOST_TEST(!covers(json::parse(R"({"a":2,"m":{"k":"v"},"l":[{"name":"c","image":"i"}]})"), desired));
    BOOST_TEST(!covers(json::parse(R"({"a":1,"m":{"k":"v"},"l":[{"name":"c","image":"j"}]})"), desired));
    BOOST_TEST(!covers(json::parse(R"({"a":1,"m":{"k":"v"},"l":[]})"), desired));
    BOOST_TEST(!covers(json::parse(R"({"a":1,"l":[{"name":"c","image":"i"}]})"), desired));
    BOOST_TEST(!covers(json::parse(R"({"a":"1","m":{"k":"v"},"l":[{"name":"c","image":"i"}]})"), desired));
}

BOOST_AUTO_TEST_CASE(install_creates_everything_then_a_second_install_writes_nothing) {
    FakeCluster cluster;
    auto first = apply_objects(cluster, render_objects());
    BOOST_REQUIRE(first.has_value());
    BOOST_TEST(first->size() == embedded_documents().size());
    for (const auto& step : *first) {
        BOOST_TEST(to_string(step.action) == "created", step.object);
    }
    BOOST_TEST(cluster.objects.count(k_namespace_path) == 1u);
    BOOST_TEST(cluster.objects.count(k_daemonset_path) == 1u);
    const auto writes_after_first = cluster.writes.size();

    auto second = apply_objects(cluster, render_objects());
    BOOST_REQUIRE(second.has_value());
    for (const auto& step : *second) {
        BOOST_TEST(to_string(step.action) == "unchanged", step.object);
    }
    BOOST_TEST(cluster.writes.size() == writes_after_first);
}

BOOST_AUTO_TEST_CASE(a_new_image_updates_only_the_daemonset_with_its_resource_version) {
    FakeCluster cluster;
    BOOST_REQUIRE(apply_objects(cluster, render_objects()).has_value());
    cluster.writes.clear();
    RenderOptions options;
    options.image = "registry.example/meshlink-agent:dev";
    options.cilium_version = "1.16";
    auto steps = apply_objects(cluster, render_objects(options));
    BOOST_REQUIRE(steps.has_value());
    BOOST_TEST(cluster.writes.size() == 1u);
    BOOST_TEST(cluster.writes.front() == "PATCH " + k_daemonset_path);
    BOOST_TEST(to_string(steps->back().action) == "configured");
    const auto& container = cluster.objects[k_daemonset_path]["spec"]["template"]["spec"]["containers"][0];
    BOOST_TEST(container["image"] == "registry.example/meshlink-agent:dev");
    BOOST_TEST(container["args"].back() == "--cilium-version=1.16");
}

BOOST_AUTO_TEST_CASE(a_conflict_is_read_again_and_retried) {
    FakeCluster cluster;
    BOOST_REQUIRE(apply_objects(cluster, render_objects()).has_value());
    RenderOptions options;
    options.image = "other:1";
    cluster.conflicts_to_inject = 1;
    auto steps = apply_objects(cluster, render_objects(options));
    BOOST_REQUIRE(steps.has_value());
    BOOST_TEST(cluster.objects[k_daemonset_path]["spec"]["template"]["spec"]["containers"][0]["image"] ==
               "other:1");

    cluster.conflicts_to_inject = 5;
    options.image = "third:1";
    auto failed = apply_objects(cluster, render_objects(options));
    BOOST_REQUIRE(!failed.has_value());
    BOOST_TEST(failed.error().message.find("DaemonSet meshlink-system/meshlink-agent") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_terminating_namespace_is_waited_for) {
    FakeCluster cluster;
    cluster.objects[k_namespace_path] = json::parse(
        R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"meshlink-system","resourceVersion":"5",
            "deletionTimestamp":"2024-05-01T12:00:00Z"},"status":{"phase":"Terminating"}})");
    ApplyOptions options;
    int sleeps = 0;
    options.sleep = [&](std::chrono::milliseconds) {
        if (++sleeps == 3) {
            cluster.objects.erase(k_namespace_path); // the namespace controller finished
        }
    };
    auto steps = apply_objects(cluster, render_objects(), options);
    BOOST_REQUIRE(steps.has_value());
    BOOST_TEST(sleeps == 3);
    BOOST_TEST(to_string(steps->front().action) == "created");
    BOOST_TEST(!cluster.objects[k_namespace_path]["metadata"].contains("deletionTimestamp"));

    // One that never goes away ends in a clear error instead of hanging.
    cluster.objects[k_namespace_path]["metadata"]["deletionTimestamp"] = "2024-05-01T12:00:00Z";
    options.sleep = [](std::chrono::milliseconds) {};
    options.terminating_namespace_timeout = std::chrono::seconds(3);
    auto stuck = apply_objects(cluster, render_objects(), options);
    BOOST_REQUIRE(!stuck.has_value());
    BOOST_TEST(stuck.error().message.find("still terminating") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(uninstall_deletes_in_reverse_order_and_tolerates_absent_objects) {
    FakeCluster cluster;
    BOOST_REQUIRE(apply_objects(cluster, render_objects()).has_value());
    cluster.objects.erase("/apis/rbac.authorization.k8s.io/v1/clusterroles/meshlink-agent");
    cluster.writes.clear();
    auto steps = delete_objects(cluster, render_objects());
    BOOST_REQUIRE(steps.has_value());
    BOOST_TEST(cluster.writes.front() == "DELETE " + k_daemonset_path);
    BOOST_TEST(cluster.writes.back() == "DELETE " + k_namespace_path);
    int absent = 0;
    for (const auto& step : *steps) {
        absent += step.action == DeleteAction::absent ? 1 : 0;
    }
    BOOST_TEST(absent == 1);
    BOOST_TEST(cluster.objects.empty());
}

BOOST_AUTO_TEST_CASE(the_admission_policy_is_applied_only_where_discovery_lists_it) {
    const std::string discovery = "/apis/admissionregistration.k8s.io/v1";
    const auto kinds_of = [](const std::vector<json>& objects) {
        std::vector<std::string> kinds;
        for (const auto& object : objects) {
            kinds.push_back(object["kind"].get<std::string>());
        }
        return kinds;
    };
    // Two policies (own Node, own Lease), each followed by its binding, in kustomization order.
    const std::vector<std::string> policy_kinds = {
        "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding"};

    // Kubernetes >= 1.30: the group version lists both resources.
    FakeCluster current;
    current.objects[discovery] = json::parse(
        R"({"kind":"APIResourceList","groupVersion":"admissionregistration.k8s.io/v1","resources":[
            {"name":"validatingwebhookconfigurations"},{"name":"validatingadmissionpolicies"},
            {"name":"validatingadmissionpolicies/status"},{"name":"validatingadmissionpolicybindings"}]})");
    auto split = split_served(current, render_objects());
    BOOST_REQUIRE(split.has_value());
    BOOST_TEST(split->served.size() == render_objects().size());
    BOOST_TEST(split->unserved.empty());

    // Older: the group version serves only the webhook configurations.
    FakeCluster older;
    older.objects[discovery] =
        json::parse(R"({"kind":"APIResourceList","resources":[{"name":"validatingwebhookconfigurations"}]})");
    split = split_served(older, render_objects());
    BOOST_REQUIRE(split.has_value());
    BOOST_TEST(kinds_of(split->unserved) == policy_kinds, boost::test_tools::per_element());
    BOOST_TEST(split->served.size() == render_objects().size() - policy_kinds.size());
    auto applied = apply_objects(older, split->served);
    BOOST_REQUIRE(applied.has_value());
    for (const auto& write : older.writes) {
        BOOST_TEST(write.find("admissionregistration") == std::string::npos, write);
    }

    // Not served at all (404): the same.
    FakeCluster oldest;
    split = split_served(oldest, render_objects());
    BOOST_REQUIRE(split.has_value());
    BOOST_TEST(kinds_of(split->unserved) == policy_kinds, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(purge_removes_reports_from_nodes_that_carry_one) {
    FakeCluster cluster;
    cluster.objects["/api/v1/nodes/a"] = json::parse(
        R"({"metadata":{"name":"a","labels":{"meshlink.io/kernel-ready":"true","keep":"x"},
            "annotations":{"meshlink.io/node-report":"{}"}}})");
    cluster.objects["/api/v1/nodes/b"] = json::parse(R"({"metadata":{"name":"b","labels":{"keep":"y"}}})");
    auto purged = purge_reports(cluster);
    BOOST_REQUIRE(purged.has_value());
    BOOST_TEST(*purged == 1);
    BOOST_TEST(count_writes(cluster, "PATCH") == 1);
    const auto& a = cluster.objects["/api/v1/nodes/a"]["metadata"];
    BOOST_TEST(!a["labels"].contains("meshlink.io/kernel-ready"));
    BOOST_TEST(a["labels"]["keep"] == "x");
    BOOST_TEST(!a["annotations"].contains("meshlink.io/node-report"));
}

BOOST_AUTO_TEST_CASE(cilium_version_comes_from_the_agent_container_image) {
    FakeCluster cluster;
    auto none = detect_cilium_version(cluster);
    BOOST_REQUIRE(none.has_value());
    BOOST_TEST(!none->has_value());
    cluster.objects["/apis/apps/v1/namespaces/kube-system/daemonsets/cilium"] =
        json::parse(R"({"spec":{"template":
        {"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"},
                                {"name":"cilium-agent","image":"quay.io/cilium/cilium:v1.16.5@sha256:abc"}]}}}})");
    auto found = detect_cilium_version(cluster);
    BOOST_REQUIRE(found.has_value());
    BOOST_TEST(found->value_or("") == "1.16");
}

BOOST_AUTO_TEST_SUITE_END()
