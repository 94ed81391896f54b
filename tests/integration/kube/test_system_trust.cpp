// A server whose kubeconfig names no CA is verified against the system's trust anchors, found where Go's
// crypto/x509 (kubectl) finds them: $SSL_CERT_FILE first. The release binary's libcurl has no compiled-in CA
// path, so this lookup is all it has (kube/http_transport.hpp find_system_trust).

#include "tests/integration/kube/common.hpp"

#include <cstdlib>

using namespace meshlink;
using namespace meshlink::test;

namespace {

// Sets an environment variable for one scope (the client reads it when it is created).
struct ScopedEnv {
    std::string name;
    std::optional<std::string> previous;
    ScopedEnv(std::string variable, const std::string& value) : name(std::move(variable)) {
        if (const char* old = std::getenv(name.c_str()); old != nullptr) {
            previous = old;
        }
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;
    ~ScopedEnv() {
        if (previous) {
            ::setenv(name.c_str(), previous->c_str(), 1);
        } else {
            ::unsetenv(name.c_str());
        }
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(a_server_without_kubeconfig_ca_is_trusted_through_ssl_cert_file) {
    auto server = start_fakekube("trust");
    auto ca = server.ca_pem();
    BOOST_TEST_REQUIRE(ca.has_value());
    const TempDirectory dir;
    const auto bundle = dir.write("bundle.pem", *ca);
    auto config = server.rest_config();
    BOOST_TEST_REQUIRE(config.has_value());
    config->ca_pem.clear();

    {
        const ScopedEnv file("SSL_CERT_FILE", bundle.string());
        const ScopedEnv no_dirs("SSL_CERT_DIR", (dir.path() / "none").string());
        auto client = client_for(*config);
        auto version = client.server_version();
        BOOST_TEST(version.has_value(), error_message(version));
    }
    {
        // A bundle without the server's CA: verification fails and the message names the bundle used.
        auto other = start_fakekube("other");
        auto other_ca = other.ca_pem();
        BOOST_TEST_REQUIRE(other_ca.has_value());
        const auto wrong = dir.write("wrong.pem", *other_ca);
        const ScopedEnv file("SSL_CERT_FILE", wrong.string());
        const ScopedEnv no_dirs("SSL_CERT_DIR", (dir.path() / "none").string());
        auto client = client_for(*config);
        auto version = client.server_version();
        BOOST_TEST_REQUIRE(!version.has_value());
        BOOST_TEST((version.error().kind == util::ErrorKind::tls));
        BOOST_TEST(contains(version.error().message, "the system trust store " + wrong.string()),
                   version.error().message);
    }
}
