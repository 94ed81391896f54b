#include "plugin/preflight/checks.hpp"
#include "tests/unit/plugin/preflight/facts_builder.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink;
using namespace meshlink::plugin::preflight;
using namespace meshlink::plugin::preflight::testing;
namespace kc = meshlink::plugin::kubeconfig;

namespace {

const auto k_now = std::chrono::system_clock::now();

ClusterFacts with_context(kc::ContextSummary summary) {
    ClusterFacts facts;
    facts.context = summary.name;
    facts.kubeconfig = std::move(summary);
    return facts;
}

kc::ContextSummary summary(std::string server,
                           kc::AuthSummary auth = {kc::AuthKind::client_cert, "client-cert", true, ""}) {
    kc::ContextSummary s;
    s.name = "east";
    s.cluster = "east";
    s.user = "admin@east";
    s.server = server;
    s.server_class = kc::classify_server(server);
    s.auth = std::move(auth);
    return s;
}

kc::CertificateStatus expiring_in(std::chrono::days days) {
    kc::CertificateExpiry expiry;
    expiry.not_after = k_now + days;
    expiry.remaining = days;
    expiry.expired = days.count() < 0;
    expiry.expiring_soon = !expiry.expired && days <= std::chrono::days(30);
    return kc::CertificateStatus{expiry, {}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(preflight_kubeconfig_checks)

BOOST_AUTO_TEST_CASE(a_missing_context_fails_and_the_rest_is_unknown) {
    ClusterFacts facts;
    facts.context = "west";
    facts.connect_error = "context \"west\" not found in kubeconfig (contexts: east)";
    const auto checks = kubeconfig_checks(facts);
    BOOST_TEST_REQUIRE(checks.size() == 4u);
    BOOST_TEST(checks[0].id == "kubeconfig.context.exists");
    BOOST_TEST(checks[0].status == Status::fail);
    BOOST_TEST(contains(checks[0].message, "contexts: east"));
    for (std::size_t i = 1; i < checks.size(); ++i) {
        BOOST_TEST(checks[i].status == Status::unknown, checks[i].id);
    }
}

BOOST_AUTO_TEST_CASE(servers_other_clusters_cannot_reach_are_warnings) {
    for (const char* server : {"https://127.0.0.1:6443", "https://localhost:6443", "https://[::1]:6443",
                               "https://kubernetes.default.svc", "https://169.254.1.1:6443"}) {
        BOOST_TEST(check_of(kubeconfig_checks(with_context(summary(server))),
                            "kubeconfig.server.reachable-from-peers")
                           .status == Status::warn,
                   server);
    }
    for (const char* server : {"https://10.0.0.1:6443", "https://api.example.com", "https://203.0.113.1"}) {
        BOOST_TEST(check_of(kubeconfig_checks(with_context(summary(server))),
                            "kubeconfig.server.reachable-from-peers")
                           .status == Status::pass,
                   server);
    }
    BOOST_TEST(check_of(kubeconfig_checks(with_context(summary("not a url"))),
                        "kubeconfig.server.reachable-from-peers")
                   .status == Status::fail);
}

BOOST_AUTO_TEST_CASE(exec_and_token_file_credentials_are_not_portable) {
    auto s =
        summary("https://10.0.0.1:6443", {kc::AuthKind::exec, "exec:aws", false, "runs aws on this machine"});
    const auto check = check_of(kubeconfig_checks(with_context(s)), "kubeconfig.auth.portable");
    BOOST_TEST(check.status == Status::warn);
    BOOST_TEST(contains(check.message, "exec:aws"));
    s.auth = {kc::AuthKind::none, "none", true, ""};
    BOOST_TEST(check_of(kubeconfig_checks(with_context(s)), "kubeconfig.auth.portable").status ==
               Status::warn);
    s.auth = {kc::AuthKind::token, "token", true, ""};
    BOOST_TEST(check_of(kubeconfig_checks(with_context(s)), "kubeconfig.auth.portable").status ==
               Status::pass);
}

BOOST_AUTO_TEST_CASE(certificate_expiry) {
    auto s = summary("https://10.0.0.1:6443");
    BOOST_TEST(check_of(kubeconfig_checks(with_context(s)), "kubeconfig.cert.expiry").status == Status::pass);
    s.client_certificate = expiring_in(std::chrono::days(300));
    s.certificate_authority = expiring_in(std::chrono::days(3000));
    BOOST_TEST(check_of(kubeconfig_checks(with_context(s)), "kubeconfig.cert.expiry").status == Status::pass);
    s.client_certificate = expiring_in(std::chrono::days(10));
    const auto soon = check_of(kubeconfig_checks(with_context(s)), "kubeconfig.cert.expiry");
    BOOST_TEST(soon.status == Status::warn);
    BOOST_TEST(contains(soon.message, "10 days"), soon.message);
    s.certificate_authority = expiring_in(std::chrono::days(-1));
    BOOST_TEST(check_of(kubeconfig_checks(with_context(s)), "kubeconfig.cert.expiry").status == Status::fail);
    s.client_certificate = kc::CertificateStatus{std::nullopt, "/home/u/.kube/client.crt: No such file"};
    s.certificate_authority.reset();
    BOOST_TEST(check_of(kubeconfig_checks(with_context(s)), "kubeconfig.cert.expiry").status ==
               Status::unknown);
}

BOOST_AUTO_TEST_SUITE_END()
