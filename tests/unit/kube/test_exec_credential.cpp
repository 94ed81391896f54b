// The exec credential plugin protocol, with real shell scripts as plugins.

#include "kube/auth.hpp"
#include "kube/exec_credential.hpp"
#include "kube/kubeconfig.hpp"
#include "kube/rest_config.hpp"
#include "tests/unit/util/test_support.hpp"
#include "util/fd.hpp"

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <nlohmann/json.hpp>

using namespace meshlink::kube;
using namespace meshlink::util;
using namespace std::chrono_literals;
using meshlink::test::contains;
using meshlink::test::error_message;
using meshlink::test::ScopedEnvVar;
using meshlink::test::ScratchDir;
using Clock = std::chrono::system_clock;

BOOST_TEST_DONT_PRINT_LOG_VALUE(meshlink::util::ErrorKind)

namespace {

constexpr std::string_view k_v1 = "client.authentication.k8s.io/v1";
constexpr std::string_view k_v1beta1 = "client.authentication.k8s.io/v1beta1";
// 2030-01-01T00:00:00Z in seconds since the epoch.
constexpr std::time_t k_2030 = 1893456000;

// A plugin that records what it was given (KUBERNETES_EXEC_INFO, args, one env variable), counts its runs
// and answers with "token-<run>" in the API version it is told to use, with an optional expiry.
constexpr const char* k_plugin = R"(#!/bin/sh
n=$(cat "$PLUGIN_DIR/runs" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$PLUGIN_DIR/runs"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$PLUGIN_DIR/exec-info.json"
: > "$PLUGIN_DIR/args"
for a in "$@"; do printf '%s\n' "$a" >> "$PLUGIN_DIR/args"; done
printf '%s' "$GREETING" > "$PLUGIN_DIR/greeting"
printf '%s' "$OUTER_ONLY" > "$PLUGIN_DIR/outer"
if [ -t 0 ]; then echo terminal > "$PLUGIN_DIR/stdin"; else cat > "$PLUGIN_DIR/stdin"; fi
echo "plugin says hello on stderr" >&2
expiry=""
if [ -n "$EXPIRY" ]; then expiry=",\"expirationTimestamp\":\"$EXPIRY\""; fi
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"token-%s"%s}}\n' "$ANSWER_VERSION" "$n" "$expiry"
)";

struct PluginFixture {
    ScratchDir dir;
    std::filesystem::path script = dir.write("bin/get-token", k_plugin, true);
    std::shared_ptr<Clock::time_point> now =
        std::make_shared<Clock::time_point>(Clock::from_time_t(k_2030 - 3600));
    meshlink::util::Fd stderr_file{
        ::open((dir.path / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};

    ExecConfig config(std::string_view api_version, const std::string& expiry = "") const {
        ExecConfig exec;
        exec.command = script.string();
        exec.api_version = std::string(api_version);
        exec.interactive_mode = "Never";
        exec.args = {"--cluster", "two words", "--flag=x"};
        exec.env = {{"PLUGIN_DIR", dir.path.string()},
                    {"ANSWER_VERSION", std::string(api_version)},
                    {"EXPIRY", expiry},
                    {"GREETING", "from-kubeconfig"}};
        return exec;
    }

    ExecOptions options(bool terminal = false) const {
        ExecOptions options;
        options.user_name = "carol";
        options.stdin_is_terminal = [terminal] { return terminal; };
        auto clock = now;
        options.now = [clock] { return *clock; };
        options.stderr_fd = stderr_file.get();
        return options;
    }

    std::unique_ptr<ExecCredentialProvider>
    provider(ExecConfig exec, std::optional<ExecClusterInfo> cluster = {}, bool terminal = false) const {
        auto created = ExecCredentialProvider::create(std::move(exec), std::move(cluster), options(terminal));
        BOOST_TEST_REQUIRE(created.has_value(), error_message(created));
        return std::move(*created);
    }

    [[nodiscard]] int runs() const {
        auto text = dir.read("runs");
        return text.empty() ? 0 : std::stoi(text);
    }
    [[nodiscard]] nlohmann::json exec_info() const {
        return nlohmann::json::parse(dir.read("exec-info.json"));
    }
};

std::string token_of(ExecCredentialProvider& provider) {
    auto credential = provider.get();
    BOOST_TEST_REQUIRE(credential.has_value(), error_message(credential));
    return (*credential)->token;
}

} // namespace

BOOST_AUTO_TEST_SUITE(exec_credential)

BOOST_AUTO_TEST_CASE(v1_plugin_gets_exec_info_args_and_env_and_returns_a_token) {
    PluginFixture fixture;
    ScopedEnvVar greeting("GREETING", "from-process");
    ScopedEnvVar outer("OUTER_ONLY", "inherited");
    auto provider = fixture.provider(fixture.config(k_v1));
    BOOST_TEST(token_of(*provider) == "token-1");

    auto info = fixture.exec_info();
    BOOST_TEST(info["apiVersion"] == std::string(k_v1));
    BOOST_TEST(info["kind"] == "ExecCredential");
    BOOST_TEST(info["spec"]["interactive"] == false);
    BOOST_TEST(!info["spec"].contains("cluster")); // provideClusterInfo is off
    BOOST_TEST(fixture.dir.read("args") == "--cluster\ntwo words\n--flag=x\n");
    BOOST_TEST(fixture.dir.read("greeting") == "from-kubeconfig"); // the stanza's env wins
    BOOST_TEST(fixture.dir.read("outer") == "inherited");          // the rest of ours is passed on
    BOOST_TEST(fixture.dir.read("stdin").empty());                 // not interactive: stdin is empty
    BOOST_TEST(contains(fixture.dir.read("stderr"), "plugin says hello on stderr"));
}

BOOST_AUTO_TEST_CASE(v1beta1_plugin_defaults_to_interactive_if_available) {
    PluginFixture fixture;
    auto exec = fixture.config(k_v1beta1);
    exec.interactive_mode.clear(); // optional in v1beta1
    auto provider = fixture.provider(exec, {}, /*terminal=*/true);
    BOOST_TEST(token_of(*provider) == "token-1");
    auto info = fixture.exec_info();
    BOOST_TEST(info["apiVersion"] == std::string(k_v1beta1));
    BOOST_TEST(info["spec"]["interactive"] == true);

    PluginFixture without_terminal;
    auto quiet = without_terminal.config(k_v1beta1);
    quiet.interactive_mode.clear();
    auto second = without_terminal.provider(quiet, {}, /*terminal=*/false);
    BOOST_TEST(token_of(*second) == "token-1");
    BOOST_TEST(without_terminal.exec_info()["spec"]["interactive"] == false);
}

BOOST_AUTO_TEST_CASE(interactive_modes_follow_client_go) {
    PluginFixture fixture;
    // Never: not interactive even on a terminal.
    auto never = fixture.provider(fixture.config(k_v1), {}, /*terminal=*/true);
    BOOST_TEST(token_of(*never) == "token-1");
    BOOST_TEST(fixture.exec_info()["spec"]["interactive"] == false);

    // Always without a terminal: a clear error, and the plugin does not run.
    auto always = fixture.config(k_v1);
    always.interactive_mode = "Always";
    auto provider = fixture.provider(always, {}, /*terminal=*/false);
    auto credential = provider->get();
    BOOST_TEST_REQUIRE(!credential.has_value());
    BOOST_TEST(contains(credential.error().message, "standard input is not a terminal"));
    BOOST_TEST(fixture.runs() == 1);
}

BOOST_AUTO_TEST_CASE(invalid_stanzas_are_rejected_before_running_anything) {
    PluginFixture fixture;
    auto v1_without_mode = fixture.config(k_v1);
    v1_without_mode.interactive_mode.clear();
    auto created = ExecCredentialProvider::create(v1_without_mode, {}, fixture.options());
    BOOST_TEST_REQUIRE(!created.has_value());
    BOOST_TEST(contains(created.error().message, "interactiveMode must be specified"));
    BOOST_TEST(contains(created.error().message, "user \"carol\""));

    auto alpha = fixture.config("client.authentication.k8s.io/v1alpha1");
    created = ExecCredentialProvider::create(alpha, {}, fixture.options());
    BOOST_TEST_REQUIRE(!created.has_value());
    BOOST_TEST(contains(created.error().message, "v1alpha1"));

    auto odd_mode = fixture.config(k_v1);
    odd_mode.interactive_mode = "Sometimes";
    BOOST_TEST(!ExecCredentialProvider::create(odd_mode, {}, fixture.options()).has_value());
    BOOST_TEST(fixture.runs() == 0);
}

BOOST_AUTO_TEST_CASE(credential_is_cached_until_its_expiration_timestamp) {
    PluginFixture fixture;
    auto provider = fixture.provider(fixture.config(k_v1, "2030-01-01T00:00:00Z"));
    auto first = provider->get();
    BOOST_TEST_REQUIRE(first.has_value());
    BOOST_TEST((*first)->token == "token-1");
    BOOST_TEST_REQUIRE((*first)->expiry.has_value());
    BOOST_TEST((*first)->expiry->time_since_epoch() == Clock::from_time_t(k_2030).time_since_epoch());

    *fixture.now = Clock::from_time_t(k_2030 - 1);
    BOOST_TEST(token_of(*provider) == "token-1");
    BOOST_TEST(fixture.runs() == 1);

    // Past the expiry the plugin runs again.
    *fixture.now = Clock::from_time_t(k_2030 + 1);
    BOOST_TEST(token_of(*provider) == "token-2");
    BOOST_TEST(fixture.runs() == 2);
    BOOST_TEST(provider->runs() == 2);
}

BOOST_AUTO_TEST_CASE(credential_without_expiry_is_kept_until_a_401) {
    PluginFixture fixture;
    auto provider = fixture.provider(fixture.config(k_v1));
    auto first = provider->get();
    BOOST_TEST_REQUIRE(first.has_value());
    *fixture.now = Clock::from_time_t(k_2030 + 10 * 365 * 86400);
    BOOST_TEST(token_of(*provider) == "token-1");

    // The server rejected token-1: run again.
    auto refreshed = provider->refresh(*first);
    BOOST_TEST_REQUIRE(refreshed.has_value());
    BOOST_TEST((*refreshed)->token == "token-2");
    // A second request that also failed with token-1 must not run the plugin once more.
    auto again = provider->refresh(*first);
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST((*again)->token == "token-2");
    BOOST_TEST(fixture.runs() == 2);
}

BOOST_AUTO_TEST_CASE(authenticator_rotates_the_exec_token_after_a_401) {
    PluginFixture fixture;
    RestConfig config;
    config.server = "https://127.0.0.1:6443";
    config.user_name = "carol";
    config.exec = fixture.config(k_v1);
    auto auth = Authenticator::create(config, fixture.options());
    BOOST_TEST_REQUIRE(auth.has_value(), error_message(auth));
    BOOST_TEST((*auth)->can_refresh());
    auto first = (*auth)->current();
    BOOST_TEST_REQUIRE(first.has_value());
    BOOST_TEST_REQUIRE(first->headers.size() == 1U);
    BOOST_TEST(first->headers[0].first == "Authorization");
    BOOST_TEST(first->headers[0].second == "Bearer token-1");

    auto changed = (*auth)->refresh_after_unauthorized(*first);
    BOOST_TEST_REQUIRE(changed.has_value());
    BOOST_TEST(*changed);
    auto second = (*auth)->current();
    BOOST_TEST_REQUIRE(second.has_value());
    BOOST_TEST(second->headers[0].second == "Bearer token-2");
}

BOOST_AUTO_TEST_CASE(missing_command_shows_the_install_hint) {
    PluginFixture fixture;
    ExecConfig exec = fixture.config(k_v1);
    exec.command = "meshlink-test-no-such-credential-plugin";
    exec.install_hint = "Install it with: apt-get install no-such-plugin";
    auto provider = fixture.provider(exec);
    auto credential = provider->get();
    BOOST_TEST_REQUIRE(!credential.has_value());
    BOOST_TEST(credential.error().kind == ErrorKind::not_found);
    BOOST_TEST(contains(credential.error().message, "meshlink-test-no-such-credential-plugin"));
    BOOST_TEST(contains(credential.error().message, "not found"));
    BOOST_TEST(contains(credential.error().message, "Install it with: apt-get install no-such-plugin"));
    BOOST_TEST(contains(credential.error().message, "user \"carol\""));
}

BOOST_AUTO_TEST_CASE(command_is_looked_up_on_path) {
    PluginFixture fixture;
    ScopedEnvVar path("PATH", (fixture.dir.path / "bin").string() + ":/usr/bin:/bin");
    ExecConfig exec = fixture.config(k_v1);
    exec.command = "get-token";
    auto provider = fixture.provider(exec);
    BOOST_TEST(token_of(*provider) == "token-1");
}

BOOST_AUTO_TEST_CASE(bad_plugin_answers_are_clear_errors) {
    struct Case {
        const char* output;
        const char* expected;
    };
    const Case cases[] = {
        {"not json", "not a JSON object"},
        {R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}})",
         "the kubeconfig asks for apiVersion client.authentication.k8s.io/v1"},
        {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"Other","status":{"token":"t"}})",
         "kind is \"Other\""},
        {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"})", "no status field"},
        {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}})",
         "neither a token nor a client certificate"},
        {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":"c"}})",
         "only one of clientCertificateData and clientKeyData"},
        {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"tomorrow"}})",
         "expirationTimestamp"},
    };
    for (const auto& c : cases) {
        ScratchDir dir;
        dir.write("answer", c.output);
        const auto script = dir.write("plugin", "#!/bin/sh\ncat \"$(dirname \"$0\")/answer\"\n", true);
        ExecConfig exec;
        exec.command = script.string();
        exec.api_version = std::string(k_v1);
        exec.interactive_mode = "Never";
        auto provider = ExecCredentialProvider::create(exec, {}, {});
        BOOST_TEST_REQUIRE(provider.has_value());
        auto credential = (*provider)->get();
        BOOST_TEST_REQUIRE(!credential.has_value(), c.output);
        BOOST_TEST(contains(credential.error().message, c.expected), credential.error().message);
    }
}

BOOST_AUTO_TEST_CASE(client_certificate_answers_are_accepted) {
    ScratchDir dir;
    const auto script = dir.write("plugin", R"(#!/bin/sh
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":"CERT\\n","clientKeyData":"KEY\\n"}}'
)",
                                  true);
    ExecConfig exec;
    exec.command = script.string();
    exec.api_version = std::string(k_v1);
    exec.interactive_mode = "Never";
    auto provider = ExecCredentialProvider::create(exec, {}, {});
    BOOST_TEST_REQUIRE(provider.has_value());
    auto credential = (*provider)->get();
    BOOST_TEST_REQUIRE(credential.has_value(), error_message(credential));
    BOOST_TEST((*credential)->token.empty());
    BOOST_TEST((*credential)->client_certificate_pem == "CERT\n");
    BOOST_TEST((*credential)->client_key_pem == "KEY\n");
}

BOOST_AUTO_TEST_CASE(failing_plugin_reports_its_exit_code_and_its_stderr_reaches_ours) {
    PluginFixture fixture;
    const auto script =
        fixture.dir.write("bin/fail", "#!/bin/sh\necho 'login expired, run: sso login' >&2\nexit 3\n", true);
    ExecConfig exec = fixture.config(k_v1);
    exec.command = script.string();
    auto provider = fixture.provider(exec);
    auto credential = provider->get();
    BOOST_TEST_REQUIRE(!credential.has_value());
    BOOST_TEST(contains(credential.error().message, "exit code 3"));
    BOOST_TEST(contains(fixture.dir.read("stderr"), "login expired, run: sso login"));
}

BOOST_AUTO_TEST_CASE(a_hanging_plugin_is_stopped_at_the_timeout) {
    PluginFixture fixture;
    const auto script = fixture.dir.write("bin/hang", "#!/bin/sh\nexec sleep 600\n", true);
    ExecConfig exec = fixture.config(k_v1);
    exec.command = script.string();
    auto options = fixture.options();
    options.timeout = 200ms;
    auto provider = ExecCredentialProvider::create(exec, {}, options);
    BOOST_TEST_REQUIRE(provider.has_value());
    auto credential = (*provider)->get();
    BOOST_TEST_REQUIRE(!credential.has_value());
    BOOST_TEST(credential.error().kind == ErrorKind::timeout);
}

BOOST_AUTO_TEST_CASE(provide_cluster_info_passes_the_cluster_from_the_kubeconfig) {
    PluginFixture fixture;
    // "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n"
    const std::string ca_b64 =
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmZha2UKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=";
    auto file = parse_kubeconfig(R"(current-context: x
clusters:
- name: c
  cluster:
    server: https://10.0.0.1:6443
    tls-server-name: api.internal
    certificate-authority-data: )" + ca_b64 +
                                     R"(
    proxy-url: http://proxy.example:3128
    extensions:
    - name: client.authentication.k8s.io/exec
      extension:
        audience: "06e3fbd18de8"
        region: eu-west-1
contexts:
- name: x
  context: {cluster: c, user: u}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: )" + fixture.script.string() +
                                     R"(
      interactiveMode: Never
      provideClusterInfo: true
      env:
      - {name: PLUGIN_DIR, value: )" +
                                     fixture.dir.path.string() + R"(}
      - {name: ANSWER_VERSION, value: client.authentication.k8s.io/v1}
)",
                                 "/k/config");
    BOOST_TEST_REQUIRE(file.has_value(), error_message(file));
    std::vector<KubeconfigFile> files;
    files.push_back(std::move(*file));
    auto merged = merge_kubeconfig_files(std::move(files));
    BOOST_TEST_REQUIRE(merged.has_value());
    auto config = resolve_rest_config(*merged, {});
    BOOST_TEST_REQUIRE(config.has_value(), error_message(config));
    BOOST_TEST_REQUIRE(config->exec.has_value());

    auto auth = Authenticator::create(*config, fixture.options());
    BOOST_TEST_REQUIRE(auth.has_value(), error_message(auth));
    auto credentials = (*auth)->current();
    BOOST_TEST_REQUIRE(credentials.has_value(), error_message(credentials));

    auto cluster = fixture.exec_info()["spec"]["cluster"];
    BOOST_TEST(cluster["server"] == "https://10.0.0.1:6443");
    BOOST_TEST(cluster["tls-server-name"] == "api.internal");
    BOOST_TEST(cluster["certificate-authority-data"] == ca_b64);
    BOOST_TEST(cluster["proxy-url"] == "http://proxy.example:3128");
    BOOST_TEST(!cluster.contains("insecure-skip-tls-verify"));
    BOOST_TEST(cluster["config"]["audience"] == "06e3fbd18de8");
    BOOST_TEST(cluster["config"]["region"] == "eu-west-1");
}

BOOST_AUTO_TEST_SUITE_END()
