#include "kube/redact.hpp"
#include "util/error.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

using namespace meshlink::kube;
using namespace meshlink::util;
using nlohmann::json;

namespace {

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

const std::string k_secret_value = "c3VwZXItc2VjcmV0LWNh"; // what must never show up

} // namespace

BOOST_AUTO_TEST_SUITE(redact)

BOOST_AUTO_TEST_CASE(secret_data_is_redacted_but_its_keys_stay) {
    json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata",
                    {{"name", "cilium-ca"},
                     {"annotations",
                      {{"kubectl.kubernetes.io/last-applied-configuration",
                        "{\"data\":{\"ca.crt\":\"" + k_secret_value + "\"}}"},
                       {"team", "net"}}}}},
                   {"data", {{"ca.crt", k_secret_value}, {"ca.key", k_secret_value}}},
                   {"stringData", {{"password", "plain"}}}};
    const std::string shown = redact_body("/api/v1/namespaces/kube-system/secrets/cilium-ca", secret.dump());
    BOOST_TEST(!contains(shown, k_secret_value));
    BOOST_TEST(!contains(shown, "plain"));
    auto doc = json::parse(shown);
    BOOST_TEST(doc["data"]["ca.crt"] == std::string(k_redacted));
    BOOST_TEST(doc["data"]["ca.key"] == std::string(k_redacted));
    BOOST_TEST(doc["metadata"]["name"] == "cilium-ca");
    BOOST_TEST(doc["metadata"]["annotations"]["team"] == "net");
}

BOOST_AUTO_TEST_CASE(secrets_are_recognised_by_kind_anywhere_in_a_body) {
    json list = {{"kind", "List"},
                 {"items", json::array({{{"kind", "Secret"}, {"data", {{"k", k_secret_value}}}},
                                        {{"kind", "ConfigMap"}, {"data", {{"k", "visible-config"}}}}})}};
    const std::string shown = redact_body("/api/v1/namespaces/x/configmaps", list.dump());
    BOOST_TEST(!contains(shown, k_secret_value));
    BOOST_TEST(contains(shown, "visible-config")); // only Secrets lose their data

    json secret_list = {{"kind", "SecretList"},
                        {"items", json::array({{{"data", {{"k", k_secret_value}}}}})}};
    BOOST_TEST(!contains(redact_body("/api/v1/secrets", secret_list.dump()), k_secret_value));

    json watch_event = {{"type", "ADDED"},
                        {"object", {{"kind", "Secret"}, {"data", {{"k", k_secret_value}}}}}};
    BOOST_TEST(!contains(redact_body("/api/v1/namespaces/x/secrets", watch_event.dump()), k_secret_value));
}

BOOST_AUTO_TEST_CASE(patches_and_lists_sent_to_secrets_are_redacted_without_a_kind) {
    json merge_patch = {{"data", {{"tls.key", k_secret_value}}}};
    BOOST_TEST(!contains(redact_body("/api/v1/namespaces/x/secrets/y", merge_patch.dump()), k_secret_value));

    json json_patch =
        json::array({{{"op", "replace"}, {"path", "/data/tls.key"}, {"value", k_secret_value}},
                     {{"op", "add"}, {"path", "/metadata/labels/a"}, {"value", "visible-label"}}});
    const std::string shown = redact_body("/api/v1/namespaces/x/secrets/y", json_patch.dump());
    BOOST_TEST(!contains(shown, k_secret_value));
    BOOST_TEST(contains(shown, "visible-label"));

    json list = {{"items", json::array({{{"data", {{"k", k_secret_value}}}}})}};
    BOOST_TEST(!contains(redact_body("/api/v1/namespaces/x/secrets?limit=500", list.dump()), k_secret_value));
}

BOOST_AUTO_TEST_CASE(credential_fields_are_redacted_wherever_they_are) {
    json token_request = {{"kind", "TokenRequest"}, {"status", {{"token", "eyJhbGciOi.secret"}}}};
    json exec_credential = {
        {"kind", "ExecCredential"},
        {"status", {{"token", "t0ken"}, {"clientKeyData", "-----BEGIN PRIVATE KEY-----"}}}};
    json basic = {{"username", "admin"}, {"password", "hunter2"}};
    for (const auto& doc : {token_request, exec_credential, basic}) {
        const std::string shown = redact_body("/apis/x/v1/things", doc.dump());
        BOOST_TEST(!contains(shown, "eyJhbGciOi"));
        BOOST_TEST(!contains(shown, "t0ken"));
        BOOST_TEST(!contains(shown, "PRIVATE KEY"));
        BOOST_TEST(!contains(shown, "hunter2"));
    }
    BOOST_TEST(contains(redact_body("/x", basic.dump()), "admin"));
}

BOOST_AUTO_TEST_CASE(bodies_that_are_not_json_are_summarised) {
    const std::string yaml = "apiVersion: v1\nkind: Secret\ndata:\n  k: " + k_secret_value + "\n";
    const std::string shown = redact_body("/api/v1/namespaces/x/secrets", yaml);
    BOOST_TEST(!contains(shown, k_secret_value));
    BOOST_TEST(contains(shown, std::to_string(yaml.size()) + " bytes"));
    BOOST_TEST(redact_body("/x", "").empty());
}

BOOST_AUTO_TEST_CASE(credential_headers_keep_only_their_scheme) {
    BOOST_TEST(redact_header_value("Authorization", "Bearer abc.def") == "Bearer <redacted>");
    BOOST_TEST(redact_header_value("authorization", "Basic YWRtaW46czNjcmV0") == "Basic <redacted>");
    BOOST_TEST(redact_header_value("Proxy-Authorization", "Basic eA==") == "Basic <redacted>");
    BOOST_TEST(redact_header_value("Cookie", "session=abc") == "<redacted>");
    BOOST_TEST(redact_header_value("Authorization", "opaque") == "<redacted>");
    BOOST_TEST(redact_header_value("Content-Type", "application/json") == "application/json");
    BOOST_TEST(redact_header_value("Impersonate-User", "system:admin") == "system:admin");
}

BOOST_AUTO_TEST_CASE(user_information_in_urls_is_hidden) {
    BOOST_TEST(redact_url("http://user:s3cret@proxy.corp:3128") == "http://<redacted>@proxy.corp:3128");
    BOOST_TEST(redact_url("socks5://s3cret@10.0.0.1:1080", "REDACTED") == "socks5://REDACTED@10.0.0.1:1080");
    // An unencoded '@' or '/' in the password is still inside what is hidden.
    BOOST_TEST(redact_url("http://u:p@ss/w@proxy:3128") == "http://<redacted>@proxy:3128");
    BOOST_TEST(redact_url("https://api.example:6443/prefix") == "https://api.example:6443/prefix");
    BOOST_TEST(redact_url("") == "");
    // In free text, such as a libcurl message quoting the proxy setting.
    const std::string text =
        redact_urls_in_text("Unsupported proxy syntax in 'http://user:s3cret@proxy:3128': bad; "
                            "see https://curl.se/libcurl/c/CURLOPT_PROXY.html");
    BOOST_TEST(!contains(text, "s3cret"), text);
    BOOST_TEST(text == "Unsupported proxy syntax in 'http://<redacted>@proxy:3128': bad; "
                       "see https://curl.se/libcurl/c/CURLOPT_PROXY.html");
}

BOOST_AUTO_TEST_SUITE_END()
