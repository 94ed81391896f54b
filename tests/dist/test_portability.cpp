// The release binaries run on any Linux: the amd64 plugin in a Debian 11 root (glibc 2.31, with an
// nsswitch.conf that names libnss-myhostname, as RHEL's does) and in an empty root (the binary, a kubeconfig
// and a CA file); the arm64 plugin the same under qemu-aarch64-static. Each runs `version`, `kubeconfig list`
// and a `preflight` against fakekube (on this machine's loopback, shared with the chroot). Host names resolve
// like kubectl: /etc/hosts, then DNS through dnsmasq, and a failing AAAA lookup never fails the A answer.

#include "tests/dist/dist_support.hpp"
#include "tests/integration/support/cilium_cluster.hpp"
#include "util/subprocess.hpp"

#include <fstream>

using namespace meshlink;
using namespace meshlink::test;
using namespace meshlink::test::dist;
namespace fs = std::filesystem;

namespace {

// A kubeconfig for `server` whose cluster's server URL uses `host` (default: the server's own 127.0.0.1 URL),
// with the CA inline or (ca_inline=false) not at all.
std::string kubeconfig_for(const FakekubeProcess& server, const std::string& host = "",
                           bool ca_inline = true) {
    std::string text = read_file(server.kubeconfig());
    if (!host.empty()) {
        const std::string from = "https://127.0.0.1:";
        for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + 1)) {
            text.replace(at, from.size(), "https://" + host + ":");
        }
    }
    if (!ca_inline) {
        // The whole line, its indentation included.
        const auto at = text.rfind('\n', text.find("certificate-authority-data:")) + 1;
        const auto end = text.find('\n', at);
        text.erase(at, end - at + 1);
    }
    return text;
}

struct Cluster {
    TempDirectory dir;
    std::optional<FakekubeProcess> server;
    Cluster() {
        auto started = FakekubeProcess::start(fakekube_options(healthy_cluster(1), dir));
        BOOST_TEST_REQUIRE(started.has_value(), error_message(started));
        server.emplace(std::move(*started));
    }
};

// The three commands of the issue in `root`, with the binary at /kubectl-meshlink and the kubeconfig at
// /kubeconfig.
void runs_the_three_commands(const fs::path& root, const std::string& arch) {
    const std::vector<std::string> env{"PATH=/bin:/usr/bin", "NO_COLOR=1", "KUBECONFIG=/kubeconfig"};
    const auto version = run_in_root(root, arch, {"/kubectl-meshlink", "version"}, env);
    BOOST_TEST(version.exit_code == 0, version.err);
    BOOST_TEST(version.out.starts_with("kubectl-meshlink "), version.out);
    const auto list = run_in_root(root, arch, {"/kubectl-meshlink", "kubeconfig", "list"}, env);
    BOOST_TEST(list.exit_code == 0, list.err);
    BOOST_TEST(list.out.find("cluster1") != std::string::npos, list.out);
    const auto preflight = run_in_root(root, arch, {"/kubectl-meshlink", "preflight", "-o", "json"}, env);
    // 0 all pass, 1 a check failed (one cluster cannot be meshed with itself): either way it talked to
    // fakekube.
    BOOST_TEST((preflight.exit_code == 0 || preflight.exit_code == 1), preflight.err);
    BOOST_TEST(preflight.out.find("\"cluster.api.reachable\"") != std::string::npos, preflight.out);
    BOOST_TEST(preflight.out.find("\"pass\"") != std::string::npos, preflight.out);
}

void install_plugin(const std::string& arch, const fs::path& root) {
    const TempDirectory unpacked;
    extract(*archive(arch), unpacked.path());
    fs::copy_file(unpacked.path() / "kubectl-meshlink", root / "kubectl-meshlink",
                  fs::copy_options::overwrite_existing);
}

// The Debian 11 root of scripts/make-test-root (debootstrap, cached), made on first use; nullopt when it
// cannot be made here (the script's message says why).
const std::optional<fs::path>& debian11_root() {
    static const std::optional<fs::path> root = []() -> std::optional<fs::path> {
        auto made = run_command({fs::path(MESHLINK_SOURCE_DIR).string() + "/scripts/make-test-root"},
                                environment_with({}), std::chrono::seconds(1200));
        if (!made || made->exit_code != 0) {
            return std::nullopt;
        }
        std::string path = made->out;
        while (!path.empty() && path.back() == '\n') {
            path.pop_back();
        }
        return fs::path(path);
    }();
    return root;
}

boost::test_tools::assertion_result have_debian11_root(boost::unit_test::test_unit_id) {
    if (debian11_root()) {
        return true;
    }
    boost::test_tools::assertion_result skipped(false);
    skipped.message()
        << "no Debian 11 root: scripts/make-test-root failed (debootstrap or a Debian mirror missing)";
    return skipped;
}

void in_debian11(const std::string& arch) {
    const fs::path root = *debian11_root();
    BOOST_TEST(read_file(root / "etc/nsswitch.conf").find("myhostname") != std::string::npos);
    Cluster cluster;
    std::ofstream(root / "kubeconfig") << kubeconfig_for(*cluster.server);
    install_plugin(arch, root);
    runs_the_three_commands(root, arch);
    // A name from the root's /etc/hosts (files first, like kubectl), in a root where an NSS call would abort;
    // "kubernetes" is one of the names in fakekube's serving certificate. The cached root gets its own hosts
    // file back afterwards.
    const std::string hosts = read_file(root / "etc/hosts");
    std::ofstream(root / "etc/hosts") << hosts << "127.0.0.1 kubernetes\n";
    std::ofstream(root / "kubeconfig") << kubeconfig_for(*cluster.server, "kubernetes");
    const auto named = run_in_root(root, arch, {"/kubectl-meshlink", "preflight", "-o", "json"},
                                   {"PATH=/bin:/usr/bin", "KUBECONFIG=/kubeconfig"});
    std::ofstream(root / "etc/hosts") << hosts;
    BOOST_TEST((named.exit_code == 0 || named.exit_code == 1), named.err);
    BOOST_TEST(named.out.find("\"cluster.api.reachable\"") != std::string::npos, named.err);
    fs::remove(root / "kubectl-meshlink");
    fs::remove(root / "kubeconfig");
    fs::remove(root / "qemu-aarch64-static");
}

void in_empty_root(const std::string& arch) {
    Cluster cluster;
    const TempDirectory root;
    install_plugin(arch, root.path());
    // The kubeconfig names no CA: the binary must find the CA file where Go would, /etc/ssl/certs first.
    const auto ca = cluster.server->ca_pem();
    BOOST_TEST_REQUIRE(ca.has_value());
    root.write("etc/ssl/certs/ca-certificates.crt", *ca);
    root.write("kubeconfig", kubeconfig_for(*cluster.server, "", false));
    runs_the_three_commands(root.path(), arch);
}

} // namespace

BOOST_AUTO_TEST_SUITE(portability, *boost::unit_test::precondition(is_root))

BOOST_AUTO_TEST_CASE(release_binaries_are_fully_static,
                     *boost::unit_test::precondition(have_archive("amd64"))) {
    for (const std::string arch : {"amd64", "arm64"}) {
        if (!archive(arch)) {
            continue;
        }
        const TempDirectory unpacked;
        extract(*archive(arch), unpacked.path());
        for (const auto* binary : {"kubectl-meshlink", "meshlink-agent"}) {
            auto headers =
                run_command({"readelf", "-ld", (unpacked.path() / binary).string()}, environment_with({}));
            BOOST_TEST_REQUIRE(headers.has_value());
            BOOST_TEST(headers->out.find("INTERP") == std::string::npos,
                       arch << " " << binary << " has an interpreter");
            BOOST_TEST(headers->out.find("NEEDED") == std::string::npos,
                       arch << " " << binary << " needs libraries");
        }
    }
}

BOOST_AUTO_TEST_CASE(amd64_plugin_runs_in_a_debian_11_root,
                     *boost::unit_test::precondition(have_archive("amd64")) *
                         boost::unit_test::precondition(have_debian11_root)) {
    in_debian11("amd64");
}

BOOST_AUTO_TEST_CASE(amd64_plugin_runs_in_an_empty_root,
                     *boost::unit_test::precondition(have_archive("amd64"))) {
    in_empty_root("amd64");
}

BOOST_AUTO_TEST_CASE(arm64_plugin_runs_in_an_empty_root_under_qemu,
                     *boost::unit_test::precondition(have_archive("arm64")) *
                         boost::unit_test::precondition(
                             have_program("qemu-aarch64-static",
                                          "package qemu-user-static; scripts/install-deps --dist"))) {
    in_empty_root("arm64");
}

BOOST_AUTO_TEST_CASE(arm64_plugin_runs_in_a_debian_11_root_under_qemu,
                     *boost::unit_test::precondition(have_archive("arm64")) *
                         boost::unit_test::precondition(
                             have_program("qemu-aarch64-static",
                                          "package qemu-user-static; scripts/install-deps --dist")) *
                         boost::unit_test::precondition(have_debian11_root)) {
    in_debian11("arm64");
}

// The bundled OpenSSL never reads an OpenSSL configuration (a host's crypto policies or engines): with
// OPENSSL_CONF naming a file, the plugin talks to fakekube without ever opening it. The development build,
// through the system's libcurl and OpenSSL, does open it: the check can tell them apart.
BOOST_AUTO_TEST_CASE(the_plugin_never_opens_an_openssl_configuration,
                     *boost::unit_test::precondition(have_archive("amd64")) *
                         boost::unit_test::precondition(
                             have_program("strace", "package strace; scripts/install-deps --dist"))) {
    Cluster cluster;
    const TempDirectory unpacked;
    extract(*archive("amd64"), unpacked.path());
    const fs::path config = unpacked.write("openssl.cnf", "openssl_conf = meshlink_test\n[meshlink_test]\n");
    auto traced =
        run_command({"strace", "-f", "-e", "trace=open,openat", "-o", (unpacked.path() / "trace").string(),
                     (unpacked.path() / "kubectl-meshlink").string(), "version", "--server"},
                    environment_with({"OPENSSL_CONF=" + config.string(),
                                      "KUBECONFIG=" + cluster.server->kubeconfig().string()}));
    BOOST_TEST_REQUIRE(traced.has_value(), error_message(traced));
    BOOST_TEST(traced->exit_code == 0, traced->err);
    BOOST_TEST(traced->out.find("Server Version:") != std::string::npos, traced->out);
    const std::string trace = read_file(unpacked.path() / "trace");
    BOOST_TEST(trace.find("openat(") != std::string::npos); // the trace did record the run's opens
    BOOST_TEST(trace.find(config.string()) == std::string::npos, trace);
}

BOOST_AUTO_TEST_CASE(the_static_agent_probes_this_machine,
                     *boost::unit_test::precondition(have_archive("amd64"))) {
    const TempDirectory unpacked;
    extract(*archive("amd64"), unpacked.path());
    auto probed =
        run_command({(unpacked.path() / "meshlink-agent").string(), "probe", "-o", "json", "--skip-bpf"},
                    environment_with({}));
    BOOST_TEST_REQUIRE(probed.has_value());
    BOOST_TEST((probed->exit_code == 0 || probed->exit_code == 1), probed->err);
    BOOST_TEST(probed->out.find("\"kernel\"") != std::string::npos, probed->out);
}

BOOST_AUTO_TEST_SUITE_END()
