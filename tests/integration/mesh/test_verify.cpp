// `kubectl meshlink verify` (the mesh without a demo) through real kubectl plugin discovery on two fakekube
// clusters seeded as a connected Cilium mesh. The probe Jobs' output (plugin/verify/tcp_probe.sh's format) is
// scripted per node with fakekube pod rules; the agents answer `cilium-dbg status` from the seed.
#include "tests/integration/mesh/harness.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

using meshlink::test::json;
using meshlink::test::Mesh;
using meshlink::test::mesh_cluster;

namespace {

// tcp_probe.sh's lines for one node: every target either connected or timed out.
std::string probe_log(const std::vector<std::pair<std::string, std::string>>& targets, bool open) {
    std::string out;
    int attempts = 0;
    for (const auto& [name, address] : targets) {
        for (int i = 1; i <= 3; ++i, ++attempts) {
            out += json{{"v", 1},
                        {"kind", "tcp"},
                        {"target", name},
                        {"address", address},
                        {"i", i},
                        {"rc", open ? 35 : 28},
                        {"connect", open ? "0.000412" : "0.000000"},
                        {"error", open ? "curl: (35) OpenSSL/3.0 error: handshake failure"
                                       : "curl: (28) Connection timed out after 3001 milliseconds"}}
                       .dump() +
                   "\n";
        }
    }
    return out + json{{"v", 1}, {"kind", "done"}, {"attempts", attempts}}.dump() + "\n";
}

void rule(const Mesh& mesh, std::size_t i, const std::string& selector, const std::string& log) {
    mesh.control(i, "POST", "pod-rules",
                 {{"namespace", "kube-system"},
                  {"selector", selector},
                  {"annotations", {{"fakekube.meshlink.io/log", log}}}});
}

std::string describe(const meshlink::test::CommandResult& r) {
    return fmt::format("exit {}\nstdout:\n{}\nstderr:\n{}", r.exit_code, r.out, r.err);
}

} // namespace

BOOST_AUTO_TEST_SUITE(mesh_verify)

BOOST_AUTO_TEST_CASE(reports_every_node_and_names_the_one_that_cannot_connect) {
    Mesh mesh({mesh_cluster(1, 2), mesh_cluster(2, 2)});
    // What each side dials: the peer's first control-plane node InternalIP and its clustermesh NodePort.
    const std::string to2 = fmt::format("127.0.2.10:{}", *mesh.spec(1).clustermesh_node_port);
    const std::string to1 = fmt::format("127.0.1.10:{}", *mesh.spec(0).clustermesh_node_port);
    rule(mesh, 0, "meshlink.io/role=mesh-verify", probe_log({{"cluster2/clustermesh", to2}}, true));
    rule(mesh, 1, "meshlink.io/role=mesh-verify", probe_log({{"cluster1/clustermesh", to1}}, true));

    auto run = mesh.meshlink({"verify", mesh.spec(1).context, "-o", "json"});
    BOOST_TEST_REQUIRE(run.exit_code == 0, describe(run));
    const json report = json::parse(run.out);
    BOOST_TEST(report["result"] == "pass");
    BOOST_REQUIRE_EQUAL(report["clusters"].size(), 2U);
    for (const auto& c : report["clusters"]) {
        BOOST_TEST(c["hostNetwork"] == true);
        // One probe per node of the cluster (a control plane and two workers), each reaching the peer.
        BOOST_TEST_REQUIRE(c["nodes"].size() == mesh.spec(0).nodes.size());
        for (const auto& n : c["nodes"]) {
            BOOST_REQUIRE_EQUAL(n["targets"].size(), 1U);
            BOOST_TEST(n["targets"][0]["result"] == "open");
            BOOST_TEST(n["targets"][0]["address"] == (c["cluster"] == "cluster1" ? to2 : to1));
        }
        // Every agent's clustermesh section for the peer.
        BOOST_TEST(!c["agents"].empty());
        for (const auto& a : c["agents"]) {
            BOOST_TEST(a["connected"] == true);
            BOOST_TEST(a["synced"]["services"] == true);
        }
    }
    // `status` shows the last verify in one line.
    auto status = mesh.meshlink({"status"});
    BOOST_TEST_REQUIRE(status.exit_code == 0, describe(status));
    BOOST_TEST(status.out.find("last verify: pass at ") != std::string::npos, status.out);
    // The probe Jobs are gone.
    BOOST_TEST(mesh.get(0, "/apis/batch/v1/namespaces/kube-system/jobs")["items"].empty());

    // One worker of cluster1 times out: named, with the address, and verify fails.
    const std::string worker = mesh.spec(0).nodes.back().name;
    mesh.control(0, "DELETE", "pod-rules");
    rule(mesh, 0, "meshlink.io/node=" + worker, probe_log({{"cluster2/clustermesh", to2}}, false));
    rule(mesh, 0, "meshlink.io/role=mesh-verify", probe_log({{"cluster2/clustermesh", to2}}, true));
    auto failing = mesh.meshlink({"verify", mesh.spec(1).context});
    BOOST_TEST_REQUIRE(failing.exit_code == 1, describe(failing));
    BOOST_TEST(
        failing.out.find(fmt::format("node {} cannot connect to cluster2/clustermesh at {} (3 timeout)",
                                     worker, to2)) != std::string::npos,
        failing.out);
}

BOOST_AUTO_TEST_CASE(refuses_to_pass_the_same_node_port_with_kube_proxy_replacement) {
    auto a = mesh_cluster(1, 2);
    auto b = mesh_cluster(2, 2);
    b.clustermesh_node_port = a.clustermesh_node_port;
    a.kube_proxy_replacement = "true";
    b.kube_proxy_replacement = "true";
    Mesh mesh({a, b});
    const int port = *a.clustermesh_node_port;
    rule(mesh, 0, "meshlink.io/role=mesh-verify",
         probe_log({{"cluster2/clustermesh", fmt::format("127.0.2.10:{}", port)}}, true));
    rule(mesh, 1, "meshlink.io/role=mesh-verify",
         probe_log({{"cluster1/clustermesh", fmt::format("127.0.1.10:{}", port)}}, true));
    auto run = mesh.meshlink({"verify", mesh.spec(1).context, "-o", "json"});
    BOOST_TEST_REQUIRE(run.exit_code == 1, describe(run));
    const json report = json::parse(run.out);
    for (const auto& c : report["clusters"]) {
        for (const auto& n : c["nodes"]) {
            BOOST_TEST(n["targets"][0]["result"] == "invalid");
        }
        BOOST_TEST(c["problems"].dump().find(fmt::format("same NodePort {}", port)) != std::string::npos,
                   c["problems"].dump());
    }
}

BOOST_AUTO_TEST_SUITE_END()
