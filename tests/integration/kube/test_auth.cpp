// Authentication against a real fakekube: client certificates, bearer tokens, token files, exec plugins.

#include "tests/integration/kube/common.hpp"

using namespace meshlink;
using namespace meshlink::test;

BOOST_TEST_DONT_PRINT_LOG_VALUE(meshlink::util::ErrorKind)

namespace {

constexpr const char* k_good_token = "good-token-7f3a9c";

// An exec plugin ($VERSION, default client.authentication.k8s.io/v1) that counts its runs in $STATE/runs and
// answers with the token in $STATE/token-<run> if that file exists, else $STATE/token.
constexpr const char* k_plugin = R"(#!/bin/sh
n=$(cat "$STATE/runs" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$STATE/runs"
if [ -f "$STATE/token-$n" ]; then token=$(cat "$STATE/token-$n"); else token=$(cat "$STATE/token"); fi
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s"}}\n' "${VERSION:-client.authentication.k8s.io/v1}" "$token"
)";

FakekubeOptions with_token_file(const TempDirectory& dir) {
    FakekubeOptions options("auth");
    options.token_file =
        dir.write("tokens.csv", std::string(k_good_token) + ",alice,1001,\"system:masters\"\n");
    return options;
}

struct TokenServer {
    TempDirectory dir;
    FakekubeProcess server{start_fakekube(with_token_file(dir))};
};

int runs(const TempDirectory& dir) {
    std::ifstream in(dir.path() / "runs");
    int n = 0;
    in >> n;
    return n;
}

} // namespace

BOOST_AUTO_TEST_SUITE(auth)

BOOST_AUTO_TEST_CASE(client_certificate_from_the_generated_kubeconfig) {
    auto server = start_fakekube("certs");
    auto config = server.rest_config();
    BOOST_TEST_REQUIRE(config.has_value());
    BOOST_TEST(!config->client_certificate_pem.empty());
    BOOST_TEST(!config->client_key_pem.empty());
    auto client = client_for(*config);
    auto namespaces = client.list("/api/v1/namespaces");
    BOOST_TEST(namespaces.has_value(), error_message(namespaces));

    // Without the certificate the same server says 401.
    config->client_certificate_pem.clear();
    config->client_key_pem.clear();
    auto anonymous = client_for(*config).list("/api/v1/namespaces");
    BOOST_TEST_REQUIRE(!anonymous.has_value());
    BOOST_TEST(anonymous.error().kind == util::ErrorKind::unauthorized);
    BOOST_TEST(anonymous.error().message.starts_with("GET /api/v1/namespaces: 401 Unauthorized: "));
}

BOOST_AUTO_TEST_CASE(bearer_token_is_accepted_and_a_wrong_one_is_401) {
    TokenServer fixture;
    auto good = client_for(load_config(
        write_kubeconfig(fixture.dir, fixture.server, std::string("    token: ") + k_good_token + "\n")));
    auto listed = good.list("/api/v1/namespaces");
    BOOST_TEST(listed.has_value(), error_message(listed));

    auto bad = client_for(load_config(write_kubeconfig(
        fixture.dir, fixture.server, "    token: not-a-valid-token\n", "", "bad-kubeconfig")));
    auto rejected = bad.list("/api/v1/namespaces");
    BOOST_TEST_REQUIRE(!rejected.has_value());
    BOOST_TEST(rejected.error().kind == util::ErrorKind::unauthorized);
    BOOST_TEST(rejected.error().http_status == 401);
    BOOST_TEST(rejected.error().message.starts_with("GET /api/v1/namespaces: 401 Unauthorized: "));
}

BOOST_AUTO_TEST_CASE(token_file_is_read_relative_to_the_kubeconfig_and_rotations_are_picked_up) {
    TokenServer fixture;
    fixture.dir.write("creds/token", "stale-token\n");
    auto client = client_for(
        load_config(write_kubeconfig(fixture.dir, fixture.server, "    tokenFile: creds/token\n")));
    auto stale = client.list("/api/v1/namespaces");
    BOOST_TEST_REQUIRE(!stale.has_value());
    BOOST_TEST(stale.error().kind == util::ErrorKind::unauthorized);

    // The file is rotated (as kubelet does for projected tokens): the same client uses the new token.
    fixture.dir.write("creds/token", std::string(k_good_token) + "\n");
    auto fresh = client.list("/api/v1/namespaces");
    BOOST_TEST(fresh.has_value(), error_message(fresh));
}

BOOST_AUTO_TEST_CASE(exec_plugin_token_is_used_and_cached) {
    TokenServer fixture;
    TempDirectory state;
    state.write("token", k_good_token);
    const auto plugin = state.write("get-token", k_plugin, true);
    auto client =
        client_for(load_config(write_kubeconfig(fixture.dir, fixture.server,
                                                "    exec:\n"
                                                "      apiVersion: client.authentication.k8s.io/v1\n"
                                                "      command: " +
                                                    plugin.string() +
                                                    "\n"
                                                    "      interactiveMode: Never\n"
                                                    "      env:\n"
                                                    "      - {name: STATE, value: " +
                                                    state.path().string() + "}\n")));
    for (int i = 0; i < 3; ++i) {
        auto listed = client.list("/api/v1/namespaces");
        BOOST_TEST_REQUIRE(listed.has_value(), error_message(listed));
    }
    BOOST_TEST(runs(state) == 1); // no expiry: one run serves every request
}

BOOST_AUTO_TEST_CASE(exec_plugin_runs_again_after_a_401) {
    TokenServer fixture;
    TempDirectory state;
    state.write("token-1", "revoked-token");
    state.write("token", k_good_token);
    const auto plugin = state.write("get-token", k_plugin, true);
    auto client = client_for(load_config(
        write_kubeconfig(fixture.dir, fixture.server,
                         "    exec:\n"
                         "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                         "      command: " +
                             plugin.string() +
                             "\n"
                             "      env:\n"
                             "      - {name: VERSION, value: client.authentication.k8s.io/v1beta1}\n"
                             "      - {name: STATE, value: " +
                             state.path().string() + "}\n")));
    auto response = client.send(request_for("/api/v1/namespaces"));
    BOOST_TEST_REQUIRE(response.has_value(), error_message(response));
    BOOST_TEST(response->status == 200);
    BOOST_TEST(response->attempts == 2); // 401 with the revoked token, then 200 with the fresh one
    BOOST_TEST(runs(state) == 2);
}

BOOST_AUTO_TEST_CASE(missing_exec_plugin_shows_the_install_hint_in_the_request_error) {
    TokenServer fixture;
    auto client = client_for(load_config(
        write_kubeconfig(fixture.dir, fixture.server,
                         "    exec:\n"
                         "      apiVersion: client.authentication.k8s.io/v1\n"
                         "      command: meshlink-it-missing-plugin\n"
                         "      interactiveMode: Never\n"
                         "      installHint: \"Install the plugin: see https://example.invalid/plugin\"\n")));
    auto version = client.server_version();
    BOOST_TEST_REQUIRE(!version.has_value());
    BOOST_TEST(version.error().kind == util::ErrorKind::not_found);
    BOOST_TEST(version.error().message.starts_with("GET " + fixture.server.url() +
                                                   "/version: getting credentials: "));
    BOOST_TEST(contains(version.error().message, "meshlink-it-missing-plugin"));
    BOOST_TEST(contains(version.error().message, "Install the plugin: see https://example.invalid/plugin"));
}

BOOST_AUTO_TEST_SUITE_END()
