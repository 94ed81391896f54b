// HTTP/2 against a real HTTP/2 server: nghttpd (Debian's nghttp2-server) on loopback with a certificate from
// kube/pki. fakekube speaks HTTP/1.1 only (Boost.Beast), so this is where "HTTP/2 when offered" is proven:
// ALPN negotiates h2, the client verifies the server against the kubeconfig's CA, and one connection carries
// every request.
#include "kube/pki.hpp"
#include "tests/integration/kube/common.hpp"
#include "util/subprocess.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

extern char** environ;

using namespace meshlink;
using namespace meshlink::test;
namespace pki = meshlink::kube::pki;

namespace {

// A port that was free a moment ago on 127.0.0.1.
int free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        if (fd >= 0) {
            ::close(fd);
        }
        return -1;
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

bool accepts_connections(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    if (fd >= 0) {
        ::close(fd);
    }
    return ok;
}

struct Nghttpd {
    TempDirectory dir;
    pki::KeyPair ca;
    int port = -1;
    util::ChildProcess process;
};

// Starts nghttpd serving `dir`/htdocs over TLS (h2 only) on 127.0.0.1 with a certificate for 127.0.0.1 and
// "kubernetes" signed by a fresh CA (the suite's precondition makes sure nghttpd is installed).
std::unique_ptr<Nghttpd> start_nghttpd() {
    auto nghttpd = util::find_executable("nghttpd");
    BOOST_TEST_REQUIRE(nghttpd.has_value());
    auto server = std::make_unique<Nghttpd>();
    pki::CertificateSpec ca_spec;
    ca_spec.common_name = "http2-test-ca";
    server->ca = pki::generate_ca(ca_spec).value();
    pki::CertificateSpec leaf;
    leaf.common_name = "kube-apiserver";
    leaf.dns_names = {"kubernetes"};
    leaf.ip_addresses = {"127.0.0.1"};
    leaf.key_usage = pki::KeyUsage::digital_signature | pki::KeyUsage::key_encipherment;
    leaf.ext_key_usage = {pki::ExtKeyUsage::server_auth};
    const auto serving = pki::generate_signed(leaf, server->ca).value();
    const auto key = server->dir.write("tls.key", serving.key_pem);
    const auto cert = server->dir.write("tls.crt", serving.cert_pem);
    server->dir.write("htdocs/version", R"({"major":"1","minor":"32","gitVersion":"v1.32.0"})");
    server->port = free_loopback_port();
    BOOST_TEST_REQUIRE(server->port > 0);
    const std::vector<std::string> argv = {nghttpd->string(),
                                           "--address=127.0.0.1",
                                           "--htdocs=" + (server->dir.path() / "htdocs").string(),
                                           std::to_string(server->port),
                                           key.string(),
                                           cert.string()};
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = -1;
    BOOST_TEST_REQUIRE(::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) == 0);
    server->process = util::ChildProcess(pid);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!accepts_connections(server->port)) {
        BOOST_TEST_REQUIRE((std::chrono::steady_clock::now() < deadline), "nghttpd did not start listening");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return server;
}

boost::test_tools::assertion_result nghttpd_installed(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result result(util::find_executable("nghttpd").has_value());
    result.message() << "nghttpd (Debian's nghttp2-server) is not installed";
    return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(http2, *boost::unit_test::precondition(&nghttpd_installed))

BOOST_AUTO_TEST_CASE(h2_is_negotiated_and_one_connection_carries_every_request) {
    auto server = start_nghttpd();
    kube::RestConfig config;
    config.server = "https://127.0.0.1:" + std::to_string(server->port);
    config.ca_pem = server->ca.cert_pem;
    auto client = client_for(config);
    int reused = 0;
    for (int i = 0; i < 4; ++i) {
        auto response = client.send(request_for("/version"));
        BOOST_TEST_REQUIRE(response.has_value(), error_message(response));
        BOOST_TEST(response->status == 200);
        BOOST_TEST(response->http_version == 2);
        reused += response->reused_connection ? 1 : 0;
    }
    BOOST_TEST(reused == 3);
    auto version = client.server_version();
    BOOST_TEST_REQUIRE(version.has_value(), error_message(version));
}

BOOST_AUTO_TEST_CASE(h2_still_verifies_the_server_against_the_kubeconfig_ca) {
    auto server = start_nghttpd();
    pki::CertificateSpec other;
    other.common_name = "another-ca";
    kube::RestConfig config;
    config.server = "https://127.0.0.1:" + std::to_string(server->port);
    config.ca_pem = pki::generate_ca(other).value().cert_pem;
    auto client = client_for(config);
    auto response = client.send(request_for("/version"));
    BOOST_TEST_REQUIRE(!response.has_value());
    BOOST_TEST((response.error().kind == util::ErrorKind::tls), response.error().message);
    // tls-server-name picks a SAN the certificate has when the address is not one of them.
    config.ca_pem = server->ca.cert_pem;
    config.server = "https://localhost:" + std::to_string(server->port);
    config.tls_server_name = "kubernetes";
    auto named = client_for(config).send(request_for("/version"));
    BOOST_TEST_REQUIRE(named.has_value(), error_message(named));
    BOOST_TEST(named->http_version == 2);
}

BOOST_AUTO_TEST_SUITE_END()
