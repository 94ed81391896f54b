// Host names in kubeconfigs resolve like kubectl's: /etc/hosts, then DNS. Here the DNS server is dnsmasq on
// loopback (in a network namespace of this test's own), answering the A query for the API server's name and
// refusing the AAAA query, the answer some resolvers give and musl's resolver turns into a failed lookup. The
// static plugin (c-ares) must use the A answer; a name nobody knows must fail with a resolve error.

#include "tests/dist/dist_support.hpp"
#include "tests/integration/support/cilium_cluster.hpp"
#include "util/subprocess.hpp"

#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

extern char** environ;

using namespace meshlink;
using namespace meshlink::test;
using namespace meshlink::test::dist;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_dns_address = "127.0.0.53";

// The response code (0 NOERROR, 5 REFUSED, ...) and answer count of one query to the test's DNS server.
std::pair<int, int> query(const std::string& name, std::uint16_t type) {
    std::string packet{'\x12', '\x34', '\x01', '\x00', '\x00', '\x01',
                       '\x00', '\x00', '\x00', '\x00', '\x00', '\x00'};
    std::string_view rest(name);
    while (!rest.empty()) {
        const auto dot = rest.find('.');
        const auto label = rest.substr(0, dot);
        packet += static_cast<char>(label.size());
        packet += label;
        rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
    packet += '\0';
    packet += static_cast<char>(type >> 8);
    packet += static_cast<char>(type & 0xff);
    packet += std::string{'\x00', '\x01'};
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    timeval timeout{3, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(53);
    ::inet_pton(AF_INET, k_dns_address, &server.sin_addr);
    ::sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&server), sizeof(server));
    unsigned char answer[512] = {};
    const auto got = ::recv(fd, answer, sizeof(answer), 0);
    ::close(fd);
    if (got < 12) {
        return {-1, 0};
    }
    return {answer[3] & 0x0f, (answer[6] << 8) | answer[7]};
}

} // namespace

BOOST_AUTO_TEST_SUITE(dns, *boost::unit_test::precondition(is_root) *
                               boost::unit_test::precondition(
                                   have_program("dnsmasq", "package dnsmasq-base; scripts/install-deps")))

BOOST_AUTO_TEST_CASE(a_refused_aaaa_query_does_not_fail_the_a_answer,
                     *boost::unit_test::precondition(have_archive("amd64"))) {
    // A network namespace of our own: port 53 on loopback is ours, whatever runs on this machine.
    BOOST_TEST_REQUIRE(::unshare(CLONE_NEWNET) == 0, std::strerror(errno));
    auto up = run_command({"ip", "link", "set", "lo", "up"}, environment_with({}));
    BOOST_TEST_REQUIRE((up.has_value() && up->exit_code == 0));

    // dnsmasq answers A for kubernetes.default (a name in fakekube's certificate) and REFUSED for AAAA.
    std::vector<std::string> args{*util::find_executable("dnsmasq"),
                                  "--keep-in-foreground",
                                  "--no-resolv",
                                  "--no-hosts",
                                  "--bind-interfaces",
                                  std::string("--listen-address=") + k_dns_address,
                                  "--port=53",
                                  "--address=/kubernetes.default/127.0.0.1",
                                  "--pid-file="};
    std::vector<char*> raw;
    for (auto& arg : args) {
        raw.push_back(arg.data());
    }
    raw.push_back(nullptr);
    pid_t pid = -1;
    BOOST_TEST_REQUIRE(::posix_spawn(&pid, raw[0], nullptr, nullptr, raw.data(), environ) == 0);
    util::ChildProcess dnsmasq(pid);
    std::pair<int, int> a{-1, 0};
    for (int i = 0; i < 50 && a.first != 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        a = query("kubernetes.default", 1);
    }
    BOOST_TEST_REQUIRE(a.first == 0);
    BOOST_TEST(a.second == 1);
    const auto aaaa = query("kubernetes.default", 28);
    BOOST_TEST_REQUIRE(aaaa.first == 5, "dnsmasq no longer refuses AAAA here; the test would prove nothing");

    const TempDirectory dir;
    auto server = FakekubeProcess::start(fakekube_options(healthy_cluster(1), dir));
    BOOST_TEST_REQUIRE(server.has_value(), error_message(server));
    const TempDirectory root;
    const TempDirectory unpacked;
    extract(*archive("amd64"), unpacked.path());
    fs::copy_file(unpacked.path() / "kubectl-meshlink", root.path() / "kubectl-meshlink");
    root.write("etc/resolv.conf", std::string("nameserver ") + k_dns_address + "\n");
    root.write("etc/hosts", "127.0.0.1 localhost\n");
    std::string kubeconfig = read_file(server->kubeconfig());
    const std::string loopback = "https://127.0.0.1:";
    kubeconfig.replace(kubeconfig.find(loopback), loopback.size(), "https://kubernetes.default:");
    root.write("kubeconfig", kubeconfig);
    const std::vector<std::string> env{"KUBECONFIG=/kubeconfig", "NO_COLOR=1"};
    const auto resolved =
        run_in_root(root.path(), "amd64", {"/kubectl-meshlink", "version", "--server"}, env);
    BOOST_TEST(resolved.exit_code == 0, resolved.err);
    BOOST_TEST(resolved.out.find("Server Version:") != std::string::npos, resolved.out);

    // A name DNS does not know: a resolve error naming the server.
    kubeconfig.replace(kubeconfig.find("https://kubernetes.default:"), 27, "https://unknown.meshlink.test:");
    root.write("kubeconfig", kubeconfig);
    const auto unknown = run_in_root(root.path(), "amd64", {"/kubectl-meshlink", "version", "--server"}, env);
    BOOST_TEST(unknown.exit_code == 2);
    BOOST_TEST(unknown.err.find("cannot resolve the host") != std::string::npos, unknown.err);
    ::kill(pid, SIGTERM);
}

BOOST_AUTO_TEST_SUITE_END()
