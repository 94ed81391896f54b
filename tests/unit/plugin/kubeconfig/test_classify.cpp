#include "kube/pki.hpp"
#include "plugin/kubeconfig/classify.hpp"

#include <boost/test/unit_test.hpp>

namespace kc = meshlink::plugin::kubeconfig;
using kc::ServerClass;

BOOST_TEST_DONT_PRINT_LOG_VALUE(kc::ServerClass)
BOOST_TEST_DONT_PRINT_LOG_VALUE(kc::AuthKind)

BOOST_AUTO_TEST_SUITE(kubeconfig_classify)

BOOST_AUTO_TEST_CASE(servers_are_classified_by_host) {
    const std::vector<std::pair<std::string, ServerClass>> cases{
        {"https://127.0.0.1:6443", ServerClass::loopback},
        {"https://127.1.2.3", ServerClass::loopback},
        {"https://localhost:8443", ServerClass::loopback},
        {"https://[::1]:6443", ServerClass::loopback},
        {"https://0.0.0.0:6443", ServerClass::loopback},
        {"https://169.254.10.1", ServerClass::link_local},
        {"https://[fe80::1%25eth0]:6443", ServerClass::link_local},
        {"https://10.0.0.1:6443", ServerClass::private_network},
        {"https://172.31.255.1", ServerClass::private_network},
        {"https://192.168.49.2:8443", ServerClass::private_network},
        {"https://100.64.0.1", ServerClass::private_network},
        {"https://[fd00::10]:443", ServerClass::private_network},
        {"https://172.32.0.1", ServerClass::public_network},
        {"https://34.76.10.20", ServerClass::public_network},
        {"https://[2001:db8::1]", ServerClass::public_network},
        {"https://kubernetes.default.svc", ServerClass::cluster_internal},
        {"https://kubernetes", ServerClass::cluster_internal},
        {"https://clustermesh-apiserver.kube-system.svc.cluster.local:2379", ServerClass::cluster_internal},
        {"https://api.example.org:6443", ServerClass::dns_name},
        {"https://user@api.example.org/path", ServerClass::dns_name},
        {"api.example.org:6443", ServerClass::invalid},
        {"ftp://x", ServerClass::invalid},
        {"https://", ServerClass::invalid},
    };
    for (const auto& [server, expected] : cases) {
        BOOST_TEST((kc::classify_server(server) == expected),
                   server << " is " << kc::to_string(kc::classify_server(server)));
    }
    BOOST_TEST(kc::reachable_only_locally(ServerClass::loopback));
    BOOST_TEST(kc::reachable_only_locally(ServerClass::cluster_internal));
    BOOST_TEST(!kc::reachable_only_locally(ServerClass::private_network));
    BOOST_TEST(kc::server_host("https://[fd00::1]:6443/x") == "fd00::1");
}

BOOST_AUTO_TEST_CASE(auth_kind_follows_client_go_precedence_and_portability) {
    meshlink::kube::AuthInfo user;
    BOOST_TEST(kc::classify_auth(user).label == "none");
    user.exec = meshlink::kube::ExecConfig{};
    user.exec->command = "/usr/local/bin/aws";
    auto exec = kc::classify_auth(user);
    BOOST_TEST(exec.label == "exec:aws");
    BOOST_TEST(!exec.portable);
    BOOST_TEST(exec.why_not.find("/usr/local/bin/aws") != std::string::npos);
    user.token_file = "/var/run/token";
    BOOST_TEST(kc::classify_auth(user).label == "token-file");
    BOOST_TEST(!kc::classify_auth(user).portable);
    user.token = "t";
    BOOST_TEST(kc::classify_auth(user).label == "token");
    BOOST_TEST(kc::classify_auth(user).portable);
    user.client_certificate_data = "pem";
    BOOST_TEST(kc::classify_auth(user).label == "client-cert");
    meshlink::kube::AuthInfo basic;
    basic.username = "admin";
    BOOST_TEST(kc::classify_auth(basic).label == "basic");
    meshlink::kube::AuthInfo legacy;
    legacy.auth_provider = "oidc";
    BOOST_TEST(kc::classify_auth(legacy).label == "auth-provider:oidc");
    BOOST_TEST(!kc::classify_auth(legacy).portable);
}

BOOST_AUTO_TEST_CASE(certificate_expiry_warns_within_30_days) {
    meshlink::kube::pki::CertificateSpec spec;
    spec.common_name = "test";
    spec.validity = std::chrono::hours(24 * 10);
    auto short_lived = meshlink::kube::pki::generate_ca(spec);
    BOOST_TEST_REQUIRE(short_lived.has_value());
    const auto now = std::chrono::system_clock::now();
    auto soon = kc::certificate_expiry(short_lived->cert_pem, now);
    BOOST_TEST_REQUIRE(soon.has_value());
    BOOST_TEST(soon->expiring_soon);
    BOOST_TEST(!soon->expired);
    BOOST_TEST(soon->remaining.count() == 9); // 10 days minus the few minutes since it was made
    auto later = kc::certificate_expiry(short_lived->cert_pem, now + std::chrono::hours(24 * 11));
    BOOST_TEST_REQUIRE(later.has_value());
    BOOST_TEST(later->expired);
    spec.validity = std::chrono::hours(24 * 90);
    auto long_lived = meshlink::kube::pki::generate_ca(spec);
    BOOST_TEST(!kc::certificate_expiry(long_lived->cert_pem, now)->expiring_soon);
    BOOST_TEST(!kc::certificate_expiry("not a certificate", now).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
