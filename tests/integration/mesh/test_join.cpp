// join, status and leave on two and four fakekube clusters seeded as Cilium 1.16 installs. Objects are
// checked field by field against the formats of docs/cilium-clustermesh.md, transcribed here.
#include "kube/pki.hpp"
#include "tests/integration/mesh/harness.hpp"
#include "util/base64.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace meshlink::test;
namespace pki = meshlink::kube::pki;

namespace {

const std::string k_ns = "/api/v1/namespaces/kube-system";

// docs/cilium-clustermesh.md, "Shared-CA entry".
std::string shared_ca_entry(const std::string& peer, int port) {
    return fmt::format("endpoints:\n- https://{}.mesh.cilium.io:{}\n"
                       "trusted-ca-file: /var/lib/cilium/clustermesh/common-etcd-client-ca.crt\n"
                       "key-file: /var/lib/cilium/clustermesh/common-etcd-client.key\n"
                       "cert-file: /var/lib/cilium/clustermesh/common-etcd-client.crt\n",
                       peer, port);
}

// docs/cilium-clustermesh.md, "Per-peer entry".
std::string per_peer_entry(const std::string& peer, int port) {
    return fmt::format("endpoints:\n- https://{0}.mesh.cilium.io:{1}\n"
                       "trusted-ca-file: /var/lib/cilium/clustermesh/{0}.etcd-client-ca.crt\n"
                       "key-file: /var/lib/cilium/clustermesh/{0}.etcd-client.key\n"
                       "cert-file: /var/lib/cilium/clustermesh/{0}.etcd-client.crt\n",
                       peer, port);
}

// docs/cilium-clustermesh.md, "KVStoreMesh entry": what agents read when KVStoreMesh runs.
const std::string k_kvstoremesh_override =
    "endpoints:\n- https://clustermesh-apiserver.kube-system.svc:2379\n"
    "trusted-ca-file: /var/lib/cilium/clustermesh/local-etcd-client-ca.crt\n"
    "key-file: /var/lib/cilium/clustermesh/local-etcd-client.key\n"
    "cert-file: /var/lib/cilium/clustermesh/local-etcd-client.crt\n";

json aliases(const json& workload) {
    const json& spec = workload["spec"]["template"]["spec"];
    return spec.contains("hostAliases") ? spec["hostAliases"] : json();
}

std::set<std::string> data_keys(const json& secret) {
    std::set<std::string> out;
    if (secret.is_object() && secret.contains("data")) {
        for (const auto& [key, value] : secret["data"].items()) {
            out.insert(key);
        }
    }
    return out;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The contexts of the mesh's kubeconfig, with their cluster's server and tls-server-name.
json kubeconfig_view(const Mesh& m) {
    auto view = m.kubectl({"config", "view", "-o", "json"});
    BOOST_REQUIRE_MESSAGE(view.exit_code == 0, view.err);
    return json::parse(view.out);
}

json cluster_entry(const json& view, const std::string& name) {
    for (const auto& cluster : view["clusters"]) {
        if (cluster["name"] == name) {
            return cluster["cluster"];
        }
    }
    return nullptr;
}

void check_left(const Mesh& m, const std::vector<json>& before, const std::string& kubeconfig_contexts) {
    for (std::size_t i = 0; i < m.size(); ++i) {
        const json after = m.dump(i);
        BOOST_TEST(after == before[i], "cluster " << i + 1 << " differs from before join: "
                                                  << json::diff(before[i], after).dump());
    }
    BOOST_TEST(m.kubectl({"config", "get-contexts", "-o", "name"}).out == kubeconfig_contexts);
}

// Cluster `index`'s entries in a file of their own, context, cluster and user all carrying `name` (the manual
// procedure names them after the Cilium cluster name; `name` may also be another cluster's name).
std::filesystem::path file_of_its_own(const Mesh& m, int index, const std::string& name) {
    auto view = m.kubectl({"config", "view", "--flatten", "--raw", "--minify", "--context",
                           fmt::format("kind-cluster{}", index), "-o", "json"});
    BOOST_REQUIRE_MESSAGE(view.exit_code == 0, view.err);
    json doc = json::parse(view.out);
    doc["clusters"][0]["name"] = name;
    doc["users"][0]["name"] = name;
    doc["contexts"][0]["name"] = name;
    doc["contexts"][0]["context"]["cluster"] = name;
    doc["contexts"][0]["context"]["user"] = name;
    doc["current-context"] = name;
    return m.dir().write(fmt::format("{}-of-cluster{}.kubeconfig", name, index), doc.dump(2));
}

// The bytes of every file in `files`.
std::vector<std::string> contents(const std::vector<std::filesystem::path>& files) {
    std::vector<std::string> out;
    for (const auto& file : files) {
        out.push_back(read_file(file));
    }
    return out;
}

// join, a re-run and leave with the same arguments (`env` adds to the mesh's environment), checking that the
// re-run writes nothing (every file in `files` byte-identical, fakekube's write counters unchanged) and that
// leave restores every file byte for byte. Returns join's output (stdout + stderr).
std::string join_rerun_leave(const Mesh& m, const std::vector<std::string>& join,
                             const std::vector<std::string>& leave, const std::vector<std::string>& env,
                             const std::vector<std::filesystem::path>& files) {
    const auto before = contents(files);
    auto joined = m.meshlink(join, false, env);
    const std::string output = joined.out + joined.err;
    BOOST_REQUIRE_MESSAGE(joined.exit_code == 0, output);
    BOOST_TEST(output.find("retrying") == std::string::npos, output);

    const auto after_join = contents(files);
    const long writes[] = {m.writes(0), m.writes(1)};
    auto again = m.meshlink(join, false, env);
    BOOST_REQUIRE_MESSAGE(again.exit_code == 0, again.out + again.err);
    BOOST_TEST(m.writes(0) == writes[0]);
    BOOST_TEST(m.writes(1) == writes[1]);
    BOOST_TEST((contents(files) == after_join), "a re-run changed a kubeconfig file");

    auto left = m.meshlink(leave, false, env);
    BOOST_REQUIRE_MESSAGE(left.exit_code == 0, left.out + left.err);
    const auto after_leave = contents(files);
    for (std::size_t i = 0; i < files.size(); ++i) {
        BOOST_TEST(after_leave[i] == before[i], files[i].string() << " differs after leave");
    }
    return output;
}

} // namespace

BOOST_AUTO_TEST_SUITE(mesh_join)

BOOST_AUTO_TEST_CASE(two_native_clusters_with_a_shared_ca) {
    auto a = mesh_cluster(1, 2);
    auto b = mesh_cluster(2, 2);
    b.ca = a.ca;
    Mesh m({a, b});
    const std::vector<json> before = {m.dump(0), m.dump(1)};
    const std::string contexts = m.kubectl({"config", "get-contexts", "-o", "name"}).out;

    auto joined = m.meshlink({"join", "kind-cluster2", "--yes"});
    BOOST_REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
    BOOST_TEST(joined.err.find("[7/7]") != std::string::npos);

    const int port[] = {*a.clustermesh_node_port, *b.clustermesh_node_port};
    for (std::size_t i = 0; i < 2; ++i) {
        const std::size_t j = 1 - i;
        const std::string peer = fmt::format("cluster{}", j + 1);
        const json secret = m.get(i, k_ns + "/secrets/cilium-clustermesh");
        BOOST_REQUIRE(secret.is_object());
        BOOST_TEST(secret["type"] == "Opaque");
        BOOST_TEST(data_keys(secret) == std::set<std::string>{peer}); // shared CA: no per-peer files
        BOOST_TEST(secret_value(secret, peer) == shared_ca_entry(peer, port[j]));
        // Name resolution on the agents: the peer's control-plane InternalIP, never its ExternalIP.
        const json expected = json::array(
            {{{"ip", fmt::format("127.0.{}.10", j + 1)}, {"hostnames", {peer + ".mesh.cilium.io"}}}});
        BOOST_TEST(aliases(m.get(i, "/apis/apps/v1/namespaces/kube-system/daemonsets/cilium")) == expected);
        BOOST_TEST(aliases(m.get(i, "/apis/apps/v1/namespaces/kube-system/deployments/clustermesh-apiserver"))
                       .is_null());
        // The exposed API server.
        const json service = m.get(i, k_ns + "/services/meshlink-apiserver");
        BOOST_REQUIRE(service.is_object());
        BOOST_TEST(service["spec"]["type"] == "NodePort");
        BOOST_TEST(service["spec"]["selector"] ==
                   json::parse(R"({"component":"kube-apiserver","tier":"control-plane"})"));
        BOOST_TEST(service["spec"]["ports"][0]["targetPort"] == 6443);
        BOOST_TEST(service["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "meshlink");
        const int node_port = service["spec"]["ports"][0]["nodePort"].get<int>();
        // The kubeconfig entry named after the Cilium cluster: the exposed address, a SAN the certificate
        // has.
        const json cluster = cluster_entry(kubeconfig_view(m), fmt::format("cluster{}", i + 1));
        BOOST_REQUIRE(cluster.is_object());
        BOOST_TEST(cluster["server"] == fmt::format("https://127.0.{}.10:{}", i + 1, node_port));
        BOOST_TEST(cluster["tls-server-name"] == "kubernetes");
        // ... and it works: real kubectl reaches the cluster through it.
        auto through = m.kubectl({"--context", fmt::format("cluster{}", i + 1), "-n", "kube-system", "get",
                                  "configmap", "cilium-config", "-o", "jsonpath={.data.cluster-name}"});
        BOOST_TEST(through.exit_code == 0, through.err);
        BOOST_TEST(through.out == fmt::format("cluster{}", i + 1));
        // The journal.
        const json journal = m.get(i, k_ns + "/configmaps/meshlink-journal");
        BOOST_REQUIRE(journal.is_object());
        const json doc = json::parse(journal["data"]["journal.json"].get<std::string>());
        BOOST_TEST(doc["peers"][peer]["state"] == "joined");
    }

    // status, both sides configured and connected.
    auto status = m.meshlink({"status", "-o", "json"});
    BOOST_REQUIRE_MESSAGE(status.exit_code == 0, status.err);
    const json report = json::parse(status.out);
    BOOST_REQUIRE(report["peers"].size() == 1);
    const json& pair = report["peers"][0];
    BOOST_TEST(pair["name"] == "cluster2");
    BOOST_TEST(pair["configured"]["local"] == true);
    BOOST_TEST(pair["configured"]["peer"] == true);
    BOOST_TEST(pair["agents"]["local"]["connected"] == 3);
    BOOST_TEST(pair["agents"]["peer"]["total"] == 3);
    BOOST_TEST(pair["caMatch"] == true);
    BOOST_TEST(pair["endpoint"]["local"] == fmt::format("https://cluster2.mesh.cilium.io:{}", port[1]));

    // A re-run on the joined pair writes nothing.
    const long writes[] = {m.writes(0), m.writes(1)};
    auto again = m.meshlink({"join", "kind-cluster2", "--yes"});
    BOOST_REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    BOOST_TEST(m.writes(0) == writes[0]);
    BOOST_TEST(m.writes(1) == writes[1]);

    // leave returns every object to its state before join, and the kubeconfig's entries.
    auto left = m.meshlink({"leave", "kind-cluster2", "--yes"});
    BOOST_REQUIRE_MESSAGE(left.exit_code == 0, left.err);
    check_left(m, before, contexts);
}

BOOST_AUTO_TEST_CASE(different_cas_with_kvstoremesh_use_per_peer_certificates) {
    auto a = mesh_cluster(1, 2);
    auto b = mesh_cluster(2, 2);
    a.kvstoremesh = true;
    b.kvstoremesh = true;
    Mesh m({a, b});
    const std::vector<json> before = {m.dump(0), m.dump(1)};
    const std::string contexts = m.kubectl({"config", "get-contexts", "-o", "name"}).out;

    auto joined = m.meshlink({"join", "kind-cluster2", "--yes"});
    BOOST_REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
    BOOST_TEST(joined.out.find("per-peer client certificates") != std::string::npos); // says which was done

    const CiliumClusterSpec* specs[] = {&a, &b};
    for (std::size_t i = 0; i < 2; ++i) {
        const std::size_t j = 1 - i;
        const std::string peer = fmt::format("cluster{}", j + 1);
        const json remote_cert = m.get(j, k_ns + "/secrets/clustermesh-apiserver-remote-cert");
        // KVStoreMesh dials the peer: the classic per-peer entry and files in cilium-kvstoremesh ...
        const json kvstoremesh = m.get(i, k_ns + "/secrets/cilium-kvstoremesh");
        BOOST_REQUIRE(kvstoremesh.is_object());
        BOOST_TEST(data_keys(kvstoremesh) ==
                   (std::set<std::string>{peer, peer + ".etcd-client-ca.crt", peer + ".etcd-client.crt",
                                          peer + ".etcd-client.key"}));
        BOOST_TEST(secret_value(kvstoremesh, peer) == per_peer_entry(peer, *specs[j]->clustermesh_node_port));
        BOOST_TEST(secret_value(kvstoremesh, peer + ".etcd-client-ca.crt") == specs[j]->ca->cert_pem);
        BOOST_TEST(secret_value(kvstoremesh, peer + ".etcd-client.crt") ==
                   secret_value(remote_cert, "tls.crt"));
        BOOST_TEST(secret_value(kvstoremesh, peer + ".etcd-client.key") ==
                   secret_value(remote_cert, "tls.key"));
        // ... the agents read the local clustermesh-apiserver ...
        const json clustermesh = m.get(i, k_ns + "/secrets/cilium-clustermesh");
        BOOST_TEST(data_keys(clustermesh) == std::set<std::string>{peer});
        BOOST_TEST(secret_value(clustermesh, peer) == k_kvstoremesh_override);
        // ... and the aliases go on the clustermesh-apiserver Deployment, not the agents.
        const json expected = json::array(
            {{{"ip", fmt::format("127.0.{}.10", j + 1)}, {"hostnames", {peer + ".mesh.cilium.io"}}}});
        BOOST_TEST(
            aliases(m.get(i, "/apis/apps/v1/namespaces/kube-system/deployments/clustermesh-apiserver")) ==
            expected);
        BOOST_TEST(aliases(m.get(i, "/apis/apps/v1/namespaces/kube-system/daemonsets/cilium")).is_null());
    }
    auto left = m.meshlink({"leave", "kind-cluster2", "--yes"});
    BOOST_REQUIRE_MESSAGE(left.exit_code == 0, left.err);
    check_left(m, before, contexts);
}

BOOST_AUTO_TEST_CASE(identical_nodeports_are_made_distinct_and_restored_by_leave) {
    auto a = mesh_cluster(1, 2);
    auto b = mesh_cluster(2, 2);
    b.ca = a.ca;
    b.clustermesh_node_port = a.clustermesh_node_port; // "Identical NodePorts": the chart's 32379 everywhere
    Mesh m({a, b});
    const std::vector<json> before = {m.dump(0), m.dump(1)};
    const std::string contexts = m.kubectl({"config", "get-contexts", "-o", "name"}).out;
    auto joined = m.meshlink({"join", "kind-cluster2", "--yes"});
    BOOST_REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
    const int port1 =
        m.get(0, k_ns + "/services/clustermesh-apiserver")["spec"]["ports"][0]["nodePort"].get<int>();
    const int port2 =
        m.get(1, k_ns + "/services/clustermesh-apiserver")["spec"]["ports"][0]["nodePort"].get<int>();
    BOOST_TEST(port1 == *a.clustermesh_node_port);
    BOOST_TEST(port2 != port1);
    BOOST_TEST(secret_value(m.get(0, k_ns + "/secrets/cilium-clustermesh"), "cluster2") ==
               shared_ca_entry("cluster2", port2));
    auto left = m.meshlink({"leave", "kind-cluster2", "--yes"});
    BOOST_REQUIRE_MESSAGE(left.exit_code == 0, left.err);
    check_left(m, before, contexts);
}

BOOST_AUTO_TEST_CASE(four_clusters_become_a_full_mesh) {
    std::vector<CiliumClusterSpec> specs;
    for (int i = 1; i <= 4; ++i) {
        specs.push_back(mesh_cluster(i, 4));
        specs.back().ca = specs.front().ca;
    }
    // Certificates follow the shared CA.
    Mesh m(specs);
    auto joined = m.meshlink({"join", "kind-cluster2", "kind-cluster3", "kind-cluster4", "--yes"});
    BOOST_REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
    for (std::size_t i = 0; i < 4; ++i) {
        const json secret = m.get(i, k_ns + "/secrets/cilium-clustermesh");
        std::set<std::string> expected_keys;
        json expected_aliases = json::array();
        for (std::size_t j = 0; j < 4; ++j) {
            if (j == i) {
                continue;
            }
            const std::string peer = fmt::format("cluster{}", j + 1);
            expected_keys.insert(peer);
            BOOST_TEST(secret_value(secret, peer) == shared_ca_entry(peer, *specs[j].clustermesh_node_port));
            expected_aliases.push_back(
                {{"ip", fmt::format("127.0.{}.10", j + 1)}, {"hostnames", {peer + ".mesh.cilium.io"}}});
        }
        BOOST_TEST(data_keys(secret) == expected_keys);
        BOOST_TEST(aliases(m.get(i, "/apis/apps/v1/namespaces/kube-system/daemonsets/cilium")) ==
                   expected_aliases);
    }
    std::vector<long> writes;
    for (std::size_t i = 0; i < 4; ++i) {
        writes.push_back(m.writes(i));
    }
    auto again = m.meshlink({"join", "kind-cluster2", "kind-cluster3", "kind-cluster4", "--yes"});
    BOOST_REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    for (std::size_t i = 0; i < 4; ++i) {
        BOOST_TEST(m.writes(i) == writes[i], "cluster " << i + 1 << " was written on a re-run");
    }
}

BOOST_AUTO_TEST_CASE(without_helm_and_without_clustermesh_apiserver_join_stops_with_guidance) {
    auto a = mesh_cluster(1, 2);
    auto b = mesh_cluster(2, 2);
    b.clustermesh_node_port.reset();
    Mesh m({a, b});
    const long writes[] = {m.writes(0), m.writes(1)};
    auto joined = m.meshlink({"join", "kind-cluster2", "--yes"});
    BOOST_TEST(joined.exit_code == 1);
    BOOST_TEST(joined.err.find("not a Helm release") != std::string::npos, joined.err);
    BOOST_TEST(joined.err.find("clustermesh.useAPIServer=true") != std::string::npos);
    BOOST_TEST(m.writes(0) == writes[0]);
    BOOST_TEST(m.writes(1) == writes[1]);
}

BOOST_AUTO_TEST_CASE(without_yes_pod_restarts_are_refused_before_anything_is_written) {
    auto a = mesh_cluster(1, 2);
    auto b = mesh_cluster(2, 2);
    Mesh m({a, b});
    const std::vector<json> before = {m.dump(0), m.dump(1)};
    // Preflight's SelfSubjectAccessReviews are POSTs that store nothing: the dumps prove nothing changed, and
    // without preflight not a single write is sent.
    for (const bool preflight : {true, false}) {
        const long writes[] = {m.writes(0), m.writes(1)};
        auto joined = preflight ? m.meshlink({"join", "kind-cluster2"})
                                : m.meshlink({"join", "kind-cluster2", "--skip-preflight"});
        BOOST_TEST(joined.exit_code == 1);
        BOOST_TEST(joined.err.find("--yes") != std::string::npos, joined.err);
        BOOST_TEST(joined.err.find("DaemonSet kube-system/cilium") != std::string::npos);
        if (!preflight) {
            BOOST_TEST(m.writes(0) == writes[0]);
            BOOST_TEST(m.writes(1) == writes[1]);
        }
        BOOST_TEST(m.dump(0) == before[0]);
        BOOST_TEST(m.dump(1) == before[1]);
    }
}

BOOST_AUTO_TEST_CASE(dry_run_prints_every_object_and_writes_nothing) {
    auto a = mesh_cluster(1, 2);
    auto b = mesh_cluster(2, 2);
    Mesh m({a, b});
    const std::string kubeconfig = read_file(m.kubeconfig());
    const std::vector<json> before = {m.dump(0), m.dump(1)};
    const long writes[] = {m.writes(0), m.writes(1)};
    auto strict = m.meshlink({"join", "kind-cluster2", "--dry-run", "--skip-preflight"});
    BOOST_REQUIRE_MESSAGE(strict.exit_code == 0, strict.err);
    BOOST_TEST(m.writes(0) == writes[0]); // not one POST, PUT, PATCH or DELETE
    BOOST_TEST(m.writes(1) == writes[1]);
    auto planned = m.meshlink({"join", "kind-cluster2", "--dry-run", "-o", "yaml"});
    BOOST_REQUIRE_MESSAGE(planned.exit_code == 0, planned.err);
    BOOST_TEST(m.dump(0) == before[0]); // with preflight: its access reviews store nothing
    BOOST_TEST(m.dump(1) == before[1]);
    BOOST_TEST(read_file(m.kubeconfig()) == kubeconfig);
    for (const char* needle :
         {"kind: Service", "name: meshlink-apiserver", "name: cilium-clustermesh", "cluster2.etcd-client.key",
          "hostAliases", "cluster2.mesh.cilium.io", "kubeconfig", "cilium-dbg status"}) {
        BOOST_TEST(planned.out.find(needle) != std::string::npos, "the plan lacks " << needle);
    }
    BOOST_TEST(!leaks(planned.out + planned.err, b.ca->key_pem));
}

BOOST_AUTO_TEST_CASE(no_key_material_in_any_output_even_at_v8) {
    auto a = mesh_cluster(1, 2);
    auto b = mesh_cluster(2, 2); // different CAs: the peers' keys travel through the Secrets join writes
    Mesh m({a, b});
    std::vector<std::string> keys = {a.ca->key_pem, b.ca->key_pem};
    for (std::size_t i = 0; i < 2; ++i) {
        for (const char* secret :
             {"clustermesh-apiserver-remote-cert", "clustermesh-apiserver-server-cert"}) {
            keys.push_back(secret_value(m.get(i, k_ns + "/secrets/" + secret), "tls.key"));
        }
    }
    const json view = json::parse(m.kubectl({"config", "view", "--raw", "-o", "json"}).out);
    for (const auto& user : view["users"]) {
        keys.push_back(
            meshlink::util::base64_decode(user["user"]["client-key-data"].get<std::string>()).value());
    }
    std::string output;
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"join", "kind-cluster2", "--yes", "-v", "8"},
             {"status", "-o", "json", "-v", "8"},
             {"join", "kind-cluster2", "--dry-run", "-o", "yaml", "-v", "8"},
             {"leave", "kind-cluster2", "--yes", "-v", "8"}}) {
        auto run = m.meshlink(args);
        BOOST_TEST(run.exit_code == 0, run.err);
        output += run.out + run.err;
    }
    BOOST_TEST(output.find("PATCH") != std::string::npos); // -v 8 did log the requests
    for (std::size_t k = 0; k < keys.size(); ++k) {
        BOOST_TEST(!keys[k].empty());
        BOOST_TEST(!leaks(output, keys[k]), "key " << k << " appears in the output");
    }
}

BOOST_AUTO_TEST_CASE(a_timeout_names_the_cause) {
    auto a = mesh_cluster(1, 2);
    auto b = mesh_cluster(2, 2);
    b.ca = a.ca;
    a.agent_status =
        agent_status_document({"cluster2"}, false, "dial tcp 127.0.2.10:32380: connect: connection refused");
    Mesh m({a, b});
    auto joined = m.meshlink({"join", "kind-cluster2", "--yes", "--timeout", "3s"});
    BOOST_TEST(joined.exit_code == 1);
    BOOST_TEST(joined.err.find("cluster1 -> cluster2: 0/3 agents connected") != std::string::npos,
               joined.err);
    BOOST_TEST(joined.err.find("endpoint unreachable") != std::string::npos, joined.err);
    BOOST_TEST(joined.err.find("cluster2 -> cluster1") == std::string::npos); // that direction is fine
}

// One client per cluster per invocation: every user of the kubeconfig authenticates through an exec
// credential plugin that logs each run with the process that ran it. `join` (resolve, preflight, every step)
// runs it once per cluster; the kubectl processes join starts for `kubectl exec` run it on their own
// (kubectl, like every client-go program, caches exec credentials per process).
BOOST_AUTO_TEST_CASE(exec_credential_plugins_run_once_per_cluster_per_join) {
    const std::string token = "exec-token-5d1e07";
    MeshOptions options;
    options.admin_token = token;
    Mesh m({mesh_cluster(1, 2), mesh_cluster(2, 2)}, options);
    const auto log = m.dir().path() / "exec.log";
    // The parent's name tells the plugin's runs apart: kubectl-meshlink (cut to 15 characters by the kernel)
    // or kubectl.
    const auto plugin = m.dir().write("bin/count-exec",
                                      fmt::format(R"sh(#!/bin/sh
echo "$1 $(cat /proc/$PPID/comm)" >> '{}'
printf '{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"{}"}}}}\n'
)sh",
                                                  log.string(), token),
                                      true);
    const json view = kubeconfig_view(m);
    for (const auto& context : view["contexts"]) {
        const std::string user = context["context"]["user"].get<std::string>();
        for (const char* field : {"client-certificate-data", "client-key-data"}) {
            auto unset = m.kubectl({"config", "unset", fmt::format("users.{}.{}", user, field)});
            BOOST_REQUIRE_MESSAGE(unset.exit_code == 0, unset.err);
        }
        auto exec = m.kubectl({"config", "set-credentials", user, "--exec-command", plugin.string(),
                               "--exec-api-version", "client.authentication.k8s.io/v1", "--exec-arg",
                               context["name"].get<std::string>(), "--exec-interactive-mode", "Never"});
        BOOST_REQUIRE_MESSAGE(exec.exit_code == 0, exec.err);
    }
    // The kubeconfig now reaches the clusters through the plugin only.
    auto probe = m.kubectl({"--context", "kind-cluster2", "get", "nodes", "-o", "name"});
    BOOST_REQUIRE_MESSAGE(probe.exit_code == 0, probe.err);
    std::filesystem::remove(log);

    auto joined = m.meshlink({"join", "kind-cluster2", "--yes"});
    BOOST_REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
    std::map<std::string, int> by_meshlink;
    int by_kubectl = 0;
    std::istringstream lines(read_file(log));
    for (std::string context, parent; lines >> context >> parent;) {
        if (parent == "kubectl-meshlin") {
            ++by_meshlink[context];
        } else if (parent == "kubectl") {
            ++by_kubectl;
        }
    }
    BOOST_TEST(by_meshlink["kind-cluster1"] == 1);
    BOOST_TEST(by_meshlink["kind-cluster2"] == 1);
    BOOST_TEST(by_meshlink.size() == 2u);
    BOOST_TEST(by_kubectl > 0); // step 7's kubectl exec went through the same plugin
}

// (b) KUBECONFIG=cluster1.kubeconfig:cluster2.kubeconfig, each file naming its entries after the Cilium
// cluster name: the peer's entries live in the second file, and join recognises them there and keeps both
// files as they were.
BOOST_AUTO_TEST_CASE(entries_named_after_the_cluster_in_another_kubeconfig_file_are_kept) {
    Mesh m({mesh_cluster(1, 2), mesh_cluster(2, 2)});
    const auto first = file_of_its_own(m, 1, "cluster1");
    const auto second = file_of_its_own(m, 2, "cluster2");

    const std::string kubeconfig = "KUBECONFIG=" + first.string() + ":" + second.string();
    auto planned =
        m.meshlink({"join", "cluster2", "--context", "cluster1", "--dry-run"}, false, {kubeconfig});
    BOOST_REQUIRE_MESSAGE(planned.exit_code == 0, planned.err);
    BOOST_TEST(
        planned.err.find(fmt::format("[dry-run] cluster2: nothing to write: context \"cluster2\" already "
                                     "names this cluster in {}; kept as it is",
                                     second.string())) != std::string::npos,
        planned.err);
    const std::string output = join_rerun_leave(m, {"join", "cluster2", "--context", "cluster1", "--yes"},
                                                {"leave", "cluster2", "--context", "cluster1", "--yes"},
                                                {kubeconfig}, {first, second});
    BOOST_TEST(
        output.find(fmt::format("cluster2: kubeconfig: context \"cluster2\" already names this cluster in {}",
                                second.string())) != std::string::npos,
        output);
    BOOST_TEST(
        output.find(fmt::format("cluster1: kubeconfig: context \"cluster1\" already names this cluster in {}",
                                first.string())) != std::string::npos,
        output);
    BOOST_TEST(output.find("written to") == std::string::npos, output); // the join itself wrote no entry
}

// The same name already used for another cluster is a refusal: said once, naming the file that holds the
// other entries (not join's private input), nothing retried, no file changed.
BOOST_AUTO_TEST_CASE(a_name_taken_by_another_cluster_is_refused_at_once) {
    Mesh m({mesh_cluster(1, 2), mesh_cluster(2, 2)});
    const auto other = file_of_its_own(m, 1, "cluster2"); // cluster1's server and CA, under cluster2's name
    const std::string before[] = {read_file(m.kubeconfig()), read_file(other)};

    auto joined = m.meshlink({"join", "kind-cluster2", "--context", "kind-cluster1", "--yes", "-v", "4"},
                             false, {"KUBECONFIG=" + m.kubeconfig().string() + ":" + other.string()});
    const std::string output = joined.out + joined.err;
    BOOST_TEST(joined.exit_code != 0, output);
    // Each attempt of a step is logged at -v 4: step 3 ran once.
    std::size_t attempts = 0;
    for (auto at = output.find("kubeconfig: attempt "); at != std::string::npos;
         at = output.find("kubeconfig: attempt ", at + 1)) {
        ++attempts;
    }
    BOOST_TEST(attempts == 1u, output);
    BOOST_TEST(output.find("already has entries named \"cluster2\" for another cluster") != std::string::npos,
               output);
    BOOST_TEST(output.find(other.string()) != std::string::npos, output);
    BOOST_TEST(output.find("meshlink-join-") == std::string::npos, output);
    BOOST_TEST(output.find("retrying") == std::string::npos, output);
    BOOST_TEST(read_file(m.kubeconfig()) == before[0]);
    BOOST_TEST(read_file(other) == before[1]);
}

// Issue 9's matrix. (a) One merged file whose servers are loopback addresses (kind's): the entries named
// after the Cilium clusters are written with the exposed servers, and the message says why.
BOOST_AUTO_TEST_CASE(one_merged_file_with_loopback_servers_gets_entries_that_leave_removes) {
    Mesh m({mesh_cluster(1, 2), mesh_cluster(2, 2)});
    // The dry run shows the decision and its reason (the node port is not allocated yet).
    auto planned = m.meshlink({"join", "kind-cluster2", "--dry-run"});
    BOOST_REQUIRE_MESSAGE(planned.exit_code == 0, planned.err);
    BOOST_TEST(
        planned.err.find(fmt::format("[dry-run] cluster1: merge cluster, user and context \"cluster1\" "
                                     "(server https://127.0.1.10:<nodePort>) into {}: context "
                                     "\"kind-cluster1\" reaches it at https://127.0.0.1:",
                                     m.kubeconfig().string())) != std::string::npos,
        planned.err);
    const std::string output = join_rerun_leave(m, {"join", "kind-cluster2", "--yes"},
                                                {"leave", "kind-cluster2", "--yes"}, {}, {m.kubeconfig()});
    for (int i : {1, 2}) {
        BOOST_TEST(output.find(fmt::format("cluster{0}: kubeconfig entry \"cluster{0}\" written to {1}", i,
                                           m.kubeconfig().string())) != std::string::npos,
                   output);
        BOOST_TEST(output.find(fmt::format("context \"kind-cluster{}\" reaches it at https://127.0.0.1:",
                                           i)) != std::string::npos,
                   output);
    }
    BOOST_TEST(output.find("(loopback), an address other machines cannot reach") != std::string::npos,
               output);
}

// (c) Two KUBECONFIG files whose contexts have other names than the Cilium clusters: the entries go to the
// first file (the one kubectl writes new entries to), the second is never touched.
BOOST_AUTO_TEST_CASE(two_files_with_other_context_names) {
    Mesh m({mesh_cluster(1, 2), mesh_cluster(2, 2)});
    const auto first = file_of_its_own(m, 1, "east");
    const auto second = file_of_its_own(m, 2, "west");
    const std::vector<std::string> env{"KUBECONFIG=" + first.string() + ":" + second.string()};
    const std::string output =
        join_rerun_leave(m, {"join", "west", "--context", "east", "--yes"},
                         {"leave", "west", "--context", "east", "--yes"}, env, {first, second});
    for (int i : {1, 2}) {
        BOOST_TEST(output.find(fmt::format("cluster{0}: kubeconfig entry \"cluster{0}\" written to {1}", i,
                                           first.string())) != std::string::npos,
                   output);
    }
}

// (d) The peer from --peer-kubeconfig: its entries are written to the user's kubeconfig (the user has no
// context for it), the peer's file is only read.
BOOST_AUTO_TEST_CASE(a_peer_from_its_own_kubeconfig_file) {
    Mesh m({mesh_cluster(1, 2), mesh_cluster(2, 2)});
    const auto local = file_of_its_own(m, 1, "east");
    const auto peer = file_of_its_own(m, 2, "west");
    const std::vector<std::string> env{"KUBECONFIG=" + local.string()};
    const std::string output = join_rerun_leave(
        m, {"join", "west", "--context", "east", "--peer-kubeconfig", peer.string(), "--yes"},
        {"leave", "west", "--context", "east", "--peer-kubeconfig", peer.string(), "--yes"}, env,
        {local, peer});
    BOOST_TEST(output.find(fmt::format("cluster2: kubeconfig entry \"cluster2\" written to {}",
                                       local.string())) != std::string::npos,
               output);
    BOOST_TEST(output.find(fmt::format("its context \"west\" comes from {}, not from the user's kubeconfig",
                                       peer.string())) != std::string::npos,
               output);
}

BOOST_AUTO_TEST_SUITE_END()
