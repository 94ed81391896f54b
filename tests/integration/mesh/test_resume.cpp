// Resumability and robustness: join under injected API faults, join killed with SIGKILL in each step and run
// again, and the cilium CLI path through a stand-in (standin/cilium).
#include "tests/integration/mesh/harness.hpp"
#include "util/base64.hpp"
#include "util/fd.hpp"
#include "util/subprocess.hpp"

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>

using namespace meshlink::test;

namespace {

const std::string k_ns = "/api/v1/namespaces/kube-system";

// Runs `kubectl meshlink <args>` and SIGKILLs it as soon as its stderr shows `marker` and then one more line
// (so the step has begun its work). Returns whether it was killed (false: it finished first).
bool run_and_kill(const Mesh& m, const std::vector<std::string>& args, const std::string& marker) {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    meshlink::util::Fd read_end(fds[0]);
    meshlink::util::Fd write_end(fds[1]);
    std::vector<std::string> argv = {"kubectl", "meshlink"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto env = m.env();
    const auto kubectl = meshlink::util::find_executable("kubectl");
    BOOST_REQUIRE(kubectl.has_value());
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(write_end.get(), 2);
        const int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, 1);
        std::vector<char*> cargv;
        for (auto& a : argv) {
            cargv.push_back(const_cast<char*>(a.c_str()));
        }
        cargv.push_back(nullptr);
        std::vector<char*> cenv;
        for (auto& e : env) {
            cenv.push_back(const_cast<char*>(e.c_str()));
        }
        cenv.push_back(nullptr);
        ::execve(kubectl->c_str(), cargv.data(), cenv.data());
        ::_exit(127);
    }
    meshlink::util::ChildProcess child(pid);
    write_end.reset();
    std::string buffer;
    bool seen = false;
    int lines_after = 0;
    char chunk[4096];
    for (;;) {
        const ssize_t n = ::read(read_end.get(), chunk, sizeof(chunk));
        if (n <= 0) {
            child.wait_until(std::chrono::steady_clock::now() + std::chrono::seconds(60));
            return false;
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
        for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
            const std::string line = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            if (seen) {
                ++lines_after;
            }
            seen = seen || line.find(marker) != std::string::npos;
            if (seen && (lines_after >= 1 || marker.find("[7/7]") != std::string::npos)) {
                // The whole process group: kubectl and the plugin it runs.
                ::kill(pid, SIGKILL);
                child.kill_and_reap();
                // kubectl execs the plugin in place (syscall.Exec), so the pid is the plugin's.
                return true;
            }
        }
    }
}

void check_no_duplicates(const Mesh& m) {
    for (std::size_t i = 0; i < m.size(); ++i) {
        const json ds = m.get(i, "/apis/apps/v1/namespaces/kube-system/daemonsets/cilium");
        const json& aliases = ds["spec"]["template"]["spec"]["hostAliases"];
        BOOST_REQUIRE(aliases.is_array());
        BOOST_TEST(aliases.size() == m.size() - 1);
        std::set<std::string> ips;
        for (const auto& entry : aliases) {
            ips.insert(entry["ip"].get<std::string>());
            BOOST_TEST(entry["hostnames"].size() == 1U);
        }
        BOOST_TEST(ips.size() == aliases.size());
        const json journal = json::parse(
            m.get(i, k_ns + "/configmaps/meshlink-journal")["data"]["journal.json"].get<std::string>());
        std::set<std::string> ids;
        for (const auto& change : journal["changes"]) {
            BOOST_TEST(ids.insert(change["id"].get<std::string>()).second,
                       "duplicate journal change " << change["id"]);
            BOOST_TEST(change["state"] == "applied");
        }
        const json services = m.get(i, k_ns + "/services");
        int exposed = 0;
        for (const auto& service : services["items"]) {
            exposed +=
                service["metadata"]["name"].get<std::string>().starts_with("meshlink-apiserver") ? 1 : 0;
        }
        BOOST_TEST(exposed == 1);
    }
    auto contexts = m.kubectl({"config", "get-contexts", "-o", "name"});
    BOOST_TEST(contexts.out.find("cluster1-2") == std::string::npos);
    BOOST_TEST(contexts.out.find("cluster2-2") == std::string::npos);
}

// The stand-in cilium signs certificates with openssl.
boost::test_tools::assertion_result standin_can_run(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result result(meshlink::util::find_executable("openssl").has_value());
    result.message() << "the stand-in cilium needs openssl";
    return result;
}

// Helm-installed Cilium on both sides (the Cilium objects Helm-owned or not); cluster1 meshed already and
// serving on 32381, cluster2 without a clustermesh-apiserver.
std::pair<CiliumClusterSpec, CiliumClusterSpec> helm_pair(bool helm_owned_objects) {
    auto a = mesh_cluster(1, 2);
    auto b = mesh_cluster(2, 2);
    for (auto* s : {&a, &b}) {
        s->helm_release = true;
        s->helm_owned_objects = helm_owned_objects;
    }
    a.clustermesh_node_port = 32381;
    b.clustermesh_node_port.reset();
    return {a, b};
}

} // namespace

BOOST_AUTO_TEST_SUITE(mesh_resume)

BOOST_AUTO_TEST_CASE(join_converges_under_injected_faults) {
    auto a = mesh_cluster(1, 2);
    auto b = mesh_cluster(2, 2);
    b.ca = a.ca;
    Mesh m({a, b}, MeshOptions{"rate=0.2,seed=7", 0, ""});
    auto joined = m.meshlink({"join", "kind-cluster2", "--yes"});
    BOOST_REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
    BOOST_TEST(m.stats(0).value("POST", 0) > 0);
    check_no_duplicates(m);
    auto left = m.meshlink({"leave", "kind-cluster2", "--yes"});
    BOOST_TEST(left.exit_code == 0, left.err);
}

BOOST_AUTO_TEST_CASE(killed_in_each_step_a_rerun_completes_and_leave_restores_everything) {
    auto a = mesh_cluster(1, 2);
    auto b = mesh_cluster(2, 2);
    Mesh m({a, b},
           MeshOptions{"", 15, ""}); // latency keeps each step busy long enough to be killed inside it
    const std::vector<json> before = {m.dump(0), m.dump(1)};
    const std::string contexts = m.kubectl({"config", "get-contexts", "-o", "name"}).out;
    for (int step = 2; step <= 7; ++step) {
        BOOST_TEST_CONTEXT("killed in step " << step) {
            const bool killed =
                run_and_kill(m, {"join", "kind-cluster2", "--yes"}, fmt::format("[{}/7]", step));
            BOOST_TEST(killed);
            auto rerun = m.meshlink({"join", "kind-cluster2", "--yes"});
            BOOST_REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.err);
            check_no_duplicates(m);
            auto left = m.meshlink({"leave", "kind-cluster2", "--yes"});
            BOOST_REQUIRE_MESSAGE(left.exit_code == 0, left.err);
            for (std::size_t i = 0; i < 2; ++i) {
                const json after = m.dump(i);
                BOOST_TEST(after == before[i],
                           "cluster " << i + 1 << ": " << json::diff(before[i], after).dump());
            }
            BOOST_TEST(m.kubectl({"config", "get-contexts", "-o", "name"}).out == contexts);
        }
    }
}

BOOST_AUTO_TEST_CASE(cilium_cli_backend_runs_the_documented_commands,
                     *boost::unit_test::precondition(&standin_can_run)) {
    auto [a, b] = helm_pair(true);
    b.ca = a.ca;

    {
        Mesh failing({a, b});
        auto joined = failing.meshlink({"join", "kind-cluster2", "--backend", "cilium-cli", "--yes"}, true,
                                       {"MESHLINK_STANDIN_FAIL=enable"});
        BOOST_TEST(joined.exit_code == 2);
        BOOST_TEST(
            joined.err.find(
                "`cilium clustermesh enable --context kind-cluster2 --service-type NodePort` failed") !=
                std::string::npos,
            joined.err);
        std::ifstream log(failing.standin_log());
        const std::string text{std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>()};
        BOOST_TEST(
            text ==
            "cilium clustermesh enable --context kind-cluster2 --service-type NodePort\n"); // and nothing
                                                                                            // after
    }

    Mesh m({a, b});
    auto joined = m.meshlink({"join", "kind-cluster2", "--backend", "cilium-cli", "--yes"}, true);
    BOOST_REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
    std::ifstream log(m.standin_log());
    const std::string text{std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>()};
    BOOST_TEST(text ==
               "cilium clustermesh enable --context kind-cluster2 --service-type NodePort\n"
               "cilium clustermesh connect --context kind-cluster1 --destination-context kind-cluster2\n");
    // What the (stand-in) tool made is Helm's, and meshlink wrote none of the mesh objects itself.
    const json secret = m.get(0, k_ns + "/secrets/cilium-clustermesh");
    BOOST_REQUIRE(secret.is_object());
    BOOST_TEST(secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm");
    BOOST_TEST(secret_value(secret, "cluster2").find("https://cluster2.mesh.cilium.io:32379") !=
               std::string::npos);
    // A re-run runs no tool and writes nothing.
    const long writes[] = {m.writes(0), m.writes(1)};
    auto again = m.meshlink({"join", "kind-cluster2", "--backend", "cilium-cli", "--yes"}, true);
    BOOST_REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    BOOST_TEST(m.writes(0) == writes[0]);
    BOOST_TEST(m.writes(1) == writes[1]);
    // leave goes through the tool as well.
    auto left = m.meshlink({"leave", "kind-cluster2", "--yes"}, true);
    BOOST_REQUIRE_MESSAGE(left.exit_code == 0, left.err);
    std::ifstream after(m.standin_log());
    const std::string all{std::istreambuf_iterator<char>(after), std::istreambuf_iterator<char>()};
    BOOST_TEST(
        all.find(
            "cilium clustermesh disconnect --context kind-cluster1 --destination-context kind-cluster2\n") !=
        std::string::npos);
    BOOST_TEST(all.find("cilium clustermesh disable --context kind-cluster2\n") != std::string::npos);
}

// A peer from --peer-kubeconfig driven by the cilium CLI: connect and disconnect name a context of that
// file, so the tool is given both files (the stand-in, like the real CLI, reads the destination through
// KUBECONFIG).
BOOST_AUTO_TEST_CASE(cilium_cli_connect_finds_a_peer_from_its_own_kubeconfig_file,
                     *boost::unit_test::precondition(&standin_can_run)) {
    auto [a, b] = helm_pair(true);
    b.ca = a.ca;
    Mesh m({a, b});
    std::vector<std::filesystem::path> files;
    for (int i : {1, 2}) {
        auto view = m.kubectl({"config", "view", "--flatten", "--raw", "--minify", "--context",
                               fmt::format("kind-cluster{}", i)});
        BOOST_REQUIRE_MESSAGE(view.exit_code == 0, view.err);
        files.push_back(m.dir().write(fmt::format("only-{}.kubeconfig", i), view.out));
    }
    const std::vector<std::string> env{"KUBECONFIG=" + files[0].string()};
    auto joined = m.meshlink({"join", "west", "--context", "kind-cluster1", "--peer-kubeconfig",
                              files[1].string(), "--backend", "cilium-cli", "--yes"},
                             true, env);
    BOOST_REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
    auto left = m.meshlink(
        {"leave", "west", "--context", "kind-cluster1", "--peer-kubeconfig", files[1].string(), "--yes"},
        true, env);
    BOOST_REQUIRE_MESSAGE(left.exit_code == 0, left.err);
    std::ifstream log(m.standin_log());
    const std::string all{std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>()};
    BOOST_TEST(
        all.find(
            "cilium clustermesh connect --context kind-cluster1 --destination-context kind-cluster2\n") !=
            std::string::npos,
        all);
    BOOST_TEST(all.find("cilium clustermesh disconnect --context kind-cluster1 --destination-context "
                        "kind-cluster2\n") != std::string::npos,
               all);
}

BOOST_AUTO_TEST_CASE(a_peer_not_yet_enabled_gets_the_local_ca_before_enable_and_leave_restores_its_own,
                     *boost::unit_test::precondition(&standin_can_run)) {
    // Helm installs whose cilium-ca is not Helm-rendered (e.g. created by cilium-certgen before install),
    // different CAs, and the peer without a clustermesh-apiserver: the documented approach copies the local
    // CA to the peer before enabling, so both clustermesh-apiservers end up with certificates of one CA.
    auto [a, b] = helm_pair(false);
    BOOST_REQUIRE(a.ca->cert_pem != b.ca->cert_pem);
    Mesh m({a, b});
    const std::vector<json> before = {m.dump(0), m.dump(1)};

    auto joined = m.meshlink({"join", "kind-cluster2", "--backend", "cilium-cli", "--yes"}, true);
    BOOST_REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
    BOOST_TEST(joined.out.find("got cluster1's cilium-ca before its clustermesh-apiserver is enabled") !=
                   std::string::npos,
               joined.out);
    const json ca = m.get(1, k_ns + "/secrets/cilium-ca");
    BOOST_REQUIRE(ca.is_object());
    BOOST_TEST(secret_value(ca, "ca.crt") == a.ca->cert_pem);
    BOOST_TEST(secret_value(ca, "ca.key") == a.ca->key_pem);
    // The copy came before enable: the certificates the (stand-in) enable issued chain to cluster1's CA.
    const json server_cert = m.get(1, k_ns + "/secrets/clustermesh-apiserver-server-cert");
    BOOST_REQUIRE(server_cert.is_object());
    BOOST_TEST(secret_value(server_cert, "ca.crt") == a.ca->cert_pem);
    std::ifstream log(m.standin_log());
    const std::string text{std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>()};
    BOOST_TEST(text ==
               "cilium clustermesh enable --context kind-cluster2 --service-type NodePort\n"
               "cilium clustermesh connect --context kind-cluster1 --destination-context kind-cluster2\n");

    auto left = m.meshlink({"leave", "kind-cluster2", "--yes"}, true);
    BOOST_REQUIRE_MESSAGE(left.exit_code == 0, left.err);
    // What meshlink wrote itself is back as it was (what the stand-in tool's disconnect/disable leave behind
    // is the tool's business: an emptied cilium-clustermesh Secret and empty hostAliases).
    for (std::size_t i = 0; i < 2; ++i) {
        const json after = m.dump(i);
        for (const char* key :
             {"Secret/kube-system/cilium-ca", "Service/kube-system/meshlink-apiserver",
              "ConfigMap/kube-system/meshlink-journal", "Secret/kube-system/meshlink-journal-secrets"}) {
            BOOST_TEST(after.value(key, json()) == before[i].value(key, json()),
                       "cluster " << i + 1 << ": " << key);
        }
    }
    BOOST_TEST(secret_value(m.get(1, k_ns + "/secrets/cilium-ca"), "ca.key") == b.ca->key_pem);
}

BOOST_AUTO_TEST_CASE(helm_values_holding_the_ca_key_reach_helm_on_stdin_never_in_a_file,
                     *boost::unit_test::precondition(&standin_can_run)) {
    // Helm renders cilium-ca in both clusters and their CAs differ: cluster2 gets cluster1's CA, key
    // included, through the chart's tls.ca values. Those values used to go through a file in $TMPDIR, which
    // Ctrl-C or kill -9 could leave behind.
    auto [a, b] = helm_pair(true);
    BOOST_REQUIRE(a.ca->key_pem != b.ca->key_pem);
    Mesh m({a, b});
    const std::filesystem::path tmp = m.dir().path() / "tmp";
    std::filesystem::create_directories(tmp);

    auto joined = m.meshlink({"join", "kind-cluster2", "--backend", "cilium-cli", "--yes"}, true,
                             {"TMPDIR=" + tmp.string()});
    BOOST_REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
    std::ifstream log(m.standin_log());
    const std::string text{std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>()};
    // helm was told to read stdin, and its stdin was memory, not a file on disk.
    BOOST_TEST(
        text.find(" --namespace kube-system --kube-context kind-cluster2 --reuse-values --values -\n") !=
            std::string::npos,
        text);
    const auto stdin_at = text.find("helm values: stdin (");
    BOOST_TEST_REQUIRE(stdin_at != std::string::npos, text);
    const std::string source = text.substr(stdin_at, text.find('\n', stdin_at) - stdin_at);
    BOOST_TEST((source.starts_with("helm values: stdin (/memfd:") || source.ends_with("(deleted))")), source);
    BOOST_TEST(text.find("helm values: file") == std::string::npos, text);
    // While helm ran, no file under $TMPDIR held the key it was given.
    BOOST_TEST(text.find("helm files holding tls.ca.key: none\n") != std::string::npos, text);
    // What helm received: cluster1's CA, key included; and the chart (here the stand-in) rendered it.
    std::ifstream values_log(m.standin_log().string() + ".helm-values");
    std::string line;
    BOOST_REQUIRE(std::getline(values_log, line));
    const json values = json::parse(line);
    BOOST_TEST(values["tls"]["ca"]["key"] == meshlink::util::base64_encode(a.ca->key_pem));
    BOOST_TEST(values["tls"]["ca"]["cert"] == meshlink::util::base64_encode(a.ca->cert_pem));
    BOOST_TEST(secret_value(m.get(1, k_ns + "/secrets/cilium-ca"), "ca.key") == a.ca->key_pem);
    // Nothing of it printed, and nothing left in $TMPDIR.
    BOOST_TEST(!leaks(joined.out + joined.err, a.ca->key_pem));
    BOOST_TEST(std::filesystem::is_empty(tmp));
}

BOOST_AUTO_TEST_SUITE_END()
