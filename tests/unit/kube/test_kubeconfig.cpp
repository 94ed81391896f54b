#include "kube/kubeconfig.hpp"
#include "util/base64.hpp"
#include "yaml/yaml.hpp"

#include <boost/test/unit_test.hpp>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace fs = std::filesystem;
using namespace meshlink::kube;
using namespace meshlink::util;

namespace {

// A fresh directory under $TMPDIR, removed with everything in it.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "meshlink-kubeconfig-XXXXXX").string();
        path = ::mkdtemp(pattern.data());
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    fs::path write(const std::string& name, const std::string& text) const {
        const fs::path file = path / name;
        fs::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
        return file;
    }
};

// Sets (or unsets, with nullopt) an environment variable for one scope.
struct ScopedEnv {
    std::string name;
    std::optional<std::string> saved;
    ScopedEnv(std::string variable, const std::optional<std::string>& value) : name(std::move(variable)) {
        if (const char* old = std::getenv(name.c_str())) {
            saved = old;
        }
        if (value) {
            ::setenv(name.c_str(), value->c_str(), 1);
        } else {
            ::unsetenv(name.c_str());
        }
    }
    ~ScopedEnv() {
        if (saved) {
            ::setenv(name.c_str(), saved->c_str(), 1);
        } else {
            ::unsetenv(name.c_str());
        }
    }
};

std::string cluster_file(const std::string& cluster, const std::string& server,
                         const std::string& current = "") {
    return "apiVersion: v1\nkind: Config\nclusters:\n- name: " + cluster +
           "\n  cluster:\n    server: " + server + "\ncontexts:\n- name: " + cluster +
           "\n  context:\n    cluster: " + cluster + "\n    user: " + cluster +
           "\nusers:\n- name: " + cluster + "\n  user:\n    token: t-" + cluster + "\ncurrent-context: \"" +
           current + "\"\n";
}

// The error message of a parse that must fail.
std::string parse_error(const std::string& text, const std::string& name = "/k/config") {
    auto parsed = parse_kubeconfig(text, name);
    BOOST_TEST_REQUIRE(!parsed.has_value(), "expected an error for:\n" << text);
    return parsed.error().message;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

BOOST_TEST_DONT_PRINT_LOG_VALUE(meshlink::util::ErrorKind)

BOOST_AUTO_TEST_SUITE(kubeconfig)

BOOST_AUTO_TEST_CASE(explicit_kubeconfig_is_the_only_file_and_must_exist) {
    TempDir dir;
    const fs::path listed = dir.write("listed", cluster_file("listed", "https://listed:6443", "listed"));
    ScopedEnv env("KUBECONFIG", listed.string());
    auto rules = LoadingRules::from_environment((dir.path / "missing").string());
    BOOST_TEST(rules.default_write_target() == dir.path / "missing");
    auto loaded = load_kubeconfig(rules);
    BOOST_TEST_REQUIRE(!loaded.has_value());
    BOOST_TEST(loaded.error().kind == ErrorKind::not_found);
    BOOST_TEST(contains(loaded.error().message, (dir.path / "missing").string()));

    const fs::path only = dir.write("only", cluster_file("only", "https://only:6443", "only"));
    auto config = load_kubeconfig(LoadingRules::from_environment(only.string()));
    BOOST_TEST_REQUIRE(config.has_value(), config.error().message);
    BOOST_TEST(config->clusters.size() == 1U);
    BOOST_TEST(config->clusters.contains("only"));
    BOOST_TEST(config->current_context == "only");
}

BOOST_AUTO_TEST_CASE(kubeconfig_variable_is_split_deduplicated_and_skips_empty_entries) {
    ScopedEnv env("KUBECONFIG", "/a/one::/b/two:/a/one:/c/three:");
    auto rules = LoadingRules::from_environment(std::nullopt);
    BOOST_TEST(!rules.explicit_path.has_value());
    BOOST_TEST_REQUIRE(rules.precedence.size() == 3U);
    BOOST_TEST(rules.precedence[0] == fs::path("/a/one"));
    BOOST_TEST(rules.precedence[1] == fs::path("/b/two"));
    BOOST_TEST(rules.precedence[2] == fs::path("/c/three"));
}

BOOST_AUTO_TEST_CASE(without_kubeconfig_variable_home_config_is_used) {
    TempDir dir;
    ScopedEnv env("KUBECONFIG", std::nullopt);
    ScopedEnv home("HOME", dir.path.string());
    auto rules = LoadingRules::from_environment(std::nullopt);
    BOOST_TEST_REQUIRE(rules.precedence.size() == 1U);
    BOOST_TEST(rules.precedence[0] == dir.path / ".kube" / "config");
    BOOST_TEST(rules.default_write_target() == dir.path / ".kube" / "config");
    // No file at all is an empty config, not an error.
    auto config = load_kubeconfig(rules);
    BOOST_TEST_REQUIRE(config.has_value());
    BOOST_TEST(config->files.empty());
    BOOST_TEST(config->contexts.empty());
}

BOOST_AUTO_TEST_CASE(default_write_target_follows_kubectl) {
    TempDir dir;
    const fs::path a = dir.path / "a";
    const fs::path b = dir.path / "b";
    const fs::path c = dir.path / "c";
    {
        // A single entry is the target even when missing.
        ScopedEnv env("KUBECONFIG", a.string());
        BOOST_TEST(LoadingRules::from_environment(std::nullopt).default_write_target() == a);
    }
    ScopedEnv env("KUBECONFIG", a.string() + ":" + b.string() + ":" + c.string());
    // None exists: the last one.
    BOOST_TEST(LoadingRules::from_environment(std::nullopt).default_write_target() == c);
    // The first existing one.
    dir.write("b", cluster_file("b", "https://b"));
    dir.write("c", cluster_file("c", "https://c"));
    BOOST_TEST(LoadingRules::from_environment(std::nullopt).default_write_target() == b);
}

BOOST_AUTO_TEST_CASE(first_file_to_define_a_name_wins_the_whole_entry) {
    TempDir dir;
    const fs::path first =
        dir.write("first", "clusters:\n- name: shared\n  cluster:\n    server: https://first\n"
                           "users:\n- name: shared\n  user:\n    token: first-token\n"
                           "current-context: \"\"\n");
    const fs::path second = dir.write(
        "second",
        "clusters:\n- name: shared\n  cluster:\n    server: https://second\n    proxy-url: http://proxy\n"
        "- name: only-second\n  cluster:\n    server: https://only-second\n"
        "users:\n- name: shared\n  user:\n    username: admin\n    password: secret\n"
        "current-context: from-second\n");
    const fs::path third = dir.write("third", "current-context: from-third\n");
    ScopedEnv env("KUBECONFIG", first.string() + ":" + (dir.path / "missing").string() + ":" +
                                    second.string() + ":" + third.string());
    auto config = load_kubeconfig(LoadingRules::from_environment(std::nullopt));
    BOOST_TEST_REQUIRE(config.has_value(), config.error().message);
    BOOST_TEST(config->files.size() == 3U);
    const auto& shared = config->clusters.at("shared");
    BOOST_TEST(shared.value.server == "https://first");
    BOOST_TEST(shared.value.proxy_url.empty()); // no field-level merge
    BOOST_TEST(shared.origin == first);
    BOOST_TEST(shared.line == 2);
    BOOST_TEST(config->clusters.at("only-second").origin == second);
    const auto& user = config->users.at("shared");
    BOOST_TEST(user.value.token == "first-token");
    BOOST_TEST(user.value.username.empty());
    BOOST_TEST(config->current_context == "from-second");
}

BOOST_AUTO_TEST_CASE(relative_paths_resolve_against_the_defining_file) {
    TempDir dir;
    const fs::path file = dir.write("nested/deeper/config", R"(clusters:
- name: c
  cluster:
    server: https://c:6443
    certificate-authority: ../pki/ca.crt
users:
- name: u
  user:
    client-certificate: certs/u.crt
    client-key: /abs/u.key
    tokenFile: ./token
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: bin/helper
      interactiveMode: Never
- name: path-lookup
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token]
      env:
      - name: AWS_PROFILE
        value: prod
)");
    // Loaded from another working directory: what matters is where the file is.
    auto config = load_kubeconfig(LoadingRules::from_environment(file.string()));
    BOOST_TEST_REQUIRE(config.has_value(), config.error().message);
    const fs::path base = dir.path / "nested" / "deeper";
    BOOST_TEST(config->clusters.at("c").value.certificate_authority ==
               (dir.path / "nested/pki/ca.crt").string());
    const AuthInfo& u = config->users.at("u").value;
    BOOST_TEST(u.client_certificate == (base / "certs/u.crt").string());
    BOOST_TEST(u.client_key == "/abs/u.key");
    BOOST_TEST(u.token_file == (base / "token").string());
    BOOST_TEST_REQUIRE(u.exec.has_value());
    BOOST_TEST(u.exec->command == (base / "bin/helper").string());
    BOOST_TEST(u.exec->interactive_mode == "Never");
    const AuthInfo& lookup = config->users.at("path-lookup").value;
    BOOST_TEST_REQUIRE(lookup.exec.has_value());
    BOOST_TEST(lookup.exec->command == "aws"); // no '/': looked up on PATH, left alone
    BOOST_TEST(lookup.exec->args.size() == 2U);
    BOOST_TEST_REQUIRE(lookup.exec->env.size() == 1U);
    BOOST_TEST(lookup.exec->env[0].name == "AWS_PROFILE");
    BOOST_TEST(lookup.exec->env[0].value == "prod");
}

BOOST_AUTO_TEST_CASE(typed_views_decode_data_and_booleans) {
    const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const std::string text =
        "clusters:\n- name: c\n  cluster:\n    server: https://10.0.0.1:6443\n"
        "    certificate-authority-data: " +
        meshlink::util::base64_encode(pem) +
        "\n    insecure-skip-tls-verify: true\n    tls-server-name: api.internal\n"
        "    disable-compression: yes\n"
        "contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n    namespace: \"007\"\n";
    auto file = parse_kubeconfig(text, "/k/config");
    BOOST_TEST_REQUIRE(file.has_value(), file.error().message);
    auto config = merge_kubeconfig_files({*file});
    BOOST_TEST_REQUIRE(config.has_value());
    const Cluster& c = config->clusters.at("c").value;
    BOOST_TEST(c.certificate_authority_data == pem);
    BOOST_TEST(c.insecure_skip_tls_verify);
    BOOST_TEST(c.disable_compression);
    BOOST_TEST(c.tls_server_name == "api.internal");
    BOOST_TEST(config->contexts.at("x").value.namespace_name == "007");
}

BOOST_AUTO_TEST_CASE(empty_file_is_an_empty_config) {
    auto file = parse_kubeconfig("", "/k/empty");
    BOOST_TEST_REQUIRE(file.has_value());
    BOOST_TEST(file->root.IsMap());
    BOOST_TEST(file->root.size() == 0U);
    BOOST_TEST(parse_kubeconfig("# only a comment\n", "/k/c").has_value());
}

BOOST_AUTO_TEST_CASE(a_credential_of_the_wrong_type_is_named_never_shown) {
    // A token or password YAML reads as a number or a boolean is still a credential: the message names the
    // field, the entry and the line, never the value.
    for (const std::string field : {"token", "password"}) {
        for (const std::string value : {"12345678901234567890", "0x1f2e3d4c", "6.02e23", "yes"}) {
            const std::string error = parse_error("users:\n- name: u\n  user:\n    username: admin\n    " +
                                                  field + ": " + value + "\n");
            BOOST_TEST(contains(error, "/k/config:5: user \"u\": " + field + ": expected a string, got a"),
                       error);
            BOOST_TEST(!contains(error, value), error);
        }
    }
    // The same for a credential passed to an exec plugin as a bare number.
    const std::string arg = parse_error("users:\n- name: u\n  user:\n    exec:\n      command: x\n"
                                        "      args: [--token, 987654321987654321]\n");
    BOOST_TEST(contains(arg, "/k/config:6: user \"u\": exec: args: expected a list of strings"), arg);
    BOOST_TEST(!contains(arg, "987654321987654321"), arg);
}

BOOST_AUTO_TEST_CASE(nesting_beyond_the_yaml_limit_is_refused_at_once_naming_the_file) {
    // 80,000 levels of flow sequences in an extension took ~30 s to read before the limit; kubectl refuses
    // such a file at once, and so does meshlink now, naming the file and line.
    const std::size_t depth = 80000;
    const std::string text = "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster:\n"
                             "    server: https://x\n    extensions:\n    - name: e\n      extension: " +
                             std::string(depth, '[') + std::string(depth, ']') + "\n";
    const std::string error = parse_error(text, "/k/deep");
    BOOST_TEST(contains(error, "/k/deep:9: YAML nested deeper than 1000 levels"), error);
    // Deep but within the limit still reads (extensions are carried verbatim).
    const std::string ok = "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster:\n"
                           "    server: https://x\n    extensions:\n    - name: e\n      extension: " +
                           std::string(150, '[') + std::string(150, ']') + "\n";
    BOOST_TEST(parse_kubeconfig(ok, "/k/c").has_value());
}

BOOST_AUTO_TEST_CASE(malformed_files_name_file_and_line) {
    // Invalid YAML: the unclosed flow sequence is reported at its end.
    BOOST_TEST(contains(parse_error("clusters: [\n- name: a\n", "/k/bad"), "/k/bad:"));
    BOOST_TEST(contains(parse_error("clusters: [\n- name: a\n"), "invalid YAML"));
    // Binary garbage, on line 2.
    const std::string garbage = parse_error(std::string("apiVersion: v1\n\x7f\x45LF\x02\x01\x01", 22));
    BOOST_TEST(contains(garbage, "/k/config:2: binary data"), garbage);
    BOOST_TEST(contains(parse_error("a: \xff\xfe\n"), "/k/config:1: binary data (invalid UTF-8)"));
    // Text that is YAML but not a mapping.
    BOOST_TEST(contains(parse_error("just some text\n"), "/k/config:1: not a kubeconfig"));
    BOOST_TEST(contains(parse_error("- a\n- b\n"), "got a list"));
    // Wrong types.
    BOOST_TEST(
        contains(parse_error("kind: Config\nclusters:\n  a: b\n"), "/k/config:2: clusters: expected a list"));
    const std::string server = parse_error("clusters:\n- name: a\n  cluster:\n    server:\n      host: x\n");
    BOOST_TEST(contains(server, "/k/config:4: cluster \"a\": server: expected a string, got a mapping"),
               server);
    BOOST_TEST(contains(parse_error("clusters:\n- name: a\n  cluster:\n    server: 443\n"),
                        "/k/config:4: cluster \"a\": server: expected a string, got a number"));
    BOOST_TEST(
        contains(parse_error("clusters:\n- name: a\n  cluster:\n    insecure-skip-tls-verify: \"true\"\n"),
                 "/k/config:4: cluster \"a\": insecure-skip-tls-verify: expected a boolean"));
    BOOST_TEST(contains(parse_error("users:\n- name: u\n  user:\n    exec:\n      args: aws\n"),
                        "/k/config:5: user \"u\": exec: args: expected a list of strings"));
    BOOST_TEST(contains(parse_error("contexts:\n- name: x\n  context: [a]\n"),
                        "/k/config:3: context \"x\": context: expected a mapping"));
    BOOST_TEST(contains(parse_error("current-context:\n  - a\n"),
                        "/k/config:1: current-context: expected a string"));
    BOOST_TEST(contains(parse_error("kind: Pod\n"), "/k/config:1: kind \"Pod\" is not a kubeconfig"));
    // Missing and duplicate names.
    BOOST_TEST(contains(parse_error("users:\n- name: a\n  user: {}\n- user:\n    token: x\n"),
                        "/k/config:4: users: an entry has no name"));
    BOOST_TEST(contains(parse_error("contexts:\n- name: \"\"\n  context: {}\n"),
                        "/k/config:2: contexts: an entry has no name"));
    const std::string dup = parse_error("clusters:\n- name: a\n  cluster: {}\n- name: b\n  cluster: {}\n"
                                        "- name: a\n  cluster:\n    server: https://x\n");
    BOOST_TEST(contains(dup, "/k/config:6: duplicate cluster name \"a\" (first defined at line 2)"), dup);
    BOOST_TEST(contains(
        parse_error("clusters:\n- name: a\n  cluster:\n    server: https://a\n    server: https://b\n"),
        "/k/config:5: duplicate key \"server\""));
    // Invalid base64 in *-data.
    BOOST_TEST(contains(parse_error("users:\n- name: u\n  user:\n    client-key-data: not*base64\n"),
                        "/k/config:4: user \"u\": client-key-data: invalid base64"));
    BOOST_TEST(contains(parse_error("clusters:\n- name: c\n  cluster:\n    certificate-authority-data: QUJD\n"
                                    "      RA\n"),
                        "certificate-authority-data: invalid base64"));
}

BOOST_AUTO_TEST_CASE(unreadable_list_entries_are_errors_missing_ones_are_not) {
    TempDir dir;
    const fs::path good = dir.write("good", cluster_file("good", "https://good"));
    const fs::path bad = dir.write("bad", "clusters: {\n");
    ScopedEnv env("KUBECONFIG", (dir.path / "missing").string() + ":" + good.string() + ":" + bad.string());
    auto config = load_kubeconfig(LoadingRules::from_environment(std::nullopt));
    BOOST_TEST_REQUIRE(!config.has_value());
    BOOST_TEST(contains(config.error().message, bad.string() + ":"));
    fs::create_directory(dir.path / "adir");
    auto directory = read_kubeconfig_file(dir.path / "adir");
    BOOST_TEST_REQUIRE(!directory.has_value());
    BOOST_TEST(contains(directory.error().message, "not a regular file"));
}

BOOST_AUTO_TEST_SUITE_END()
