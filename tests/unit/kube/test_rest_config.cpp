#include "kube/kubeconfig.hpp"
#include "kube/rest_config.hpp"
#include "tests/unit/util/test_support.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink::kube;
using namespace meshlink::util;
using namespace std::chrono_literals;
using meshlink::test::contains;
using meshlink::test::error_message;
using meshlink::test::ScopedEnvVar;
using meshlink::test::ScratchDir;

BOOST_TEST_DONT_PRINT_LOG_VALUE(meshlink::util::ErrorKind)

namespace {

// "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n", base64-encoded as kubeconfigs carry it.
constexpr const char* k_fake_ca_b64 =
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmZha2UKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=";
constexpr const char* k_fake_ca_pem = "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n";

// Two clusters, three users, three contexts; `a` is current.
const std::string k_config = std::string(R"(apiVersion: v1
kind: Config
current-context: a
clusters:
- name: c1
  cluster:
    server: https://c1.example:6443
    certificate-authority-data: )") +
                             k_fake_ca_b64 + R"(
    tls-server-name: kubernetes.default
    proxy-url: socks5://proxy.example:1080
- name: c2
  cluster:
    server: 10.0.0.2:6443
    insecure-skip-tls-verify: true
contexts:
- name: a
  context: {cluster: c1, user: alice, namespace: team-a}
- name: b
  context: {cluster: c2, user: bob}
- name: dangling
  context: {cluster: gone, user: alice}
users:
- name: alice
  user:
    token: alice-token
    as: system:admin
    as-groups: [system:masters, ops]
- name: bob
  user:
    username: bob
    password: hunter2
- name: carol
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: get-token
      interactiveMode: Never
)";

Kubeconfig parse(const std::string& text, const std::filesystem::path& path = "/k/config") {
    auto file = parse_kubeconfig(text, path);
    BOOST_TEST_REQUIRE(file.has_value(), error_message(file));
    std::vector<KubeconfigFile> files;
    files.push_back(std::move(*file));
    auto merged = merge_kubeconfig_files(std::move(files));
    BOOST_TEST_REQUIRE(merged.has_value(), error_message(merged));
    return std::move(*merged);
}

RestConfig resolve_ok(const Kubeconfig& config, const ConfigOverrides& overrides = {}) {
    auto resolved = resolve_rest_config(config, overrides);
    BOOST_TEST_REQUIRE(resolved.has_value(), error_message(resolved));
    return std::move(*resolved);
}

std::string resolve_error(const Kubeconfig& config, const ConfigOverrides& overrides = {}) {
    auto resolved = resolve_rest_config(config, overrides);
    BOOST_TEST_REQUIRE(!resolved.has_value());
    return resolved.error().message;
}

} // namespace

BOOST_AUTO_TEST_SUITE(rest_config)

BOOST_AUTO_TEST_CASE(current_context_picks_cluster_user_and_namespace) {
    auto config = resolve_ok(parse(k_config));
    BOOST_TEST(config.context_name == "a");
    BOOST_TEST(config.cluster_name == "c1");
    BOOST_TEST(config.user_name == "alice");
    BOOST_TEST(config.server == "https://c1.example:6443");
    BOOST_TEST(config.namespace_name == "team-a");
    BOOST_TEST(!config.namespace_overridden);
    BOOST_TEST(config.ca_pem == k_fake_ca_pem);
    BOOST_TEST(config.tls_server_name == "kubernetes.default");
    BOOST_TEST(config.proxy_url == "socks5://proxy.example:1080");
    BOOST_TEST(!config.insecure_skip_tls_verify);
    BOOST_TEST(config.bearer_token == "alice-token");
    BOOST_TEST(config.impersonate_user == "system:admin");
    BOOST_TEST((config.impersonate_groups == std::vector<std::string>{"system:masters", "ops"}));
    BOOST_TEST(config.timeout == 0ns);
    BOOST_TEST(config.describe() == "context \"a\"");
}

BOOST_AUTO_TEST_CASE(context_flag_replaces_current_context_and_namespace_defaults_to_default) {
    ConfigOverrides overrides;
    overrides.context = "b";
    auto config = resolve_ok(parse(k_config), overrides);
    BOOST_TEST(config.context_name == "b");
    BOOST_TEST(config.cluster_name == "c2");
    // A server without a scheme means https, as in client-go.
    BOOST_TEST(config.server == "https://10.0.0.2:6443");
    BOOST_TEST(config.insecure_skip_tls_verify);
    BOOST_TEST(config.username == "bob");
    BOOST_TEST(config.password == "hunter2");
    BOOST_TEST(config.namespace_name == "default");
}

BOOST_AUTO_TEST_CASE(cluster_and_user_flags_replace_the_contexts_entries) {
    ConfigOverrides overrides;
    overrides.cluster = "c2";
    overrides.user = "bob";
    auto config = resolve_ok(parse(k_config), overrides);
    BOOST_TEST(config.context_name == "a");
    BOOST_TEST(config.cluster_name == "c2");
    BOOST_TEST(config.server == "https://10.0.0.2:6443");
    BOOST_TEST(config.user_name == "bob");
    BOOST_TEST(config.bearer_token.empty());
    BOOST_TEST(config.username == "bob");
    // The context still gives the namespace.
    BOOST_TEST(config.namespace_name == "team-a");
}

BOOST_AUTO_TEST_CASE(namespace_and_request_timeout_flags_apply) {
    ConfigOverrides overrides;
    overrides.namespace_name = "kube-system";
    overrides.request_timeout = 30s;
    auto config = resolve_ok(parse(k_config), overrides);
    BOOST_TEST(config.namespace_name == "kube-system");
    BOOST_TEST(config.namespace_overridden);
    BOOST_TEST(config.timeout == 30s);

    overrides.request_timeout = 0ns;
    BOOST_TEST(resolve_ok(parse(k_config), overrides).timeout == 0ns);
}

BOOST_AUTO_TEST_CASE(unknown_context_lists_the_contexts) {
    ConfigOverrides overrides;
    overrides.context = "x";
    BOOST_TEST(resolve_error(parse(k_config), overrides) ==
               "context \"x\" not found in kubeconfig (contexts: a, b, dangling)");
    auto resolved = resolve_rest_config(parse(k_config), overrides);
    BOOST_TEST(resolved.error().kind == ErrorKind::not_found);
}

BOOST_AUTO_TEST_CASE(a_current_context_that_does_not_exist_is_reported_as_such) {
    auto config = parse(R"(current-context: old
clusters:
- name: c
  cluster: {server: https://c}
contexts:
- name: new
  context: {cluster: c}
)");
    BOOST_TEST(resolve_error(config) ==
               "context \"old\" (the current-context) not found in kubeconfig (contexts: new)");
}

BOOST_AUTO_TEST_CASE(no_current_context_says_how_to_choose_one) {
    auto config = parse(R"(clusters:
- name: c
  cluster: {server: https://c}
contexts:
- name: one
  context: {cluster: c}
- name: two
  context: {cluster: c}
)");
    const std::string message = resolve_error(config);
    BOOST_TEST(contains(message, "no current context"));
    BOOST_TEST(contains(message, "--context"));
    BOOST_TEST(contains(message, "contexts: one, two"));

    // --cluster alone is enough, as with kubectl.
    ConfigOverrides overrides;
    overrides.cluster = "c";
    auto resolved = resolve_ok(config, overrides);
    BOOST_TEST(resolved.server == "https://c");
    BOOST_TEST(resolved.describe() == "cluster \"c\"");
}

BOOST_AUTO_TEST_CASE(missing_cluster_or_user_is_named_with_its_context) {
    ConfigOverrides overrides;
    overrides.context = "dangling";
    BOOST_TEST(resolve_error(parse(k_config), overrides) ==
               "cluster \"gone\" (of context \"dangling\") not found in kubeconfig (clusters: c1, c2)");

    ConfigOverrides user;
    user.user = "dave";
    BOOST_TEST(resolve_error(parse(k_config), user) ==
               "user \"dave\" not found in kubeconfig (users: alice, bob, carol)");

    ConfigOverrides cluster;
    cluster.cluster = "nope";
    BOOST_TEST(resolve_error(parse(k_config), cluster) ==
               "cluster \"nope\" not found in kubeconfig (clusters: c1, c2)");
}

BOOST_AUTO_TEST_CASE(a_context_without_user_is_anonymous) {
    auto config = resolve_ok(parse(R"(current-context: anon
clusters:
- name: c
  cluster: {server: "https://c:443/"}
contexts:
- name: anon
  context: {cluster: c}
)"));
    BOOST_TEST(config.user_name.empty());
    BOOST_TEST(config.bearer_token.empty());
    BOOST_TEST(!config.exec.has_value());
    BOOST_TEST(config.server == "https://c:443"); // trailing '/' dropped
}

BOOST_AUTO_TEST_CASE(first_file_wins_across_files_before_overrides_apply) {
    auto first = parse_kubeconfig(R"(current-context: shared
contexts:
- name: shared
  context: {cluster: first-cluster, user: u}
clusters:
- name: first-cluster
  cluster: {server: https://first}
users:
- name: u
  user: {token: first}
)",
                                  "/k/first");
    auto second = parse_kubeconfig(R"(current-context: other
contexts:
- name: shared
  context: {cluster: second-cluster, user: u}
- name: other
  context: {cluster: second-cluster, user: u}
clusters:
- name: second-cluster
  cluster: {server: https://second}
users:
- name: u
  user: {token: second}
)",
                                   "/k/second");
    BOOST_TEST_REQUIRE(first.has_value());
    BOOST_TEST_REQUIRE(second.has_value());
    std::vector<KubeconfigFile> files;
    files.push_back(std::move(*first));
    files.push_back(std::move(*second));
    auto merged = merge_kubeconfig_files(std::move(files));
    BOOST_TEST_REQUIRE(merged.has_value());
    auto config = resolve_ok(*merged);
    BOOST_TEST(config.context_name == "shared");
    BOOST_TEST(config.server == "https://first");
    BOOST_TEST(config.bearer_token == "first");

    ConfigOverrides overrides;
    overrides.context = "other";
    auto other = resolve_ok(*merged, overrides);
    BOOST_TEST(other.server == "https://second");
    BOOST_TEST(other.bearer_token == "first"); // user "u" came from the first file
}

BOOST_AUTO_TEST_CASE(certificate_files_are_read_relative_to_the_kubeconfig) {
    ScratchDir dir;
    dir.write("pki/ca.crt", "CA FROM FILE\n");
    dir.write("pki/client.crt", "CERT FROM FILE\n");
    dir.write("pki/client.key", "KEY FROM FILE\n");
    const auto path = dir.write("config", R"(current-context: x
clusters:
- name: c
  cluster: {server: https://c, certificate-authority: pki/ca.crt}
contexts:
- name: x
  context: {cluster: c, user: u}
users:
- name: u
  user: {client-certificate: pki/client.crt, client-key: pki/client.key}
)");
    auto file = read_kubeconfig_file(path);
    BOOST_TEST_REQUIRE(file.has_value(), error_message(file));
    std::vector<KubeconfigFile> files;
    files.push_back(std::move(*file));
    auto merged = merge_kubeconfig_files(std::move(files));
    BOOST_TEST_REQUIRE(merged.has_value());
    auto config = resolve_ok(*merged);
    BOOST_TEST(config.ca_pem == "CA FROM FILE\n");
    BOOST_TEST(config.ca_origin == (dir.path / "pki/ca.crt").string());
    BOOST_TEST(config.client_certificate_pem == "CERT FROM FILE\n");
    BOOST_TEST(config.client_key_pem == "KEY FROM FILE\n");

    std::filesystem::remove(dir.path / "pki/client.key");
    const std::string message = resolve_error(*merged);
    BOOST_TEST(contains(message, "user \"u\""));
    BOOST_TEST(contains(message, (dir.path / "pki/client.key").string()));
}

BOOST_AUTO_TEST_CASE(inline_ca_data_wins_over_the_file) {
    auto config = resolve_ok(parse(std::string(R"(current-context: x
clusters:
- name: c
  cluster:
    server: https://c
    certificate-authority: /does/not/exist
    certificate-authority-data: )") +
                                   k_fake_ca_b64 + R"(
contexts:
- name: x
  context: {cluster: c}
)"));
    BOOST_TEST(config.ca_pem == k_fake_ca_pem);
    BOOST_TEST(config.ca_origin == "certificate-authority-data");
}

BOOST_AUTO_TEST_CASE(insecure_skip_tls_verify_with_a_ca_is_refused_like_client_go) {
    // client-go: "specifying a root certificates file with the insecure flag is not allowed". Accepting the
    // pair would silently ignore the CA the user thinks is checked.
    for (const std::string& ca : {std::string("certificate-authority-data: ") + k_fake_ca_b64,
                                  std::string("certificate-authority: /etc/ssl/ca.crt")}) {
        const std::string text =
            "current-context: x\nclusters:\n- name: other\n  cluster: {server: https://o}\n"
            "- name: c\n  cluster:\n    server: https://c\n    insecure-skip-tls-verify: true\n"
            "    " +
            ca +
            "\ncontexts:\n- name: x\n  context: {cluster: c}\n"
            "- name: fine\n  context: {cluster: other}\n";
        const Kubeconfig config = parse(text, "/k/insecure");
        const std::string message = resolve_error(config);
        BOOST_TEST(
            contains(message, "context \"x\": cluster \"c\" (/k/insecure:5): insecure-skip-tls-verify is "
                              "true and " +
                                  ca.substr(0, ca.find(':')) + " is set"),
            message);
        BOOST_TEST(
            contains(message, "specifying a root certificates file with the insecure flag is not allowed"));
        // As with kubectl, only the context that uses that cluster is refused.
        ConfigOverrides other;
        other.context = "fine";
        BOOST_TEST(resolve_ok(config, other).server == "https://o");
    }
    // insecure-skip-tls-verify alone is allowed (the lab cluster of the fixtures).
    const auto insecure = resolve_ok(parse("current-context: x\nclusters:\n- name: c\n  cluster:\n"
                                           "    server: https://c\n    insecure-skip-tls-verify: true\n"
                                           "contexts:\n- name: x\n  context: {cluster: c}\n"));
    BOOST_TEST(insecure.insecure_skip_tls_verify);
}

BOOST_AUTO_TEST_CASE(conflicting_or_incomplete_credentials_are_rejected) {
    const std::string base = R"(current-context: x
clusters:
- name: c
  cluster: {server: https://c}
contexts:
- name: x
  context: {cluster: c, user: u}
users:
- name: u
  user:
)";
    BOOST_TEST(contains(resolve_error(parse(base + "    token: t\n    username: a\n    password: b\n")),
                        "more than one authentication method"));
    BOOST_TEST(contains(resolve_error(parse(base + "    client-certificate-data: " + k_fake_ca_b64 + "\n")),
                        "client-certificate and client-key must be given together"));
    const std::string provider = resolve_error(parse(base + "    auth-provider:\n      name: gcp\n"));
    BOOST_TEST(contains(provider, "auth-provider \"gcp\""));
    BOOST_TEST(contains(provider, "exec credential plugin"));
}

BOOST_AUTO_TEST_CASE(exec_is_used_only_without_token_basic_auth_or_certificate) {
    ConfigOverrides carol;
    carol.user = "carol";
    auto config = resolve_ok(parse(k_config), carol);
    BOOST_TEST_REQUIRE(config.exec.has_value());
    BOOST_TEST(config.exec->command == "get-token");
    BOOST_TEST(config.exec->interactive_mode == "Never");

    auto with_token = resolve_ok(parse(R"(current-context: x
clusters:
- name: c
  cluster: {server: https://c}
contexts:
- name: x
  context: {cluster: c, user: u}
users:
- name: u
  user:
    token: static
    exec: {apiVersion: client.authentication.k8s.io/v1, command: never-run, interactiveMode: Never}
)"));
    BOOST_TEST(with_token.bearer_token == "static");
    BOOST_TEST(!with_token.exec.has_value());
}

BOOST_AUTO_TEST_CASE(exec_cluster_extension_becomes_typed_json) {
    auto config = resolve_ok(parse(R"(current-context: x
clusters:
- name: c
  cluster:
    server: https://c
    extensions:
    - name: something-else
      extension: {ignored: true}
    - name: client.authentication.k8s.io/exec
      extension:
        audience: "06e3fbd18de8"
        port: 8443
        enabled: true
        quoted: "123"
        tags: [a, b]
contexts:
- name: x
  context: {cluster: c}
)"));
    const auto& ext = config.exec_cluster_config;
    BOOST_TEST_REQUIRE(ext.is_object());
    BOOST_TEST(ext["audience"] == "06e3fbd18de8");
    BOOST_TEST(ext["port"] == 8443);
    BOOST_TEST(ext["enabled"] == true);
    BOOST_TEST(ext["quoted"] == "123");
    BOOST_TEST(ext["tags"].dump() == R"(["a","b"])");
}

BOOST_AUTO_TEST_CASE(in_cluster_config_reads_the_service_account_files) {
    ScratchDir dir;
    dir.write("sa/token", "sa-token\n");
    dir.write("sa/ca.crt", "SA CA\n");
    dir.write("sa/namespace", "meshlink-system\n");
    InClusterEnvironment environment;
    environment.service_account_dir = dir.path / "sa";
    environment.service_host = "10.96.0.1";
    environment.service_port = "443";
    BOOST_TEST(environment.possible());

    auto config = in_cluster_config(environment);
    BOOST_TEST_REQUIRE(config.has_value(), error_message(config));
    BOOST_TEST(config->in_cluster);
    BOOST_TEST(config->server == "https://10.96.0.1:443");
    BOOST_TEST(config->bearer_token_file == dir.path / "sa/token");
    BOOST_TEST(config->ca_pem == "SA CA\n");
    BOOST_TEST(config->namespace_name == "meshlink-system");
    BOOST_TEST(config->describe() == "in-cluster configuration");

    environment.service_host = "fd00::1";
    environment.pod_namespace = "from-env";
    ConfigOverrides overrides;
    overrides.request_timeout = 5s;
    config = in_cluster_config(environment, overrides);
    BOOST_TEST_REQUIRE(config.has_value());
    BOOST_TEST(config->server == "https://[fd00::1]:443");
    BOOST_TEST(config->namespace_name == "from-env");
    BOOST_TEST(config->timeout == 5s);

    overrides.namespace_name = "flag";
    BOOST_TEST(in_cluster_config(environment, overrides)->namespace_name == "flag");
    overrides.context = "ctx";
    BOOST_TEST(!in_cluster_config(environment, overrides).has_value());
}

BOOST_AUTO_TEST_CASE(in_cluster_config_needs_host_port_and_token) {
    ScratchDir dir;
    InClusterEnvironment environment;
    environment.service_account_dir = dir.path;
    environment.service_host = "10.96.0.1";
    BOOST_TEST(!environment.possible());
    auto config = in_cluster_config(environment);
    BOOST_TEST_REQUIRE(!config.has_value());
    BOOST_TEST(contains(config.error().message, "KUBERNETES_SERVICE_PORT"));

    environment.service_port = "443";
    config = in_cluster_config(environment);
    BOOST_TEST_REQUIRE(!config.has_value());
    BOOST_TEST(contains(config.error().message, (dir.path / "token").string()));
}

BOOST_AUTO_TEST_CASE(loading_falls_back_to_in_cluster_only_when_no_kubeconfig_defines_anything) {
    ScratchDir dir;
    dir.write("sa/token", "t");
    dir.write("sa/ca.crt", "CA");
    InClusterEnvironment environment;
    environment.service_account_dir = dir.path / "sa";
    environment.service_host = "10.96.0.1";
    environment.service_port = "443";

    LoadingRules nothing;
    nothing.precedence = {dir.path / "missing-config"};
    auto config = load_rest_config(nothing, {}, environment);
    BOOST_TEST_REQUIRE(config.has_value(), error_message(config));
    BOOST_TEST(config->in_cluster);

    // Asking for a context means the user expects a kubeconfig.
    ConfigOverrides overrides;
    overrides.context = "a";
    BOOST_TEST(!load_rest_config(nothing, overrides, environment).has_value());

    // Outside a pod the error says where it looked.
    auto outside = load_rest_config(nothing, {}, InClusterEnvironment{});
    BOOST_TEST_REQUIRE(!outside.has_value());
    BOOST_TEST(contains(outside.error().message, (dir.path / "missing-config").string()));

    // A kubeconfig that defines something is used, in a pod too.
    LoadingRules file;
    file.precedence = {dir.write("config", k_config)};
    auto from_file = load_rest_config(file, {}, environment);
    BOOST_TEST_REQUIRE(from_file.has_value(), error_message(from_file));
    BOOST_TEST(!from_file->in_cluster);
    BOOST_TEST(from_file->context_name == "a");
}

BOOST_AUTO_TEST_SUITE_END()
