#include "plugin/preflight/checks.hpp"
#include "tests/unit/plugin/preflight/facts_builder.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink;
using namespace meshlink::plugin::preflight;
using namespace meshlink::plugin::preflight::testing;

namespace {

CiliumConfig mesh_ready() {
    return {{"cluster-name", "east"}, {"cluster-id", "7"}, {"identity-allocation-mode", "crd"}};
}

Check judged(const ClusterFacts& facts, std::string_view id) {
    return check_of(cluster_checks(facts), id);
}

Status status_with(CiliumConfig config, std::string_view id) {
    return judged(reachable_cluster("east", std::move(config)), id).status;
}

} // namespace

BOOST_AUTO_TEST_SUITE(preflight_cluster_checks)

BOOST_AUTO_TEST_CASE(cluster_name_rules) {
    BOOST_TEST(cluster_name_problem("east").empty());
    BOOST_TEST(cluster_name_problem("a").empty());
    BOOST_TEST(cluster_name_problem("eu-west-1").empty());
    BOOST_TEST(cluster_name_problem("0x1").empty());
    BOOST_TEST(cluster_name_problem(std::string(32, 'a')).empty());
    BOOST_TEST(!cluster_name_problem(std::string(33, 'a')).empty());
    for (const char* bad : {"", "default", "-east", "east-", "East", "east_1", "east.1", "ea st"}) {
        BOOST_TEST(!cluster_name_problem(bad).empty(), bad);
    }
    BOOST_TEST(status_with(mesh_ready(), "cluster.cilium.cluster-name") == Status::pass);
    auto config = mesh_ready();
    config.erase("cluster-name");
    const auto unset = judged(reachable_cluster("east", config), "cluster.cilium.cluster-name");
    BOOST_TEST(unset.status == Status::fail);
    BOOST_TEST(contains(unset.message, "not set"));
    BOOST_TEST(contains(unset.hint, "cluster.name"));
    config["cluster-name"] = "default";
    BOOST_TEST(status_with(config, "cluster.cilium.cluster-name") == Status::fail);
}

BOOST_AUTO_TEST_CASE(cluster_id_range_follows_max_connected_clusters) {
    const auto with = [](std::string id, std::optional<std::string> max, std::string ipam = "cluster-pool") {
        auto config = mesh_ready();
        config["cluster-id"] = std::move(id);
        config["ipam"] = std::move(ipam);
        if (max) {
            config["max-connected-clusters"] = *max;
        }
        return status_with(config, "cluster.cilium.cluster-id");
    };
    BOOST_TEST(with("1", std::nullopt) == Status::pass);
    BOOST_TEST(with("255", std::nullopt) == Status::pass); // default maximum 255
    BOOST_TEST(with("256", std::nullopt) == Status::fail);
    BOOST_TEST(with("0", "255") == Status::fail);
    BOOST_TEST(with("", "255") == Status::fail);
    BOOST_TEST(with("seven", "255") == Status::fail);
    BOOST_TEST(with("-3", "255") == Status::fail);
    BOOST_TEST(with("300", "511") == Status::pass);
    BOOST_TEST(with("511", "511") == Status::pass);
    BOOST_TEST(with("512", "511") == Status::fail);
    BOOST_TEST(with("5", "100") == Status::fail); // only 255 and 511 exist
    // ENI IPAM refuses 128-255, or 384-511 with 511 clusters.
    BOOST_TEST(with("127", "255", "eni") == Status::pass);
    BOOST_TEST(with("128", "255", "eni") == Status::fail);
    BOOST_TEST(with("300", "511", "eni") == Status::pass);
    BOOST_TEST(with("383", "511", "eni") == Status::pass);
    BOOST_TEST(with("384", "511", "eni") == Status::fail);
    auto config = mesh_ready();
    config.erase("cluster-id");
    BOOST_TEST(status_with(config, "cluster.cilium.cluster-id") == Status::fail);
}

BOOST_AUTO_TEST_CASE(identity_mode_must_be_crd) {
    auto config = mesh_ready();
    BOOST_TEST(status_with(config, "cluster.cilium.identity-mode") == Status::pass);
    config.erase("identity-allocation-mode");
    BOOST_TEST(status_with(config, "cluster.cilium.identity-mode") ==
               Status::pass); // Cilium's default is crd
    config["identity-allocation-mode"] = "kvstore";
    BOOST_TEST(status_with(config, "cluster.cilium.identity-mode") == Status::fail);
    config["identity-allocation-mode"] = "doublewrite-readkvstore";
    BOOST_TEST(status_with(config, "cluster.cilium.identity-mode") == Status::fail);
}

BOOST_AUTO_TEST_CASE(clustermesh_apiserver_absent_is_a_warning) {
    auto facts = reachable_cluster("east", mesh_ready());
    BOOST_TEST(judged(facts, "cluster.clustermesh.apiserver").status == Status::warn);
    ClusterMeshService svc;
    svc.type = "NodePort";
    svc.port = 2379;
    svc.node_port = 32379;
    facts.clustermesh = util::Result<std::optional<ClusterMeshService>>(svc);
    const auto node_port = judged(facts, "cluster.clustermesh.apiserver");
    BOOST_TEST(node_port.status == Status::pass);
    BOOST_TEST(contains(node_port.message, "32379"));
    svc.type = "LoadBalancer";
    svc.node_port.reset();
    facts.clustermesh = util::Result<std::optional<ClusterMeshService>>(svc);
    BOOST_TEST(judged(facts, "cluster.clustermesh.apiserver").status == Status::warn); // no address yet
    svc.ingress = {"203.0.113.7"};
    facts.clustermesh = util::Result<std::optional<ClusterMeshService>>(svc);
    BOOST_TEST(judged(facts, "cluster.clustermesh.apiserver").status == Status::pass);
    svc.type = "ClusterIP";
    facts.clustermesh = util::Result<std::optional<ClusterMeshService>>(svc);
    BOOST_TEST(judged(facts, "cluster.clustermesh.apiserver").status == Status::warn);
}

BOOST_AUTO_TEST_CASE(cilium_installed_needs_the_daemonset_ready) {
    auto facts = reachable_cluster("east", mesh_ready());
    const auto ok = judged(facts, "cluster.cilium.installed");
    BOOST_TEST(ok.status == Status::pass);
    BOOST_TEST(contains(ok.message, "1.16.12"));
    auto ds = *facts.cilium->value();
    ds.ready = 2;
    facts.cilium = util::Result<std::optional<CiliumDaemonSet>>(ds);
    BOOST_TEST(judged(facts, "cluster.cilium.installed").status == Status::warn);
    ds.ready = 0;
    facts.cilium = util::Result<std::optional<CiliumDaemonSet>>(ds);
    BOOST_TEST(judged(facts, "cluster.cilium.installed").status == Status::fail);
    facts.cilium = util::Result<std::optional<CiliumDaemonSet>>(std::nullopt);
    const auto absent = judged(facts, "cluster.cilium.installed");
    BOOST_TEST(absent.status == Status::fail);
    BOOST_TEST(contains(absent.hint, "helm install"));
    // A forbidden read is not a failure of the cluster: unknown, with the server's message.
    facts.cilium = util::Result<std::optional<CiliumDaemonSet>>(
        util::fail(util::ErrorKind::forbidden, "daemonsets.apps \"cilium\" is forbidden"));
    const auto forbidden = judged(facts, "cluster.cilium.installed");
    BOOST_TEST(forbidden.status == Status::unknown);
    BOOST_TEST(contains(forbidden.message, "forbidden"));
}

BOOST_AUTO_TEST_CASE(rbac_lists_what_is_denied) {
    auto facts = reachable_cluster("east", mesh_ready());
    BOOST_TEST(judged(facts, "cluster.rbac.sufficient").status == Status::pass);
    AccessReport report{
        27,
        {{"create", "", "pods", "exec", "kube-system"}, {"patch", "apps", "daemonsets", "", "kube-system"}}};
    facts.access = util::Result<AccessReport>(report);
    const auto denied = judged(facts, "cluster.rbac.sufficient");
    BOOST_TEST(denied.status == Status::fail);
    BOOST_TEST(contains(denied.message, "create pods/exec in kube-system"), denied.message);
    BOOST_TEST(contains(denied.message, "patch daemonsets.apps in kube-system"), denied.message);
    facts.access = util::Result<AccessReport>(util::fail(util::ErrorKind::not_found, "404"));
    BOOST_TEST(judged(facts, "cluster.rbac.sufficient").status == Status::unknown);
}

BOOST_AUTO_TEST_CASE(an_unreachable_cluster_fails_once_and_the_rest_is_unknown) {
    ClusterFacts facts;
    facts.context = "east";
    facts.version = util::Result<kube::ServerVersion>(
        util::fail(util::ErrorKind::unavailable, "GET https://10.0.0.1:6443/version: connection refused"));
    const auto checks = cluster_checks(facts);
    BOOST_TEST(check_of(checks, "cluster.api.reachable").status == Status::fail);
    BOOST_TEST(contains(check_of(checks, "cluster.api.reachable").message, "connection refused"));
    for (const auto& check : checks) {
        if (check.id != "cluster.api.reachable") {
            BOOST_TEST(check.status == Status::unknown, check.id);
        }
    }
    // The IDs stay the same whatever went wrong.
    const auto healthy = cluster_checks(reachable_cluster("east", mesh_ready()));
    BOOST_TEST_REQUIRE(checks.size() == healthy.size());
    for (std::size_t i = 0; i < checks.size(); ++i) {
        BOOST_TEST(checks[i].id == healthy[i].id);
        BOOST_TEST(checks[i].scope == Scope::cluster);
        BOOST_TEST(checks[i].cluster == "east");
    }
}

BOOST_AUTO_TEST_SUITE_END()
