// `kubectl meshlink preflight` end to end: real kubectl discovers the plugin, which reads two fakekube
// servers seeded like real Cilium 1.16 installs (support/cilium_cluster.hpp) through a merged kubeconfig.
// Each broken pair differs from a healthy pair in one way a real mesh breaks, and must raise exactly the
// checks that name that breakage.

#include "kube/client.hpp"
#include "tests/integration/support/cilium_cluster.hpp"
#include "tests/integration/support/fakekube_process.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>

using namespace meshlink;
using namespace meshlink::test;
using nlohmann::json;

namespace {

struct Pair {
    TempDirectory dir;
    std::optional<FakekubeProcess> a;
    std::optional<FakekubeProcess> b;
    std::string kubeconfig; // KUBECONFIG: both files, cluster1's first (its context is current)
};

std::unique_ptr<Pair> start_pair(const CiliumClusterSpec& a, const CiliumClusterSpec& b) {
    auto pair = std::make_unique<Pair>();
    auto first = FakekubeProcess::start(fakekube_options(a, pair->dir));
    BOOST_TEST_REQUIRE(first.has_value(), error_message(first));
    pair->a.emplace(std::move(*first));
    auto second = FakekubeProcess::start(fakekube_options(b, pair->dir));
    BOOST_TEST_REQUIRE(second.has_value(), error_message(second));
    pair->b.emplace(std::move(*second));
    const auto second_config =
        b.readonly_user ? write_readonly_kubeconfig(b, *pair->b, pair->dir) : pair->b->kubeconfig();
    pair->kubeconfig = pair->a->kubeconfig().string() + ":" + second_config.string();
    return pair;
}

CommandResult kubectl_meshlink(const Pair& pair, std::vector<std::string> args) {
    const TempDirectory home;
    args.insert(args.begin(), {"kubectl", "meshlink"});
    auto result =
        run_command(args, environment_with({"PATH=" + bin_dir().string() + ":/usr/local/bin:/usr/bin:/bin",
                                            "HOME=" + home.path().string(), "KUBECONFIG=" + pair.kubeconfig,
                                            "NO_COLOR=1"}));
    BOOST_TEST_REQUIRE(result.has_value(), error_message(result));
    return std::move(*result);
}

// The JSON document of `preflight --peer cluster2 -o json`.
struct Run {
    int exit_code = -1;
    json doc;
    std::string err;
};

Run preflight_json(const Pair& pair) {
    auto result = kubectl_meshlink(pair, {"preflight", "--peer", "cluster2", "-o", "json"});
    Run run{result.exit_code, json::parse(result.out, nullptr, false), result.err};
    BOOST_TEST_REQUIRE(!run.doc.is_discarded(),
                       "stdout is not JSON: " << result.out << "\nstderr: " << result.err);
    return run;
}

std::set<std::string> ids_with(const json& doc, std::string_view status) {
    std::set<std::string> out;
    for (const auto& check : doc.at("checks")) {
        if (check.at("status") == status) {
            out.insert(check.at("id").get<std::string>());
        }
    }
    return out;
}

const json* find_check(const json& doc, std::string_view id, std::string_view cluster) {
    for (const auto& check : doc.at("checks")) {
        if (check.at("id") == id && check.at("cluster") == cluster) {
            return &check;
        }
    }
    return nullptr;
}

std::string show(const std::set<std::string>& ids) {
    std::string out;
    for (const auto& id : ids) {
        out += id + " ";
    }
    return out;
}

// Starts the pair, runs preflight and requires exit code 1 with exactly `expected` failing.
Run expect_failures(const CiliumClusterSpec& a, const CiliumClusterSpec& b,
                    const std::set<std::string>& expected) {
    auto pair = start_pair(a, b);
    Run run = preflight_json(*pair);
    const auto failed = ids_with(run.doc, "fail");
    BOOST_TEST(run.exit_code == 1, run.err);
    BOOST_TEST(run.doc.at("result") == "fail");
    BOOST_TEST(show(failed) == show(expected), run.doc.dump(2));
    return run;
}

} // namespace

BOOST_AUTO_TEST_SUITE(preflight)

BOOST_AUTO_TEST_CASE(a_healthy_pair_passes_and_the_document_has_its_shape) {
    auto a = healthy_cluster(1);
    auto b = healthy_cluster(2);
    b.ca = a.ca; // a shared CA: nothing left to warn about but the kubeconfig's loopback servers
    auto pair = start_pair(a, b);
    const auto before_a = fakekube_stats(*pair->a);
    const auto before_b = fakekube_stats(*pair->b);
    BOOST_TEST_REQUIRE(before_a.has_value(), error_message(before_a));
    BOOST_TEST_REQUIRE(before_b.has_value(), error_message(before_b));

    const Run run = preflight_json(*pair);
    BOOST_TEST(run.exit_code == 0, run.err << run.doc.dump(2));
    BOOST_TEST(run.doc.at("schemaVersion") == 1);
    BOOST_TEST(run.doc.at("result") == "pass");
    BOOST_TEST(ids_with(run.doc, "fail").empty(), show(ids_with(run.doc, "fail")));

    // Every check has exactly the documented fields, in their vocabularies.
    const std::set<std::string> scopes{"kubeconfig", "cluster", "mesh", "node"};
    const std::set<std::string> statuses{"pass", "warn", "fail", "unknown"};
    for (const auto& check : run.doc.at("checks")) {
        std::set<std::string> keys;
        for (const auto& [key, value] : check.items()) {
            keys.insert(key);
        }
        keys.erase("nodes");
        BOOST_TEST(show(keys) == "cluster hint id message scope status ", check.dump());
        BOOST_TEST(scopes.count(check.at("scope").get<std::string>()) == 1u);
        BOOST_TEST(statuses.count(check.at("status").get<std::string>()) == 1u);
        BOOST_TEST(!check.at("message").get<std::string>().empty(), check.dump());
        BOOST_TEST((check.at("hint").is_null() || check.at("hint").is_string()));
        const std::string id = check.at("id").get<std::string>();
        BOOST_TEST(id.starts_with(check.at("scope").get<std::string>() + "."), id);
        if (check.contains("nodes")) {
            const auto& n = check.at("nodes");
            BOOST_TEST(n.at("total") == 3); // three nodes in cluster1 and in cluster2
            BOOST_TEST(n.at("pass").get<int>() + n.at("warn").get<int>() + n.at("fail").get<int>() +
                           n.at("unknown").get<int>() + n.at("missing").get<int>() ==
                       3);
            BOOST_TEST(n.at("failing").is_array());
        }
    }
    // Each check of the README's table appears once per cluster (or once for the pair).
    for (const char* id :
         {"kubeconfig.context.exists", "kubeconfig.server.reachable-from-peers", "kubeconfig.auth.portable",
          "kubeconfig.cert.expiry", "cluster.api.reachable", "cluster.rbac.sufficient",
          "cluster.cilium.installed", "cluster.cilium.cluster-name", "cluster.cilium.cluster-id",
          "cluster.cilium.identity-mode", "cluster.clustermesh.apiserver", "node.report.present",
          "node.kernel.version", "node.kernel.config", "node.kernel.btf", "node.bpf.features",
          "node.modules"}) {
        BOOST_TEST(find_check(run.doc, id, "cluster1") != nullptr, id);
        BOOST_TEST(find_check(run.doc, id, "cluster2") != nullptr, id);
    }
    for (const char* id :
         {"mesh.cluster-name.unique", "mesh.cluster-id.unique", "mesh.pod-cidr.overlap",
          "mesh.service-cidr.overlap", "mesh.datapath.match", "mesh.max-connected-clusters.match",
          "mesh.native-routing-cidr.covers", "mesh.clustermesh-nodeport.distinct", "mesh.ca.match"}) {
        const json* check = find_check(run.doc, id, "cluster1,cluster2");
        BOOST_TEST_REQUIRE(check != nullptr, id);
        BOOST_TEST(check->at("status") == "pass", check->dump());
    }
    // The cluster's own Cilium version is what the nodes are judged for (1.16 needs 5.4).
    const json* kernel = find_check(run.doc, "node.kernel.version", "cluster2");
    BOOST_TEST(kernel->at("message").get<std::string>().find("Cilium 1.16") != std::string::npos,
               kernel->dump());
    // The service ranges come from the API server's flag, and say so.
    const json* services = find_check(run.doc, "mesh.service-cidr.overlap", "cluster1,cluster2");
    const std::string message = services->at("message").get<std::string>();
    BOOST_TEST(message.find("10.96.0.0/16") != std::string::npos, message);
    BOOST_TEST(message.find("--service-cluster-ip-range") != std::string::npos, message);

    // Preflight changes nothing: no PUT, PATCH or DELETE reached either server.
    for (const auto* server : {&*pair->a, &*pair->b}) {
        const auto after = fakekube_stats(*server);
        BOOST_TEST_REQUIRE(after.has_value(), error_message(after));
        const auto& before = server == &*pair->a ? *before_a : *before_b;
        for (const char* verb : {"PUT", "PATCH", "DELETE"}) {
            BOOST_TEST(after->at(verb) == before.at(verb), verb << " on " << server->name());
        }
    }
}

BOOST_AUTO_TEST_CASE(the_table_is_plain_ascii_off_a_terminal_and_names_the_failing_node) {
    auto a = healthy_cluster(1);
    auto b = healthy_cluster(2);
    b.nodes[2].fixture = "centos7";
    b.nodes[2].bpf_supported = false;
    b.nodes[2].name = "legacy-worker";
    auto pair = start_pair(a, b);
    auto result = kubectl_meshlink(*pair, {"preflight", "--context", "cluster1", "--peer", "cluster2"});
    BOOST_TEST_MESSAGE(result.out); // --log_level=message shows the table
    BOOST_TEST(result.exit_code == 1, result.err);
    BOOST_TEST(result.out.find("[FAIL]  node.kernel.version") != std::string::npos, result.out);
    BOOST_TEST(result.out.find("legacy-worker") != std::string::npos, result.out);
    BOOST_TEST(result.out.find("Preflight failed") != std::string::npos, result.out);
    for (unsigned char c : result.out) {
        BOOST_TEST_REQUIRE(c < 0x80, "non-ASCII byte in: " << result.out);
    }
}

BOOST_AUTO_TEST_CASE(the_same_cluster_id_on_both_sides) {
    auto a = healthy_cluster(1);
    auto b = healthy_cluster(2);
    b.cluster_id = a.cluster_id;
    expect_failures(a, b, {"mesh.cluster-id.unique"});
}

BOOST_AUTO_TEST_CASE(a_cluster_left_with_helms_default_name) {
    auto a = healthy_cluster(1);
    auto b = healthy_cluster(2);
    b.cluster_name.clear(); // Helm renders cluster-name: default
    const Run run = expect_failures(a, b, {"cluster.cilium.cluster-name"});
    const json* check = find_check(run.doc, "cluster.cilium.cluster-name", "cluster2");
    BOOST_TEST(check->at("message").get<std::string>().find("\"default\"") != std::string::npos,
               check->dump());
    BOOST_TEST(check->at("hint").is_string());
}

BOOST_AUTO_TEST_CASE(ciliums_default_pod_pool_on_both_sides) {
    auto a = healthy_cluster(1);
    auto b = healthy_cluster(2);
    a.pod_cidr = "10.0.0.0/8"; // ipam.operator.clusterPoolIPv4PodCIDRList's default
    b.pod_cidr = "10.0.0.0/8";
    const Run run = expect_failures(a, b, {"mesh.pod-cidr.overlap"});
    const std::string message =
        find_check(run.doc, "mesh.pod-cidr.overlap", "cluster1,cluster2")->at("message");
    BOOST_TEST(message.find("cluster-pool-ipv4-cidr") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(kubesprays_default_service_range_on_both_sides) {
    auto a = healthy_cluster(1);
    auto b = healthy_cluster(2);
    a.service_cidr = "10.233.0.0/18"; // kube_service_addresses in kubespray's defaults
    b.service_cidr = "10.233.0.0/18";
    expect_failures(a, b, {"mesh.service-cidr.overlap"});
}

BOOST_AUTO_TEST_CASE(tunnel_on_one_side_native_routing_on_the_other) {
    auto a = healthy_cluster(1);
    auto b = healthy_cluster(2);
    b.routing_mode = "native";
    b.native_routing_cidr = b.pod_cidr;
    expect_failures(a, b, {"mesh.datapath.match"});
}

BOOST_AUTO_TEST_CASE(identical_clustermesh_nodeports_with_kube_proxy_replacement) {
    auto a = healthy_cluster(1);
    auto b = healthy_cluster(2);
    a.clustermesh_node_port = 32379; // the chart's default in both
    b.clustermesh_node_port = 32379;
    a.kube_proxy_replacement = "true";
    b.kube_proxy_replacement = "true";
    expect_failures(a, b, {"mesh.clustermesh-nodeport.distinct"});
}

BOOST_AUTO_TEST_CASE(a_node_on_a_3_10_kernel_is_named) {
    auto a = healthy_cluster(1);
    auto b = healthy_cluster(2);
    b.nodes[2].name = "centos7-worker";
    b.nodes[2].fixture = "centos7"; // CentOS 7, kernel 3.10.0-1160
    b.nodes[2].bpf_supported = false;
    // 3.10 is below Cilium 1.16's 5.4, and predates CONFIG_CGROUP_BPF (4.10), one of the base options: the
    // fixture's config has no such line.
    std::ifstream config(std::string(MESHLINK_SOURCE_DIR) +
                         "/tests/fixtures/nodes/centos7/root/boot/config-3.10.0-1160.119.1.el7.x86_64");
    const std::string text((std::istreambuf_iterator<char>(config)), std::istreambuf_iterator<char>());
    BOOST_TEST_REQUIRE(!text.empty());
    BOOST_TEST_REQUIRE(text.find("CONFIG_CGROUP_BPF") == std::string::npos);

    const Run run = expect_failures(a, b, {"node.kernel.version", "node.kernel.config"});
    for (const char* id : {"node.kernel.version", "node.kernel.config"}) {
        const json* check = find_check(run.doc, id, "cluster2");
        BOOST_TEST_REQUIRE(check != nullptr);
        BOOST_TEST(check->at("nodes").at("failing") == json::array({"centos7-worker"}), check->dump());
        BOOST_TEST(check->at("nodes").at("fail") == 1);
        BOOST_TEST(check->at("nodes").at("total") == 3);
        BOOST_TEST(check->at("message").get<std::string>().find("centos7-worker") != std::string::npos,
                   check->dump());
    }
    BOOST_TEST(find_check(run.doc, "node.kernel.version", "cluster1")->at("status") == "pass");
}

BOOST_AUTO_TEST_CASE(nodes_without_reports) {
    auto a = healthy_cluster(1);
    auto b = healthy_cluster(2);
    b.nodes[1].report = false;
    b.nodes[2].report = false;
    b.nodes[0].report_age = std::chrono::hours(2); // three 10-minute intervals ago and more: stale
    const Run run = expect_failures(a, b, {"node.report.present"});
    const json* check = find_check(run.doc, "node.report.present", "cluster2");
    BOOST_TEST(check->at("nodes").at("missing") == 2);
    BOOST_TEST(check->at("nodes").at("warn") == 1); // the stale one
    BOOST_TEST(check->at("nodes").at("pass") == 0);
    BOOST_TEST(check->at("nodes").at("failing") == json::array({"cluster2-worker", "cluster2-worker2"}),
               check->dump());
    BOOST_TEST(check->at("hint").get<std::string>().find("kubectl meshlink agent install") !=
               std::string::npos);
    BOOST_TEST(find_check(run.doc, "node.report.present", "cluster1")->at("status") == "pass");
}

// One node cannot break the cluster's view: 100,000 levels of nesting (this crashed preflight, and so join,
// with SIGSEGV), a field of the wrong type, and escape sequences, each on one node of cluster2. Those two
// nodes are refused by name, the third is judged as usual, and the table shows its text escaped.
BOOST_AUTO_TEST_CASE(hostile_node_reports_spoil_only_their_own_nodes) {
    const auto a = healthy_cluster(1);
    const auto b = healthy_cluster(2);
    auto pair = start_pair(a, b);
    auto config = pair->b->rest_config();
    BOOST_TEST_REQUIRE(config.has_value(), error_message(config));
    auto client = kube::Client::from_config(std::move(*config));
    BOOST_TEST_REQUIRE(client.has_value(), error_message(client));
    const std::string annotation = "meshlink.io/node-report";
    auto rewrite = [&](const std::string& node, const std::function<std::string(json)>& change) {
        auto current = client->get("/api/v1/nodes/" + node);
        BOOST_TEST_REQUIRE(current.has_value(), error_message(current));
        const json doc = json::parse((*current)["metadata"]["annotations"][annotation].get<std::string>());
        auto patched = client->patch("/api/v1/nodes/" + node, kube::PatchType::merge,
                                     json{{"metadata", {{"annotations", {{annotation, change(doc)}}}}}});
        BOOST_TEST_REQUIRE(patched.has_value(), error_message(patched));
    };
    rewrite(b.nodes[0].name, [](json doc) {
        doc["facts"]["kconfig"]["source"] = "\x1b]0;all good\x07\x1b[2J/boot/config";
        return doc.dump();
    });
    rewrite(b.nodes[1].name, [](json doc) {
        doc.erase("facts");
        std::string text = doc.dump();
        return text.insert(1, "\"facts\":" + std::string(100000, '[') + std::string(100000, ']') + ",");
    });
    rewrite(b.nodes[2].name, [](json doc) {
        doc["ciliumVersion"] = 5;
        return doc.dump();
    });

    const Run run = preflight_json(*pair);
    BOOST_TEST(run.exit_code == 1, run.err);
    BOOST_TEST(show(ids_with(run.doc, "fail")) == show({"node.report.present"}), run.doc.dump(2));
    const json* present = find_check(run.doc, "node.report.present", "cluster2");
    BOOST_TEST_REQUIRE(present != nullptr);
    BOOST_TEST(present->at("nodes").at("failing") == json::array({b.nodes[1].name, b.nodes[2].name}),
               present->dump());
    BOOST_TEST(present->at("message").get<std::string>().find("nested more than 32 levels") !=
                   std::string::npos,
               present->dump());
    // The node with a readable report is judged as usual.
    const json* kernel = find_check(run.doc, "node.kernel.version", "cluster2");
    BOOST_TEST_REQUIRE(kernel != nullptr);
    BOOST_TEST(kernel->at("status") == "pass");
    BOOST_TEST(kernel->at("nodes").at("pass") == 1);
    BOOST_TEST(kernel->at("nodes").at("missing") == 2);

    const auto table = kubectl_meshlink(*pair, {"preflight", "--peer", "cluster2"});
    BOOST_TEST(table.exit_code == 1, table.err);
    BOOST_TEST(table.out.find('\x1b') == std::string::npos);
    BOOST_TEST(table.out.find('\x07') == std::string::npos);
    BOOST_TEST(table.out.find("\\x1b]0;all good\\x07\\x1b[2J/boot/config") != std::string::npos, table.out);
}

BOOST_AUTO_TEST_CASE(a_user_who_may_only_read) {
    auto a = healthy_cluster(1);
    auto b = healthy_cluster(2);
    b.readonly_user = "auditor"; // RBAC on, get/list/watch on everything and nothing else
    const Run run = expect_failures(a, b, {"cluster.rbac.sufficient"});
    const std::string message = find_check(run.doc, "cluster.rbac.sufficient", "cluster2")->at("message");
    BOOST_TEST(message.find("create secrets in kube-system") != std::string::npos, message);
    BOOST_TEST(message.find("create pods/exec in kube-system") != std::string::npos, message);
    BOOST_TEST(message.find("get secrets") == std::string::npos, message); // reading is allowed
    BOOST_TEST(find_check(run.doc, "cluster.rbac.sufficient", "cluster1")->at("status") == "pass");
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2_and_unknown_peers_fail_the_context_check) {
    auto pair = start_pair(healthy_cluster(1), healthy_cluster(2));
    auto yaml = kubectl_meshlink(*pair, {"preflight", "-o", "yaml"});
    BOOST_TEST(yaml.exit_code == 2);
    BOOST_TEST(yaml.err.find("table or json") != std::string::npos, yaml.err);
    auto version = kubectl_meshlink(*pair, {"preflight", "--cilium-version", "latest"});
    BOOST_TEST(version.exit_code == 2);

    auto missing = kubectl_meshlink(*pair, {"preflight", "--peer", "nowhere", "-o", "json"});
    BOOST_TEST(missing.exit_code == 1, missing.err);
    const auto doc = json::parse(missing.out);
    const json* check = find_check(doc, "kubeconfig.context.exists", "nowhere");
    BOOST_TEST_REQUIRE(check != nullptr, missing.out);
    BOOST_TEST(check->at("status") == "fail");
    BOOST_TEST(check->at("message").get<std::string>().find("cluster1, cluster2") != std::string::npos,
               check->dump());
}

BOOST_AUTO_TEST_SUITE_END()
