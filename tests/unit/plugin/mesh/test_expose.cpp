// Step 2 on an in-memory API: the Service it creates, the address it picks (a Ready control-plane node's
// InternalIP), and the TLS server name from the certificate presented there.
#include "kube/pki.hpp"
#include "memory_api.hpp"
#include "plugin/mesh/step_expose.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink;
namespace mesh = plugin::mesh;
namespace pki = kube::pki;
using nlohmann::json;
using test::MemoryApi;
using test::ScriptedHost;

namespace {

std::string certificate(std::vector<std::string> dns, std::vector<std::string> ips) {
    pki::CertificateSpec ca_spec;
    ca_spec.common_name = "kubernetes";
    const auto ca = pki::generate_ca(ca_spec).value();
    pki::CertificateSpec spec;
    spec.common_name = "kube-apiserver";
    spec.dns_names = std::move(dns);
    spec.ip_addresses = std::move(ips);
    return pki::generate_signed(spec, ca).value().cert_pem;
}

struct Fixture {
    MemoryApi api;
    ScriptedHost host;
    mesh::Session session{mesh::JoinOptions{}, host, nullptr, nullptr};
    mesh::Cluster cluster;

    Fixture() {
        cluster.name = "cluster1";
        cluster.context = "ctx";
        cluster.api = &api;
        cluster.server = "https://127.0.0.1:6443";
        cluster.journal = std::make_unique<mesh::Journal>(api, "kube-system", false);
        BOOST_REQUIRE(cluster.journal->load("cluster1").has_value());
        cluster.nodes = {{"cp", "10.0.0.10", true, true}, {"worker", "10.0.0.20", false, true}};
        api.put(
            mesh::Kind::pod,
            json{{"metadata",
                  {{"name", "kube-apiserver-cp"},
                   {"namespace", "kube-system"},
                   {"labels", {{"component", "kube-apiserver"}, {"tier", "control-plane"}}}}},
                 {"spec",
                  {{"containers", json::array({{{"name", "kube-apiserver"},
                                                {"command", {"kube-apiserver", "--secure-port=8443"}}}})}}}});
    }
    void allocate_node_port() {
        // The memory API does not allocate: give the created Service its nodePort.
        json service = *api.find(mesh::Kind::service, "kube-system", "meshlink-apiserver");
        service["spec"]["ports"][0]["nodePort"] = 31234;
        api.put(mesh::Kind::service, service);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(mesh_expose)

BOOST_FIXTURE_TEST_CASE(selects_the_api_server_pods_on_their_secure_port, Fixture) {
    auto first = mesh::expose(session, cluster, {"cluster2"});
    BOOST_REQUIRE(!first.has_value()); // no nodePort yet in memory: the created Service is checked
    const json* service = api.find(mesh::Kind::service, "kube-system", "meshlink-apiserver");
    BOOST_REQUIRE(service != nullptr);
    BOOST_TEST((*service)["spec"]["type"] == "NodePort");
    BOOST_TEST((*service)["spec"]["selector"] ==
               json::parse(R"({"component":"kube-apiserver","tier":"control-plane"})"));
    BOOST_TEST((*service)["spec"]["ports"][0]["targetPort"] == 8443);
    allocate_node_port();
    host.certificates["10.0.0.10:31234"] = certificate({"kubernetes", "kubernetes.default"}, {"10.96.0.1"});
    BOOST_REQUIRE(mesh::expose(session, cluster, {"cluster2"}).has_value());
    BOOST_TEST(cluster.exposed_server == "https://10.0.0.10:31234");
    BOOST_TEST(cluster.tls_server_name == "kubernetes");
}

BOOST_FIXTURE_TEST_CASE(no_tls_server_name_when_the_ip_is_a_san, Fixture) {
    (void)mesh::expose(session, cluster, {"cluster2"});
    allocate_node_port();
    host.certificates["10.0.0.10:31234"] = certificate({"kubernetes"}, {"10.0.0.10"});
    BOOST_REQUIRE(mesh::expose(session, cluster, {"cluster2"}).has_value());
    BOOST_TEST(cluster.tls_server_name.empty());
}

BOOST_FIXTURE_TEST_CASE(falls_back_to_the_kubeconfig_server_for_the_certificate, Fixture) {
    (void)mesh::expose(session, cluster, {"cluster2"});
    allocate_node_port();
    host.certificates["127.0.0.1:6443"] = certificate({"api.example.com"}, {"127.0.0.1"});
    BOOST_REQUIRE(mesh::expose(session, cluster, {"cluster2"}).has_value());
    BOOST_TEST(cluster.tls_server_name == "api.example.com");
}

BOOST_FIXTURE_TEST_CASE(a_service_of_someone_else_is_not_taken_over, Fixture) {
    api.put(mesh::Kind::service,
            json{{"metadata", {{"name", "meshlink-apiserver"}, {"namespace", "kube-system"}}},
                 {"spec", {{"type", "ClusterIP"}}}});
    auto exposed = mesh::expose(session, cluster, {"cluster2"});
    BOOST_REQUIRE(!exposed.has_value());
    BOOST_TEST(exposed.error().message.find("not created by meshlink") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(without_api_server_pods_the_endpoints_of_kubernetes_are_copied, Fixture) {
    api.remove(mesh::Kind::pod, "kube-system", "kube-apiserver-cp", "");
    api.put(mesh::Kind::endpoint_slice,
            json{{"metadata", {{"name", "kubernetes"}, {"namespace", "default"}}},
                 {"addressType", "IPv4"},
                 {"endpoints", json::array({{{"addresses", {"10.0.0.10"}}}})},
                 {"ports", json::array({{{"name", "https"}, {"port", 6443}, {"protocol", "TCP"}}})}});
    (void)mesh::expose(session, cluster, {"cluster2"});
    const json* slice = api.find(mesh::Kind::endpoint_slice, "kube-system", "meshlink-apiserver");
    BOOST_REQUIRE(slice != nullptr);
    BOOST_TEST((*slice)["metadata"]["labels"]["kubernetes.io/service-name"] == "meshlink-apiserver");
    BOOST_TEST((*slice)["endpoints"][0]["addresses"] == json::array({"10.0.0.10"}));
    BOOST_TEST((*slice)["ports"][0]["port"] == 6443);
    const json* service = api.find(mesh::Kind::service, "kube-system", "meshlink-apiserver");
    BOOST_TEST(!(*service)["spec"].contains("selector"));
    BOOST_TEST((*service)["spec"]["ports"][0]["name"] == (*slice)["ports"][0]["name"]);
}

BOOST_AUTO_TEST_SUITE_END()
