// The real data path: a real etcd (Debian etcd-server) stands for the peer's clustermesh-apiserver, with the
// server certificate and CA the peer's Secrets hold, listening on the peer node's IP and NodePort inside a
// network + mount namespace this test creates. In there, /etc/hosts says what the hostAliases join wrote say,
// /var/lib/cilium/clustermesh holds the files the agent's projected volume would make of the Secrets join
// wrote, and a real etcdctl uses exactly the endpoint, CA, certificate and key of the entry join wrote. A
// wrong CA, a wrong SAN or a wrong port makes it fail, which the negative cases prove. Needs root (unshare,
// ip).
#include "kube/pki.hpp"
#include "tests/integration/mesh/harness.hpp"
#include "util/subprocess.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <sstream>

using namespace meshlink::test;
namespace pki = meshlink::kube::pki;
namespace fs = std::filesystem;

namespace {

const std::string k_ns = "/api/v1/namespaces/kube-system";

boost::test_tools::assertion_result datapath_possible(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result ok(true);
    if (::geteuid() != 0) {
        ok = false;
        ok.message() << "needs root for unshare --net --mount";
    }
    for (const char* tool : {"etcd", "etcdctl", "unshare", "ip"}) {
        if (!meshlink::util::find_executable(tool)) {
            ok = false;
            ok.message() << " " << tool << " is not installed (scripts/install-deps)";
        }
    }
    return ok;
}

// A cluster whose node addresses differ from the other mesh tests' (127.0.<n>.x), so that fakekube's
// listeners for exposed API servers never collide with theirs when CTest runs both at once. They stay on
// loopback: join connects to a node address while exposing the API server, and tests never reach beyond
// 127.0.0.0/8. The namespace puts the peer's node IP on its own loopback and resolves the peer's name to it.
CiliumClusterSpec datapath_cluster(int index) {
    CiliumClusterSpec s = mesh_cluster(index, 2);
    for (std::size_t n = 0; n < s.nodes.size(); ++n) {
        s.nodes[n].internal_ip = fmt::format("127.1.{}.{}", index, 10 + n);
    }
    return s;
}

// "key: value" of the etcd config; the first "- " line after endpoints: for "endpoints".
std::string config_field(const std::string& config, const std::string& field) {
    std::istringstream in(config);
    std::string line;
    bool endpoints = false;
    while (std::getline(in, line)) {
        if (field == "endpoints" && endpoints && line.starts_with("- ")) {
            return line.substr(2);
        }
        endpoints = line == "endpoints:";
        if (line.starts_with(field + ": ")) {
            return line.substr(field.size() + 2);
        }
    }
    return {};
}

struct Setup {
    std::string config;                       // the entry join wrote for the peer
    std::map<std::string, std::string> files; // /var/lib/cilium/clustermesh/<name> -> content
    std::string hosts;                        // /etc/hosts from the hostAliases
    std::vector<std::string> alias_ips;
    std::string server_cert, server_key, server_ca;
    int port = 0;
};

// What cluster1's agents would see, and what cluster2's clustermesh-apiserver serves with.
Setup setup_from(const Mesh& m) {
    Setup s;
    const json clustermesh = m.get(0, k_ns + "/secrets/cilium-clustermesh");
    for (const auto& [key, value] : clustermesh["data"].items()) {
        s.files[key] = secret_value(clustermesh, key);
    }
    // The DaemonSet's projected volume maps the local remote cert onto the common-etcd-client files.
    const json remote = m.get(0, k_ns + "/secrets/clustermesh-apiserver-remote-cert");
    s.files["common-etcd-client.key"] = secret_value(remote, "tls.key");
    s.files["common-etcd-client.crt"] = secret_value(remote, "tls.crt");
    s.files["common-etcd-client-ca.crt"] = secret_value(remote, "ca.crt");
    s.config = s.files.at("cluster2");
    s.hosts = "127.0.0.1 localhost\n";
    const json ds = m.get(0, "/apis/apps/v1/namespaces/kube-system/daemonsets/cilium");
    for (const auto& alias : ds["spec"]["template"]["spec"]["hostAliases"]) {
        for (const auto& name : alias["hostnames"]) {
            s.hosts += alias["ip"].get<std::string>() + " " + name.get<std::string>() + "\n";
        }
        s.alias_ips.push_back(alias["ip"].get<std::string>());
    }
    const json server = m.get(1, k_ns + "/secrets/clustermesh-apiserver-server-cert");
    s.server_cert = secret_value(server, "tls.crt");
    s.server_key = secret_value(server, "tls.key");
    s.server_ca = secret_value(server, "ca.crt");
    s.port = m.get(1, k_ns + "/services/clustermesh-apiserver")["spec"]["ports"][0]["nodePort"].get<int>();
    return s;
}

// Runs etcd (listening on `listen_ip`:`port`) and etcdctl in a fresh network + mount namespace. Returns
// etcdctl's result: exit 0 and the value read back when the data path works.
CommandResult run_datapath(const Setup& s, const std::string& listen_ip, int port) {
    TempDirectory dir;
    dir.write("hosts", s.hosts);
    for (const auto& [name, content] : s.files) {
        dir.write("files/" + name, content);
    }
    dir.write("server.crt", s.server_cert);
    dir.write("server.key", s.server_key);
    dir.write("server-ca.crt", s.server_ca);
    std::string add_ips;
    for (const auto& ip : s.alias_ips) {
        add_ips += fmt::format("ip addr add {}/32 dev lo\n", ip);
    }
    const std::string script = fmt::format(R"(set -eu
D={0}
mount --make-rprivate /
ip link set lo up
{1}
mount --bind "$D/hosts" /etc/hosts
# The agent's projected volume: the Secret keys as files under /var/lib/cilium/clustermesh.
mount -t tmpfs tmpfs /var/lib
mkdir -p /var/lib/cilium/clustermesh
cp "$D"/files/* /var/lib/cilium/clustermesh/
etcd --name peer --data-dir "$D/etcd" --listen-peer-urls http://127.0.0.1:2380 \
  --listen-client-urls https://{2}:{3} --advertise-client-urls https://{2}:{3} \
  --cert-file "$D/server.crt" --key-file "$D/server.key" --trusted-ca-file "$D/server-ca.crt" --client-cert-auth \
  > "$D/etcd.log" 2>&1 &
ETCD=$!
ready=0
for i in $(seq 1 600); do
  if grep -q "ready to serve client requests" "$D/etcd.log"; then ready=1; break; fi
  sleep 0.1
done
if [ $ready -ne 1 ]; then echo "etcd did not start:" >&2; tail -n 20 "$D/etcd.log" >&2; kill $ETCD; exit 97; fi
set +e
ETCDCTL_API=3 etcdctl --endpoints="$ENDPOINT" --cacert="$CACERT" --cert="$CERT" --key="$KEY" \
  --dial-timeout=3s --command-timeout=6s put meshlink/datapath joined >&2
rc=$?
if [ $rc -eq 0 ]; then
  ETCDCTL_API=3 etcdctl --endpoints="$ENDPOINT" --cacert="$CACERT" --cert="$CERT" --key="$KEY" \
    --dial-timeout=3s --command-timeout=6s get meshlink/datapath --print-value-only
  rc=$?
fi
kill $ETCD; wait $ETCD 2>/dev/null || true
if [ $rc -ne 0 ]; then echo "--- etcd log:" >&2; tail -n 5 "$D/etcd.log" >&2; getent hosts cluster2.mesh.cilium.io >&2 || true; fi
exit $rc
)",
                                           dir.path().string(), add_ips, listen_ip, port);
    const auto path = dir.write("datapath.sh", script);
    const std::vector<std::string> env = environment_with({
        "ENDPOINT=" + config_field(s.config, "endpoints"),
        "CACERT=" + config_field(s.config, "trusted-ca-file"),
        "CERT=" + config_field(s.config, "cert-file"),
        "KEY=" + config_field(s.config, "key-file"),
    });
    auto result = run_command({"unshare", "--net", "--mount", "/bin/sh", path.string()}, env,
                              std::chrono::seconds(120));
    BOOST_REQUIRE_MESSAGE(result.has_value(), error_message(result));
    // 97: etcd itself never came up; no verdict on the data path is possible (and a negative case must not
    // pass for that reason).
    BOOST_REQUIRE_MESSAGE(result->exit_code != 97, result->err);
    return *result;
}

void exercise(const Mesh& m, bool per_peer) {
    const Setup s = setup_from(m);
    BOOST_TEST((s.files.contains("cluster2.etcd-client.key")) == per_peer);
    BOOST_TEST(config_field(s.config, "endpoints") ==
               fmt::format("https://cluster2.mesh.cilium.io:{}", s.port));
    BOOST_REQUIRE(!s.alias_ips.empty());
    BOOST_TEST(s.alias_ips.front() == "127.1.2.10");

    auto works = run_datapath(s, s.alias_ips.front(), s.port);
    BOOST_TEST(works.exit_code == 0, works.err);
    BOOST_TEST(works.out == "joined\n");

    // A wrong port: the peer serves elsewhere.
    auto wrong_port = run_datapath(s, s.alias_ips.front(), s.port + 1);
    BOOST_TEST(wrong_port.exit_code != 0);

    // A wrong CA: the file the entry trusts holds another CA.
    Setup other_ca = s;
    const std::string trusted = fs::path(config_field(s.config, "trusted-ca-file")).filename().string();
    other_ca.files[trusted] = make_cilium_ca().cert_pem;
    auto wrong_ca = run_datapath(other_ca, s.alias_ips.front(), s.port);
    BOOST_TEST(wrong_ca.exit_code != 0);
    BOOST_TEST(wrong_ca.err.find("certificate") != std::string::npos, wrong_ca.err);

    // A wrong SAN: the peer's server certificate does not name <peer>.mesh.cilium.io.
    Setup other_san = s;
    pki::CertificateSpec spec;
    spec.common_name = "clustermesh-apiserver.cilium.io";
    spec.dns_names = {"clustermesh-apiserver.cilium.io", "clustermesh-apiserver.kube-system.svc"};
    spec.ext_key_usage = {pki::ExtKeyUsage::server_auth};
    const auto ca = pki::KeyPair{s.server_ca, m.spec(1).ca->key_pem};
    auto leaf = pki::generate_signed(spec, ca);
    BOOST_REQUIRE(leaf.has_value());
    other_san.server_cert = leaf->cert_pem;
    other_san.server_key = leaf->key_pem;
    auto wrong_san = run_datapath(other_san, s.alias_ips.front(), s.port);
    BOOST_TEST(wrong_san.exit_code != 0);
}

} // namespace

BOOST_AUTO_TEST_SUITE(mesh_datapath, *boost::unit_test::precondition(&datapath_possible))

BOOST_AUTO_TEST_CASE(etcdctl_reaches_the_peer_with_per_peer_certificates) {
    auto a = datapath_cluster(1);
    auto b = datapath_cluster(2);
    Mesh m({a, b});
    auto joined = m.meshlink({"join", "kind-cluster2", "--yes"});
    BOOST_REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
    exercise(m, true);
}

BOOST_AUTO_TEST_CASE(etcdctl_reaches_the_peer_with_the_shared_ca) {
    auto a = datapath_cluster(1);
    auto b = datapath_cluster(2);
    b.ca = a.ca;
    Mesh m({a, b});
    auto joined = m.meshlink({"join", "kind-cluster2", "--yes"});
    BOOST_REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
    exercise(m, false);
}

BOOST_AUTO_TEST_SUITE_END()
