// gather(): which reads preflight makes, in which order it falls back, and what it never does.

#include "plugin/preflight/checks.hpp"
#include "plugin/preflight/facts.hpp"
#include "plugin/preflight/preflight.hpp"
#include "tests/unit/plugin/preflight/facts_builder.hpp"
#include "tests/unit/plugin/preflight/memory_api.hpp"
#include "tests/unit/plugin/preflight/reports.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink;
using namespace meshlink::plugin::preflight;
using namespace meshlink::plugin::preflight::testing;
using nlohmann::json;

namespace {

const auto k_now = std::chrono::system_clock::now();

json config_map(CiliumConfig data) {
    json out = {{"metadata", {{"name", "cilium-config"}, {"namespace", "kube-system"}}},
                {"data", json::object()}};
    for (const auto& [k, v] : data) {
        out["data"][k] = v;
    }
    return out;
}

json daemonset(std::string image, int desired, int ready) {
    return {{"metadata", {{"name", "cilium"}, {"namespace", "kube-system"}}},
            {"spec",
             {{"template",
               {{"spec", {{"containers", json::array({{{"name", "cilium-agent"}, {"image", image}}})}}}}}}},
            {"status", {{"desiredNumberScheduled", desired}, {"numberReady", ready}}}};
}

json apiserver_pod(std::vector<std::string> command) {
    return {{"metadata",
             {{"name", "kube-apiserver-cp1"},
              {"namespace", "kube-system"},
              {"labels", {{"component", "kube-apiserver"}, {"tier", "control-plane"}}}}},
            {"spec", {{"containers", json::array({{{"name", "kube-apiserver"}, {"command", command}}})}}}};
}

json kubernetes_service(std::string ip) {
    return {{"metadata", {{"name", "kubernetes"}, {"namespace", "default"}}},
            {"spec", {{"clusterIP", ip}, {"clusterIPs", {ip}}}}};
}

MemoryApi cilium_cluster() {
    MemoryApi api;
    api.put("configmaps", "kube-system", "cilium-config",
            config_map({{"cluster-name", "east"},
                        {"cluster-id", "1"},
                        {"ipam", "cluster-pool"},
                        {"cluster-pool-ipv4-cidr", "10.1.0.0/16 10.201.0.0/16"},
                        {"routing-mode", "tunnel"}}));
    api.put("daemonsets", "kube-system", "cilium",
            daemonset("quay.io/cilium/cilium:v1.16.12@sha256:abc", 2, 2));
    api.put("services", "default", "kubernetes", kubernetes_service("10.96.0.1"));
    api.pod_list.push_back(apiserver_pod(
        {"kube-apiserver", "--secure-port=6443", "--service-cluster-ip-range=10.96.0.0/12,fd00:96::/108"}));
    api.nodes = {node_with_report("cp1", "ubuntu22.04", k_now),
                 node_with_report("w1", "rocky9-elrepo", k_now)};
    return api;
}

GatherOptions options() {
    GatherOptions out;
    out.now = k_now;
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(preflight_gather)

BOOST_AUTO_TEST_CASE(reads_what_the_checks_need) {
    auto api = cilium_cluster();
    const auto facts = gather(api, "east", options());
    BOOST_TEST(facts.reachable());
    BOOST_TEST(facts.config_value("cluster-name").value_or("") == "east");
    BOOST_TEST_REQUIRE(facts.cilium->has_value());
    BOOST_TEST(facts.cilium->value()->version_text == "1.16.12");
    BOOST_TEST(facts.node_cilium_source == "the cluster's Cilium 1.16.12");
    // Pods from the pool, both ranges of the space-separated list.
    BOOST_TEST_REQUIRE(facts.pod_cidrs->has_value());
    BOOST_TEST(describe(facts.pod_cidrs->value().prefixes) == "10.1.0.0/16, 10.201.0.0/16");
    BOOST_TEST(facts.pod_cidrs->value().source == "cilium-config cluster-pool-ipv4-cidr");
    // Services from the API server's flag (no ServiceCIDR API here), dual-stack.
    BOOST_TEST_REQUIRE(facts.service_cidrs->has_value());
    BOOST_TEST(describe(facts.service_cidrs->value().prefixes) == "10.96.0.0/12, fd00:96::/108");
    BOOST_TEST(contains(facts.service_cidrs->value().source, "--service-cluster-ip-range"));
    BOOST_TEST(contains(facts.service_cidrs->value().source, "kube-apiserver-cp1"));
    // The nodes were listed once, metadata only: the pool made their podCIDRs unnecessary.
    BOOST_TEST(api.node_lists == 1);
    BOOST_TEST((api.nodes_metadata_only == true));
    BOOST_TEST_REQUIRE(facts.nodes->has_value());
    BOOST_TEST(facts.nodes->value().total == 2);
    BOOST_TEST(facts.nodes->value().fresh == 2);
    // Every access join needs was asked.
    BOOST_TEST(api.reviews == static_cast<int>(plugin::defaults::k_join_access.size()));
}

BOOST_AUTO_TEST_CASE(service_cidr_sources_in_order) {
    auto api = cilium_cluster();
    api.service_cidr_objects =
        std::vector<json>{{{"metadata", {{"name", "kubernetes"}}}, {"spec", {{"cidrs", {"10.43.0.0/16"}}}}}};
    auto facts = gather(api, "east", options());
    BOOST_TEST(describe(facts.service_cidrs->value().prefixes) == "10.43.0.0/16");
    BOOST_TEST(facts.service_cidrs->value().source == "ServiceCIDR objects");
    // Served but empty, then no API server pods either: the kubernetes Service's address, marked as such.
    api.service_cidr_objects = std::vector<json>{};
    api.pod_list.clear();
    facts = gather(api, "east", options());
    BOOST_TEST_REQUIRE(facts.service_cidrs->has_value());
    BOOST_TEST(facts.service_cidrs->value().address_only);
    BOOST_TEST(describe(facts.service_cidrs->value().prefixes) == "10.96.0.1");
    BOOST_TEST(contains(facts.service_cidrs->value().source, "default/kubernetes"));
    // Nothing at all: an error naming what was tried.
    api.objects.erase("services/default/kubernetes");
    facts = gather(api, "east", options());
    BOOST_TEST_REQUIRE(!facts.service_cidrs->has_value());
    BOOST_TEST(contains(facts.service_cidrs->error().message, "no kube-apiserver pods"),
               facts.service_cidrs->error().message);
    // An API server flag given as a separate argument also counts.
    api.pod_list.push_back(apiserver_pod({"kube-apiserver", "--service-cluster-ip-range", "10.233.0.0/18"}));
    facts = gather(api, "east", options());
    BOOST_TEST(describe(facts.service_cidrs->value().prefixes) == "10.233.0.0/18");
}

BOOST_AUTO_TEST_CASE(kubernetes_ipam_takes_pod_cidrs_from_whole_nodes) {
    auto api = cilium_cluster();
    api.put("configmaps", "kube-system", "cilium-config",
            config_map({{"cluster-name", "east"}, {"ipam", "kubernetes"}}));
    api.nodes[0]["spec"]["podCIDRs"] = json::array({"10.244.0.0/24"});
    api.nodes[1]["spec"]["podCIDR"] = "10.244.1.0/24"; // older clusters: the singular field only
    const auto facts = gather(api, "east", options());
    BOOST_TEST(api.node_lists == 1);
    BOOST_TEST((api.nodes_metadata_only == false));
    BOOST_TEST_REQUIRE(facts.pod_cidrs->has_value());
    BOOST_TEST(describe(facts.pod_cidrs->value().prefixes) == "10.244.0.0/24, 10.244.1.0/24");
    BOOST_TEST(facts.pod_cidrs->value().source == "the nodes' spec.podCIDRs");
    BOOST_TEST(facts.nodes->value().total == 2); // the reports came along in the same list
}

BOOST_AUTO_TEST_CASE(local_mode_skips_the_node_list_when_the_pool_is_known) {
    auto api = cilium_cluster();
    auto opts = options();
    opts.read_node_reports = false;
    const auto facts = gather(api, "east", opts);
    BOOST_TEST(api.node_lists == 0);
    BOOST_TEST(!facts.nodes.has_value());
    BOOST_TEST(facts.pod_cidrs->has_value());
    BOOST_TEST(judge({facts}, false).size() ==
               cluster_checks(facts).size() + kubeconfig_checks(facts).size());
}

BOOST_AUTO_TEST_CASE(an_unreachable_server_is_asked_once) {
    auto api = cilium_cluster();
    api.unreachable =
        util::Error{util::ErrorKind::unavailable, "GET https://10.0.0.1/version: connection refused", 0};
    const auto facts = gather(api, "east", options());
    BOOST_TEST(api.calls == 1);
    BOOST_TEST(!facts.reachable());
    BOOST_TEST(!facts.config.has_value());
}

BOOST_AUTO_TEST_CASE(cilium_version_override_and_unknown_image) {
    auto api = cilium_cluster();
    auto opts = options();
    opts.cilium_override = probe::CiliumVersion{1, 18};
    auto facts = gather(api, "east", opts);
    BOOST_TEST((facts.node_cilium == probe::CiliumVersion{1, 18}));
    BOOST_TEST(contains(facts.node_cilium_source, "--cilium-version"));
    api.put("daemonsets", "kube-system", "cilium", daemonset("registry.local:5000/cilium@sha256:abc", 2, 2));
    facts = gather(api, "east", options());
    BOOST_TEST(!facts.cilium->value()->version.has_value());
    BOOST_TEST((facts.node_cilium == probe::newest_cilium()));
    BOOST_TEST(check_of(cluster_checks(facts), "cluster.cilium.installed").status == Status::warn);
}

BOOST_AUTO_TEST_CASE(odd_objects_are_read_as_absent_fields_never_as_crashes) {
    auto api = cilium_cluster();
    api.put("configmaps", "kube-system", "cilium-config",
            json{{"data", {{"cluster-name", 5}, {"cluster-id", nullptr}}}});
    api.put("daemonsets", "kube-system", "cilium",
            json{{"spec", {{"template", {{"spec", {{"containers", "cilium"}}}}}}},
                 {"status", {{"numberReady", "3"}}}});
    api.put("services", "kube-system", "clustermesh-apiserver",
            json{{"spec", {{"type", 7}, {"ports", {{"port", 2379}}}}}});
    api.pod_list = {json{{"metadata",
                          {{"namespace", "kube-system"},
                           {"labels", {{"component", "kube-apiserver"}, {"tier", "control-plane"}}}}},
                         {"spec", {{"containers", json::array({{{"command", {1, 2}}, {"args", "x"}}})}}}}};
    api.nodes = {
        json{{"metadata", {{"name", "n1"}, {"annotations", {{"meshlink.io/node-report", 42}}}}}, {"spec", 3}},
        json{{"metadata", 3}}};
    const auto facts = gather(api, "east", options());
    BOOST_TEST(!facts.config_value("cluster-name").has_value());
    BOOST_TEST(facts.cilium->value()->ready == 0);
    BOOST_TEST(facts.clustermesh->value()->type == "ClusterIP");
    BOOST_TEST(facts.nodes->value().total == 2);
    BOOST_TEST(facts.nodes->value().missing.size() == 1u);    // metadata 3: no annotation at all
    BOOST_TEST(facts.nodes->value().unreadable.size() == 1u); // an annotation that is not a string
    const auto checks = judge({facts}, true);
    BOOST_TEST(check_of(checks, "cluster.cilium.cluster-name").status == Status::fail);
    BOOST_TEST(check_of(checks, "cluster.cilium.installed").status == Status::fail);
}

BOOST_AUTO_TEST_CASE(run_preflight_checks_every_pair_and_changes_nothing) {
    std::vector<ClusterTarget> targets;
    std::vector<MemoryApi*> apis;
    for (const char* name : {"a", "b", "c"}) {
        auto api = std::make_unique<MemoryApi>(cilium_cluster());
        apis.push_back(api.get());
        ClusterTarget target;
        target.context = name;
        target.kubeconfig = plugin::kubeconfig::ContextSummary{};
        target.kubeconfig->name = name;
        target.api = std::move(api);
        targets.push_back(std::move(target));
    }
    targets.push_back(ClusterTarget{"gone", std::nullopt, nullptr,
                                    "context \"gone\" not found in kubeconfig (contexts: a, b, c)"});
    RunOptions run;
    run.gather = options();
    std::vector<std::string> lines;
    run.progress = [&](const std::string& line) { lines.push_back(line); };
    const auto outcome = run_preflight(targets, run);
    BOOST_TEST(outcome.clusters.size() == 4u);
    BOOST_TEST(lines.size() == 8u); // start and end of each
    std::set<std::string> pairs;
    for (const auto& check : outcome.checks) {
        if (check.scope == Scope::mesh) {
            pairs.insert(check.cluster);
        }
    }
    BOOST_TEST(pairs == (std::set<std::string>{"a,b", "a,c", "a,gone", "b,c", "b,gone", "c,gone"}));
    // The same names and IDs everywhere: every pair fails both uniqueness checks, except with "gone".
    int exists_failures = 0;
    for (const auto& check : outcome.checks) {
        if (check.id == "kubeconfig.context.exists" && check.status == Status::fail) {
            ++exists_failures;
            BOOST_TEST(check.cluster == "gone");
            BOOST_TEST(contains(check.message, "contexts: a, b, c"));
        }
        if (check.id == "mesh.cluster-name.unique" && !contains(check.cluster, "gone")) {
            BOOST_TEST(check.status == Status::fail, check.cluster);
        }
    }
    BOOST_TEST(exists_failures == 1);
    BOOST_TEST(any_failed(outcome.checks));
}

BOOST_AUTO_TEST_SUITE_END()
