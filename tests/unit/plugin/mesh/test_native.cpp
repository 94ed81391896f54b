// Native writes of join and their undo, on an in-memory API: idempotent, recorded, and undone to the exact
// state before.
#include "kube/pki.hpp"
#include "memory_api.hpp"
#include "plugin/mesh/changes.hpp"
#include "plugin/mesh/native.hpp"
#include "plugin/mesh/step_connect.hpp"
#include "util/base64.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink;
namespace mesh = plugin::mesh;
namespace pki = kube::pki;
using nlohmann::json;
using test::MemoryApi;
using test::ScriptedHost;

namespace {

struct Fixture {
    MemoryApi api;
    ScriptedHost host;
    std::vector<std::string> said;
    mesh::Session session{mesh::JoinOptions{}, host,
                          [this](const std::string& line) { said.push_back(line); }, nullptr};
    mesh::Cluster cluster;

    Fixture() {
        cluster.name = "cluster1";
        cluster.context = "ctx-1";
        cluster.api = &api;
        cluster.journal = std::make_unique<mesh::Journal>(api, "kube-system", false);
        BOOST_REQUIRE(cluster.journal->load("cluster1").has_value());
        api.put(
            mesh::Kind::daemon_set,
            json{{"apiVersion", "apps/v1"},
                 {"kind", "DaemonSet"},
                 {"metadata", {{"name", "cilium"}, {"namespace", "kube-system"}}},
                 {"spec",
                  {{"template", {{"spec", {{"containers", json::array({{{"name", "cilium-agent"}}})}}}}}}}});
    }
    json daemonset() const { return *api.find(mesh::Kind::daemon_set, "kube-system", "cilium"); }
    json without_versions(json object) const {
        object["metadata"].erase("resourceVersion");
        return object;
    }
};

pki::KeyPair ca(const std::string& cn) {
    pki::CertificateSpec spec;
    spec.common_name = cn;
    return pki::generate_ca(spec).value();
}

pki::KeyPair leaf(const pki::KeyPair& issuer, const std::string& cn, std::vector<std::string> dns = {}) {
    pki::CertificateSpec spec;
    spec.common_name = cn;
    spec.dns_names = std::move(dns);
    return pki::generate_signed(spec, issuer).value();
}

} // namespace

BOOST_AUTO_TEST_SUITE(mesh_native)

BOOST_FIXTURE_TEST_CASE(secret_keys_are_created_once_and_undone, Fixture) {
    auto written = mesh::ensure_secret_keys(session, cluster, "cilium-clustermesh",
                                            {{"cluster2", "endpoints:\n- x\n"}}, "cluster2");
    BOOST_REQUIRE(written.has_value());
    BOOST_TEST(*written);
    const json* secret = api.find(mesh::Kind::secret, "kube-system", "cilium-clustermesh");
    BOOST_REQUIRE(secret != nullptr);
    BOOST_TEST((*secret)["type"] == "Opaque");
    BOOST_TEST(util::base64_decode((*secret)["data"]["cluster2"].get<std::string>()).value() ==
               "endpoints:\n- x\n");
    BOOST_TEST(mesh::label(*secret, "app.kubernetes.io/managed-by") == "meshlink");

    BOOST_REQUIRE(cluster.journal->flush().has_value()); // the "applied" marks
    // Again: nothing to write.
    const int before = api.writes;
    auto again = mesh::ensure_secret_keys(session, cluster, "cilium-clustermesh",
                                          {{"cluster2", "endpoints:\n- x\n"}}, "cluster2");
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(!*again);
    BOOST_REQUIRE(cluster.journal->flush().has_value());
    BOOST_TEST(api.writes == before);

    // Undo, newest first: the key, then the Secret meshlink created.
    for (const auto& change : cluster.journal->release_peer("cluster2")) {
        BOOST_REQUIRE(mesh::undo(session, cluster, change).has_value());
    }
    BOOST_TEST(api.find(mesh::Kind::secret, "kube-system", "cilium-clustermesh") == nullptr);
}

BOOST_FIXTURE_TEST_CASE(a_replaced_value_comes_back_from_the_backup, Fixture) {
    api.put(
        mesh::Kind::secret,
        json{{"apiVersion", "v1"},
             {"kind", "Secret"},
             {"metadata", {{"name", "cilium-clustermesh"}, {"namespace", "kube-system"}}},
             {"data", {{"cluster2", util::base64_encode("old")}, {"other", util::base64_encode("theirs")}}}});
    const json before = without_versions(*api.find(mesh::Kind::secret, "kube-system", "cilium-clustermesh"));
    BOOST_REQUIRE(
        mesh::ensure_secret_keys(session, cluster, "cilium-clustermesh", {{"cluster2", "new"}}, "cluster2")
            .has_value());
    const json* secret = api.find(mesh::Kind::secret, "kube-system", "cilium-clustermesh");
    BOOST_TEST(util::base64_decode((*secret)["data"]["cluster2"].get<std::string>()).value() == "new");
    // The journal names the value by its hash only; the old value is in the backup Secret.
    BOOST_TEST(api.find(mesh::Kind::config_map, "kube-system", "meshlink-journal")->dump().find("\"old\"") ==
               std::string::npos);
    for (const auto& change : cluster.journal->release_peer("cluster2")) {
        BOOST_REQUIRE(mesh::undo(session, cluster, change).has_value());
    }
    BOOST_TEST(without_versions(*api.find(mesh::Kind::secret, "kube-system", "cilium-clustermesh")) ==
               before);
}

BOOST_FIXTURE_TEST_CASE(a_value_changed_after_join_is_left_alone, Fixture) {
    BOOST_REQUIRE(
        mesh::ensure_secret_keys(session, cluster, "cilium-clustermesh", {{"cluster2", "ours"}}, "cluster2")
            .has_value());
    json secret = *api.find(mesh::Kind::secret, "kube-system", "cilium-clustermesh");
    secret["data"]["cluster2"] = util::base64_encode("edited by someone");
    api.put(mesh::Kind::secret, secret);
    for (const auto& change : cluster.journal->release_peer("cluster2")) {
        BOOST_REQUIRE(mesh::undo(session, cluster, change).has_value());
    }
    BOOST_REQUIRE(api.find(mesh::Kind::secret, "kube-system", "cilium-clustermesh") != nullptr);
    BOOST_TEST(!said.empty());
}

BOOST_FIXTURE_TEST_CASE(helm_owned_secrets_are_not_written, Fixture) {
    api.put(mesh::Kind::secret, json{{"apiVersion", "v1"},
                                     {"kind", "Secret"},
                                     {"metadata",
                                      {{"name", "cilium-clustermesh"},
                                       {"namespace", "kube-system"},
                                       {"labels", {{"app.kubernetes.io/managed-by", "Helm"}}}}}});
    const int before = api.writes;
    auto written =
        mesh::ensure_secret_keys(session, cluster, "cilium-clustermesh", {{"cluster2", "x"}}, "cluster2");
    BOOST_REQUIRE(!written.has_value());
    BOOST_TEST(written.error().message.find("Helm-owned") != std::string::npos);
    BOOST_TEST(api.writes == before);
}

BOOST_FIXTURE_TEST_CASE(host_aliases_are_added_once_and_removed_exactly, Fixture) {
    const json before = without_versions(daemonset());
    auto added = mesh::ensure_host_aliases(session, cluster, mesh::Kind::daemon_set, "cilium",
                                           {"192.168.2.10"}, "cluster2.mesh.cilium.io", "cluster2");
    BOOST_REQUIRE(added.has_value());
    BOOST_TEST(*added);
    const json aliases = daemonset()["spec"]["template"]["spec"]["hostAliases"];
    BOOST_TEST(aliases == json::parse(R"([{"ip":"192.168.2.10","hostnames":["cluster2.mesh.cilium.io"]}])"));
    auto again = mesh::ensure_host_aliases(session, cluster, mesh::Kind::daemon_set, "cilium",
                                           {"192.168.2.10"}, "cluster2.mesh.cilium.io", "cluster2");
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(!*again);
    for (const auto& change : cluster.journal->release_peer("cluster2")) {
        BOOST_REQUIRE(mesh::undo(session, cluster, change).has_value());
    }
    BOOST_TEST(without_versions(daemonset()) == before); // no empty hostAliases left behind
}

BOOST_FIXTURE_TEST_CASE(host_aliases_of_others_survive, Fixture) {
    json ds = daemonset();
    ds["spec"]["template"]["spec"]["hostAliases"] =
        json::parse(R"([{"ip":"10.0.0.1","hostnames":["registry.local"]}])");
    api.put(mesh::Kind::daemon_set, ds);
    const json before = without_versions(daemonset());
    BOOST_REQUIRE(mesh::ensure_host_aliases(session, cluster, mesh::Kind::daemon_set, "cilium",
                                            {"10.0.0.1", "10.0.0.2"}, "cluster2.mesh.cilium.io", "cluster2")
                      .has_value());
    const json aliases = daemonset()["spec"]["template"]["spec"]["hostAliases"];
    BOOST_TEST(aliases[0]["hostnames"] == json::parse(R"(["registry.local","cluster2.mesh.cilium.io"])"));
    BOOST_TEST(aliases[1]["ip"] == "10.0.0.2");
    for (const auto& change : cluster.journal->release_peer("cluster2")) {
        BOOST_REQUIRE(mesh::undo(session, cluster, change).has_value());
    }
    BOOST_TEST(without_versions(daemonset()) == before);
}

BOOST_FIXTURE_TEST_CASE(a_change_of_an_unknown_kind_is_never_undone, Fixture) {
    mesh::Change change("future/1", mesh::Action::unknown, "applied", {"cluster2"}, {});
    change.unknown_action = "from-a-newer-meshlink";
    const int before = api.writes;
    auto undone = mesh::undo(session, cluster, change);
    BOOST_REQUIRE(!undone.has_value());
    BOOST_TEST(undone.error().message.find("\"from-a-newer-meshlink\"") != std::string::npos);
    BOOST_TEST(api.writes == before);
}

BOOST_AUTO_TEST_CASE(client_files_follow_the_certificates) {
    const auto shared = ca("Cilium CA");
    const auto other = ca("Cilium CA");
    mesh::Cluster a;
    mesh::Cluster b;
    a.name = "a";
    b.name = "b";
    const auto remote_a = leaf(shared, "remote");
    a.remote_cert.data = {
        {"tls.crt", remote_a.cert_pem}, {"tls.key", remote_a.key_pem}, {"ca.crt", shared.cert_pem}};
    a.ca.data = {{"ca.crt", shared.cert_pem}};
    b.ca.data = {{"ca.crt", shared.cert_pem}};
    b.server_cert.data = {
        {"tls.crt", leaf(shared, "clustermesh-apiserver.cilium.io", {"*.mesh.cilium.io"}).cert_pem}};
    BOOST_TEST((mesh::client_files(a, b) == mesh::ClientFiles::common));
    // The peer trusts another CA: a's remote certificate means nothing to it.
    b.ca.data = {{"ca.crt", other.cert_pem}};
    b.server_cert.data = {{"tls.crt", leaf(other, "clustermesh-apiserver.cilium.io").cert_pem}};
    BOOST_TEST((mesh::client_files(a, b) == mesh::ClientFiles::per_peer));
    // Same CA file, but the peer's server certificate came from an older CA (the CA was copied after
    // enabling).
    b.ca.data = {{"ca.crt", shared.cert_pem}};
    BOOST_TEST((mesh::client_files(a, b) == mesh::ClientFiles::per_peer));
}

BOOST_AUTO_TEST_SUITE_END()
