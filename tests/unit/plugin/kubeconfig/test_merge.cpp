#include "kube/kubeconfig.hpp"
#include "plugin/kubeconfig/merge.hpp"
#include "yaml/yaml.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

namespace kc = meshlink::plugin::kubeconfig;
namespace fs = std::filesystem;
namespace yaml = meshlink::yaml;
using meshlink::kube::KubeconfigFile;

namespace {

KubeconfigFile file(const std::string& text, const std::string& path) {
    auto parsed = meshlink::kube::parse_kubeconfig(text, path);
    BOOST_TEST_REQUIRE(parsed.has_value(), parsed.error().message);
    return *parsed;
}

// A one-context kubeconfig; `server` and `token` make entries differ.
std::string single(const std::string& name, const std::string& server, const std::string& token,
                   const std::string& extra_user = "") {
    return "apiVersion: v1\nkind: Config\nclusters:\n- name: " + name +
           "\n  cluster:\n    server: " + server + "\nusers:\n- name: " + name +
           "\n  user:\n    token: " + token + "\n" + extra_user + "contexts:\n- name: " + name +
           "\n  context:\n    cluster: " + name + "\n    user: " + name + "\ncurrent-context: " + name + "\n";
}

std::string server_of(const kc::MergePlan& plan, const std::string& cluster) {
    for (const auto& item : plan.document["clusters"]) {
        if (item["name"].Scalar() == cluster) {
            return item["cluster"]["server"].Scalar();
        }
    }
    return "<none>";
}

std::vector<std::string> names(const kc::MergePlan& plan, const char* list) {
    std::vector<std::string> out;
    for (const auto& item : plan.document[list]) {
        out.push_back(item["name"].Scalar());
    }
    return out;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(kubeconfig_merge_plan)

BOOST_AUTO_TEST_CASE(new_entries_are_added_and_identical_ones_skipped) {
    const auto target = file(single("a", "https://a", "t-a"), "/home/u/.kube/config");
    const auto input = file(single("a", "https://a", "t-a") + "", "/tmp/in/a.yaml");
    auto plan = kc::plan_merge(target, target.path, {}, {input}, {});
    BOOST_TEST_REQUIRE(plan.has_value(), plan.error().message);
    BOOST_TEST(!plan->changes_file());
    for (const auto& change : plan->changes) {
        BOOST_TEST((change.action == kc::MergeAction::identical));
    }
    const auto other = file(single("b", "https://b", "t-b"), "/tmp/in/b.yaml");
    plan = kc::plan_merge(target, target.path, {}, {other}, {});
    BOOST_TEST_REQUIRE(plan.has_value());
    BOOST_TEST(plan->changes_file());
    BOOST_TEST(names(*plan, "contexts") == (std::vector<std::string>{"a", "b"}),
               boost::test_tools::per_element());
    BOOST_TEST(plan->current_context_after == "a"); // kept
}

BOOST_AUTO_TEST_CASE(conflicts_are_refused_listing_every_one) {
    const auto target = file(single("a", "https://a", "t-a"), "/k/config");
    const auto input = file(single("a", "https://other", "t-other"), "/k/in.yaml");
    auto plan = kc::plan_merge(target, target.path, {}, {input}, {});
    BOOST_TEST_REQUIRE(!plan.has_value());
    const std::string& message = plan.error().message;
    BOOST_TEST((plan.error().kind == meshlink::util::ErrorKind::conflict));
    BOOST_TEST(contains(message, "cluster \"a\": /k/in.yaml:4 differs from /k/config:4"), message);
    BOOST_TEST(contains(message, "user \"a\": /k/in.yaml:8 differs from /k/config:8"), message);
    // The context reads the same but names a cluster that would change: a conflict too.
    BOOST_TEST(contains(message, "context \"a\": /k/in.yaml:12 uses cluster \"a\", which conflicts"),
               message);
    BOOST_TEST(contains(message, "--rename-on-conflict"));
}

BOOST_AUTO_TEST_CASE(rename_on_conflict_is_deterministic_and_idempotent) {
    auto target = file(single("a", "https://a", "t-a"), "/k/config");
    const auto input = file(single("a", "https://other", "t-other"), "/k/in.yaml");
    kc::MergeOptions options;
    options.on_conflict = kc::ConflictPolicy::rename;
    auto plan = kc::plan_merge(target, target.path, {}, {input}, options);
    BOOST_TEST_REQUIRE(plan.has_value(), plan.error().message);
    BOOST_TEST(server_of(*plan, "a-2") == "https://other");
    BOOST_TEST(plan->document["contexts"][1]["context"]["cluster"].Scalar() == "a-2");
    BOOST_TEST(plan->document["contexts"][1]["context"]["user"].Scalar() == "a-2");
    // Merging the same file into the result changes nothing: "a-2" already holds it.
    target = file(yaml::emit(plan->document), "/k/config");
    auto again = kc::plan_merge(target, target.path, {}, {input}, options);
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST(!again->changes_file());
    // A third, different "a" goes to "a-3".
    const auto third = file(single("a", "https://third", "t-third"), "/k/third.yaml");
    auto next = kc::plan_merge(target, target.path, {}, {third}, options);
    BOOST_TEST_REQUIRE(next.has_value());
    BOOST_TEST(server_of(*next, "a-3") == "https://third");
}

BOOST_AUTO_TEST_CASE(overwrite_replaces_in_place) {
    const auto target = file(single("a", "https://a", "t-a") + "", "/k/config");
    const auto input = file(single("a", "https://new", "t-new"), "/k/in.yaml");
    kc::MergeOptions options;
    options.on_conflict = kc::ConflictPolicy::overwrite;
    auto plan = kc::plan_merge(target, target.path, {}, {input}, options);
    BOOST_TEST_REQUIRE(plan.has_value(), plan.error().message);
    BOOST_TEST(names(*plan, "clusters") == (std::vector<std::string>{"a"}), boost::test_tools::per_element());
    BOOST_TEST(server_of(*plan, "a") == "https://new");
}

BOOST_AUTO_TEST_CASE(as_names_context_cluster_and_user) {
    const std::string kubeadm =
        "clusters:\n- name: cluster.local\n  cluster:\n    server: https://10.0.0.1:6443\n"
        "users:\n- name: kubernetes-admin\n  user:\n    token: x\n"
        "contexts:\n- name: kubernetes-admin@cluster.local\n  context:\n    cluster: cluster.local\n"
        "    user: kubernetes-admin\ncurrent-context: kubernetes-admin@cluster.local\n";
    kc::MergeOptions options;
    options.as_name = "cluster01";
    options.server = "https://203.0.113.1:6443";
    auto plan = kc::plan_merge(std::nullopt, "/k/new", {}, {file(kubeadm, "/k/admin.conf")}, options);
    BOOST_TEST_REQUIRE(plan.has_value(), plan.error().message);
    BOOST_TEST(names(*plan, "clusters") == (std::vector<std::string>{"cluster01"}),
               boost::test_tools::per_element());
    BOOST_TEST(names(*plan, "users") == (std::vector<std::string>{"cluster01"}),
               boost::test_tools::per_element());
    BOOST_TEST(names(*plan, "contexts") == (std::vector<std::string>{"cluster01"}),
               boost::test_tools::per_element());
    BOOST_TEST(plan->document["contexts"][0]["context"]["cluster"].Scalar() == "cluster01");
    BOOST_TEST(server_of(*plan, "cluster01") == "https://203.0.113.1:6443");
    BOOST_TEST(plan->current_context_after == "cluster01");

    const std::string two = kubeadm + "";
    const auto both = file(single("x", "https://x", "t"), "/k/x.yaml");
    auto refused =
        kc::plan_merge(std::nullopt, "/k/new", {}, {file(kubeadm, "/k/admin.conf"), both}, options);
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(contains(refused.error().message, "--as names one context, but the inputs define 2"));

    const auto dangling = file("contexts:\n- name: c\n  context:\n    cluster: nowhere\n", "/k/d.yaml");
    options.server.reset();
    auto missing = kc::plan_merge(std::nullopt, "/k/new", {}, {dangling}, options);
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(contains(missing.error().message, "uses cluster \"nowhere\", which no input defines"));
}

BOOST_AUTO_TEST_CASE(server_rewrite_needs_a_single_cluster) {
    const auto input = file(
        "clusters:\n- name: a\n  cluster: {server: https://a}\n- name: b\n  cluster: {server: https://b}\n",
        "/k/two.yaml");
    kc::MergeOptions options;
    options.server = "https://c";
    auto plan = kc::plan_merge(std::nullopt, "/k/new", {}, {input}, options);
    BOOST_TEST_REQUIRE(!plan.has_value());
    BOOST_TEST((plan.error().kind == meshlink::util::ErrorKind::usage));
}

BOOST_AUTO_TEST_CASE(relative_paths_become_absolute_and_the_rest_is_verbatim) {
    const auto input = file(R"(clusters:
- name: c
  cluster:
    server: https://c
    certificate-authority: pki/ca.crt
    extensions:
    - name: example.com/x
      extension: {keep: "007", flag: true}
users:
- name: u
  user:
    tokenFile: ../secrets/token
    x-unknown: kept
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/helper
      interactiveMode: Never
      env:
      - name: A
        value: "1"
- name: v
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
contexts:
- name: x
  context: {cluster: c, user: u, namespace: "0123"}
)",
                            "/srv/in/config");
    // The certificate file is checked: it does not exist here.
    auto missing = kc::plan_merge(std::nullopt, "/k/new", {}, {input}, {});
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(contains(missing.error().message,
                        "/srv/in/config:2: cluster \"c\": certificate-authority /srv/in/pki/ca.crt"),
               missing.error().message);
    // Without the certificate reference everything else is planned.
    auto text = yaml::emit(input.root);
    const auto no_ca =
        file(text.replace(text.find("    certificate-authority: pki/ca.crt\n"), 38, ""), "/srv/in/config");
    auto plan = kc::plan_merge(std::nullopt, "/k/new", {}, {no_ca}, {});
    BOOST_TEST_REQUIRE(plan.has_value(), plan.error().message);
    const auto& users = plan->document["users"];
    BOOST_TEST(users[0]["user"]["tokenFile"].Scalar() == "/srv/secrets/token");
    BOOST_TEST(users[0]["user"]["exec"]["command"].Scalar() == "/srv/in/bin/helper");
    BOOST_TEST(users[0]["user"]["x-unknown"].Scalar() == "kept");
    BOOST_TEST(users[1]["user"]["exec"]["command"].Scalar() == "aws");
    const std::string written = yaml::emit(plan->document);
    BOOST_TEST(contains(written, "keep: \"007\""), written);
    BOOST_TEST(contains(written, "namespace: \"0123\""), written);
    BOOST_TEST(contains(written, "value: \"1\""), written);
    BOOST_TEST(plan->current_context_after.empty()); // no input sets one
}

BOOST_AUTO_TEST_CASE(entries_kubectl_rewrote_are_still_identical) {
    // kubectl writes back defaults (args: null, env: null, interactiveMode for v1beta1) and drops unknown
    // keys.
    const auto original = file("users:\n- name: u\n  user:\n    x-unknown: 1\n    exec:\n"
                               "      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n",
                               "/k/in.yaml");
    const auto rewritten =
        file("users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
             "      args: null\n      command: aws\n      env: null\n      interactiveMode: IfAvailable\n"
             "      provideClusterInfo: false\n",
             "/k/config");
    auto plan = kc::plan_merge(rewritten, rewritten.path, {}, {original}, {});
    BOOST_TEST_REQUIRE(plan.has_value(), plan.error().message);
    BOOST_TEST(!plan->changes_file());
    // A real difference is still one.
    const auto other =
        file("users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
             "      command: aws\n      interactiveMode: Never\n",
             "/k/other.yaml");
    BOOST_TEST(!kc::plan_merge(rewritten, rewritten.path, {}, {other}, {}).has_value());
}

BOOST_AUTO_TEST_CASE(names_in_other_kubeconfig_files_count_as_taken) {
    const auto other = file(single("a", "https://a", "t-a"), "/k/second");
    const auto input = file(single("a", "https://x", "t-x"), "/k/in.yaml");
    auto plan = kc::plan_merge(std::nullopt, "/k/first", {other}, {input}, {});
    BOOST_TEST(!plan.has_value());
    // And their current-context is kept: none is set in the target.
    const auto fresh = file(single("b", "https://b", "t-b"), "/k/b.yaml");
    auto ok = kc::plan_merge(std::nullopt, "/k/first", {other}, {fresh}, {});
    BOOST_TEST_REQUIRE(ok.has_value());
    BOOST_TEST(ok->current_context_after.empty());
}

BOOST_AUTO_TEST_CASE(dry_run_yaml_redacts_unless_raw) {
    const auto input = file(single("a", "https://a", "secret-token",
                                   "- name: p\n  user:\n    password: hunter2\n    username: me\n"),
                            "/k/in.yaml");
    auto plan = kc::plan_merge(std::nullopt, "/k/new", {}, {input}, {});
    BOOST_TEST_REQUIRE(plan.has_value(), plan.error().message);
    const std::string redacted = kc::dry_run_yaml(*plan, false);
    BOOST_TEST(!contains(redacted, "secret-token"));
    BOOST_TEST(!contains(redacted, "hunter2"));
    BOOST_TEST(contains(redacted, "REDACTED"));
    BOOST_TEST(contains(kc::dry_run_yaml(*plan, true), "secret-token"));
}

BOOST_AUTO_TEST_CASE(dry_run_yaml_redacts_every_exec_argument_and_env_value_and_url_credentials) {
    // Exec plugins take credentials as arguments and in variables whose names look harmless.
    const std::string text =
        "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster:\n"
        "    server: https://apiuser:api-pass-77@a.example:6443\n"
        "    proxy-url: http://proxyuser:proxy-pass-42@proxy.corp:3128\n"
        "users:\n- name: a\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
        "      command: get-token\n      args: [--token=arg-secret-1, --cluster, prod-east]\n"
        "      env:\n      - name: ROLE_ID\n        value: env-secret-2\n      - name: HOME_REGION\n"
        "        value: eu-west-9\n"
        "contexts:\n- name: a\n  context: {cluster: a, user: a}\n";
    auto plan = kc::plan_merge(std::nullopt, "/k/new", {}, {file(text, "/k/exec.yaml")}, {});
    BOOST_TEST_REQUIRE(plan.has_value(), plan.error().message);
    const std::string shown = kc::dry_run_yaml(*plan, false);
    for (const char* secret : {"arg-secret-1", "prod-east", "env-secret-2", "eu-west-9", "proxy-pass-42",
                               "proxyuser", "api-pass-77", "apiuser"}) {
        BOOST_TEST(!contains(shown, secret), secret << " shown in:\n" << shown);
    }
    // The shape stays: the command, the variable names, where the proxy and server are.
    BOOST_TEST(contains(shown, "command: get-token"), shown);
    BOOST_TEST(contains(shown, "name: ROLE_ID"), shown);
    BOOST_TEST(contains(shown, "name: HOME_REGION"), shown);
    BOOST_TEST(contains(shown, "proxy-url: http://REDACTED@proxy.corp:3128"), shown);
    BOOST_TEST(contains(shown, "server: https://REDACTED@a.example:6443"), shown);
    const std::string raw = kc::dry_run_yaml(*plan, true);
    BOOST_TEST(contains(raw, "arg-secret-1"));
    BOOST_TEST(contains(raw, "proxy-pass-42"));
}

BOOST_AUTO_TEST_SUITE_END()
