// The manifests with real kubectl (kustomize, strict create) and `kubectl meshlink agent install | uninstall
// | status` against fakekube.

#include "kube/kubeconfig.hpp"
#include "kube/rest_config.hpp"
#include "tests/integration/agent/harness.hpp"
#include "util/time.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <signal.h>

#include <filesystem>
#include <limits>
#include <map>

using namespace meshlink;
using namespace meshlink::test;

namespace {

const std::filesystem::path k_manifests = std::filesystem::path(MESHLINK_SOURCE_DIR) / "manifests";
const std::string k_daemonset = "/apis/apps/v1/namespaces/meshlink-system/daemonsets/meshlink-agent";

const std::string k_policy =
    "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/meshlink-agent-own-node";
const std::string k_policy_binding =
    "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/meshlink-agent-own-node";

// `older`: an API server before Kubernetes 1.30, which serves no admissionregistration.k8s.io/v1
// ValidatingAdmissionPolicies (fakekube's --runtime-config switches them off, as kube-apiserver's does).
FakekubeProcess start_server(const std::vector<std::filesystem::path>& seeds = {}, bool older = false) {
    FakekubeOptions options("install-it");
    options.seeds = seeds;
    if (older) {
        options.extra_args = {
            "--runtime-config", "admissionregistration.k8s.io/v1/validatingadmissionpolicies=false",
            "--runtime-config", "admissionregistration.k8s.io/v1/validatingadmissionpolicybindings=false"};
    }
    auto server = FakekubeProcess::start(options);
    BOOST_TEST_REQUIRE(server.has_value(), error_message(server));
    return std::move(*server);
}

kube::Client admin(const FakekubeProcess& server) {
    auto config = server.rest_config();
    BOOST_TEST_REQUIRE(config.has_value(), error_message(config));
    auto client = kube::Client::from_config(*config);
    BOOST_TEST_REQUIRE(client.has_value(), error_message(client));
    return std::move(*client);
}

CommandResult run(const std::vector<std::string>& argv,
                  const std::vector<std::string>& env = environment_with({})) {
    auto result = run_command(argv, env);
    BOOST_TEST_REQUIRE(result.has_value(), error_message(result));
    return std::move(*result);
}

CommandResult plugin(const FakekubeProcess& server, std::vector<std::string> args) {
    std::vector<std::string> argv{(bin_dir() / "kubectl-meshlink").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--kubeconfig", server.kubeconfig().string()});
    return run(argv);
}

std::vector<json> kustomize() {
    auto rendered = run({"kubectl", "kustomize", k_manifests.string()});
    BOOST_TEST_REQUIRE(rendered.exit_code == 0, rendered.err);
    return yaml_stream_to_json(rendered.out);
}

const json* find_kind(const std::vector<json>& objects, const std::string& kind) {
    for (const auto& object : objects) {
        if (object["kind"] == kind) {
            return &object;
        }
    }
    return nullptr;
}

std::string cilium_seed() {
    return R"(apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: cilium
  namespace: kube-system
spec:
  selector:
    matchLabels: {k8s-app: cilium}
  template:
    metadata:
      labels: {k8s-app: cilium}
    spec:
      containers:
      - name: cilium-agent
        image: quay.io/cilium/cilium:v1.16.5@sha256:758ca0793f5995bb938a2fa219dcce63dc0b3fa7fc4ce5cc851125281fb7361d
)";
}

// A client that authenticates as the current user of `kubeconfig`.
kube::Client client_of(const std::filesystem::path& kubeconfig) {
    kube::LoadingRules rules;
    rules.explicit_path = kubeconfig;
    auto config = kube::load_rest_config(rules, {}, kube::InClusterEnvironment{});
    BOOST_TEST_REQUIRE(config.has_value(), error_message(config));
    kube::ClientOptions options;
    options.retry.max_attempts = 1;
    auto client = kube::Client::from_config(std::move(*config), options);
    BOOST_TEST_REQUIRE(client.has_value(), error_message(client));
    return std::move(*client);
}

const std::string k_rbac_on = R"(apiVersion: v1
kind: ConfigMap
metadata: {name: fakekube-authorization, namespace: kube-system}
data: {mode: RBAC}
)";

} // namespace

BOOST_AUTO_TEST_SUITE(agent_manifests_and_install)

// Every object kustomize renders is accepted with strict field validation, by kubectl and by our client: the
// namespace, ServiceAccount, two roles and their bindings, the two admission policies and their bindings, the
// DaemonSet.
BOOST_AUTO_TEST_CASE(kustomize_output_passes_strict_validation) {
    const auto objects = kustomize();
    BOOST_TEST_REQUIRE(objects.size() == 11u);
    BOOST_TEST(find_kind(objects, "ValidatingAdmissionPolicy") != nullptr);
    BOOST_TEST(find_kind(objects, "ValidatingAdmissionPolicyBinding") != nullptr);
    BOOST_TEST(find_kind(objects, "DaemonSet") != nullptr);

    TempDirectory dir;
    auto with_kubectl = start_server();
    const auto env = environment_with({"KUBECONFIG=" + with_kubectl.kubeconfig().string()});
    for (std::size_t i = 0; i < objects.size(); ++i) {
        const auto file = dir.write(fmt::format("object-{}.json", i), objects[i].dump());
        auto created = run({"kubectl", "create", "--validate=strict", "-f", file.string()}, env);
        BOOST_TEST(created.exit_code == 0, objects[i]["kind"] << ": " << created.err);
    }
    auto listed =
        run({"kubectl", "get", "daemonset", "-n", "meshlink-system", "meshlink-agent", "-o", "name"}, env);
    BOOST_TEST(listed.out == "daemonset.apps/meshlink-agent\n", listed.err);

    auto with_client = start_server();
    auto client = admin(with_client);
    for (const auto& object : objects) {
        const std::string kind = object["kind"];
        std::string collection;
        if (kind == "Namespace") {
            collection = "/api/v1/namespaces";
        } else if (kind == "ServiceAccount") {
            collection = "/api/v1/namespaces/meshlink-system/serviceaccounts";
        } else if (kind == "ClusterRole") {
            collection = "/apis/rbac.authorization.k8s.io/v1/clusterroles";
        } else if (kind == "ClusterRoleBinding") {
            collection = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings";
        } else if (kind == "Role") {
            collection = "/apis/rbac.authorization.k8s.io/v1/namespaces/meshlink-system/roles";
        } else if (kind == "RoleBinding") {
            collection = "/apis/rbac.authorization.k8s.io/v1/namespaces/meshlink-system/rolebindings";
        } else if (kind == "DaemonSet") {
            collection = "/apis/apps/v1/namespaces/meshlink-system/daemonsets";
        } else if (kind == "ValidatingAdmissionPolicy") {
            collection = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies";
        } else if (kind == "ValidatingAdmissionPolicyBinding") {
            collection = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings";
        }
        BOOST_TEST_REQUIRE(!collection.empty(), kind);
        kube::WriteOptions strict;
        strict.field_validation = "Strict";
        auto created = client.create(collection, object, strict);
        BOOST_TEST(created.has_value(), kind << ": " << error_message(created));
    }
    // The validation is real: a misspelled field is refused.
    json broken = *find_kind(objects, "ServiceAccount");
    broken["metadata"]["name"] = "broken";
    broken["automountServiceAcountToken"] = false;
    kube::WriteOptions strict;
    strict.field_validation = "Strict";
    auto refused = client.create("/api/v1/namespaces/meshlink-system/serviceaccounts", broken, strict);
    BOOST_TEST(!refused.has_value());
    // The admission policy is checked against the schema too, down to its validations.
    json policy = *find_kind(objects, "ValidatingAdmissionPolicy");
    policy["metadata"]["name"] = "broken";
    policy["spec"]["validations"][0]["mesage"] = "typo";
    refused =
        client.create("/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies", policy, strict);
    BOOST_TEST(!refused.has_value());
    BOOST_TEST(error_message(refused).find("mesage") != std::string::npos, error_message(refused));
}

BOOST_AUTO_TEST_CASE(dry_run_equals_kubectl_kustomize_object_by_object) {
    TempDirectory dir;
    auto server = start_server();
    auto dry = plugin(server, {"agent", "install", "--dry-run", "-o", "yaml"});
    BOOST_TEST_REQUIRE(dry.exit_code == 0, dry.err);
    const auto ours = by_identity(yaml_stream_to_json(dry.out));
    const auto theirs = by_identity(kustomize());
    BOOST_TEST(ours.size() == theirs.size());
    for (const auto& [identity, object] : theirs) {
        auto it = ours.find(identity);
        BOOST_TEST_REQUIRE((it != ours.end()), identity);
        BOOST_TEST(it->second == object,
                   identity << "\nours:   " << it->second.dump() << "\ntheirs: " << object.dump());
    }
    // A dry run writes nothing.
    auto client = admin(server);
    BOOST_TEST(write_count(fakekube_stats(client)) == 0);

    // --image and --cilium-version change exactly those fields.
    auto custom = plugin(server, {"agent", "install", "--dry-run", "--image", "example.org/agent:dev",
                                  "--cilium-version", "v1.17.3"});
    BOOST_TEST_REQUIRE(custom.exit_code == 0, custom.err);
    auto changed = by_identity(yaml_stream_to_json(custom.out));
    const std::string ds_key = "DaemonSet/meshlink-system/meshlink-agent";
    auto& container = changed.at(ds_key)["spec"]["template"]["spec"]["containers"][0];
    BOOST_TEST(container["image"] == "example.org/agent:dev");
    BOOST_TEST(container["args"].back() == "--cilium-version=1.17");
    json expected = theirs.at(ds_key);
    expected["spec"]["template"]["spec"]["containers"][0]["image"] = "example.org/agent:dev";
    expected["spec"]["template"]["spec"]["containers"][0]["args"].push_back("--cilium-version=1.17");
    BOOST_TEST(changed.at(ds_key) == expected);
}

BOOST_AUTO_TEST_CASE(install_twice_writes_once_and_detects_cilium) {
    TempDirectory dir;
    auto server = start_server({dir.write("cilium.yaml", cilium_seed())});
    auto client = admin(server);
    reset_fakekube_stats(client);

    auto first = plugin(server, {"agent", "install"});
    BOOST_TEST_REQUIRE(first.exit_code == 0, first.err);
    BOOST_TEST(first.out.find("DaemonSet meshlink-system/meshlink-agent created") != std::string::npos,
               first.out);
    BOOST_TEST(first.err.find("Cilium 1.16") != std::string::npos, first.err);
    BOOST_TEST(fakekube_stats(client).value("POST", 0) == 11); // one create per object kustomize renders
    BOOST_TEST(first.out.find("ValidatingAdmissionPolicy meshlink-agent-own-node created") !=
                   std::string::npos,
               first.out);
    BOOST_TEST(client.get(k_policy).has_value());
    BOOST_TEST(client.get(k_policy_binding).has_value());
    auto ds = client.get(k_daemonset);
    BOOST_TEST_REQUIRE(ds.has_value(), error_message(ds));
    const auto& args = (*ds)["spec"]["template"]["spec"]["containers"][0]["args"];
    BOOST_TEST(args.back() == "--cilium-version=1.16", args.dump());

    // Real kubectl sees what was installed.
    const auto env = environment_with({"KUBECONFIG=" + server.kubeconfig().string()});
    auto sa = run(
        {"kubectl", "get", "serviceaccount", "-n", "meshlink-system", "meshlink-agent", "-o", "name"}, env);
    BOOST_TEST(sa.exit_code == 0, sa.err);

    reset_fakekube_stats(client);
    auto second = plugin(server, {"agent", "install"});
    BOOST_TEST_REQUIRE(second.exit_code == 0, second.err);
    const auto stats = fakekube_stats(client);
    BOOST_TEST(write_count(stats) == 0, stats.dump());
    BOOST_TEST(stats.value("GET", 0) >= 11); // it did compare every object
    BOOST_TEST(second.out.find("created") == std::string::npos, second.out);

    // A new image is one PATCH of the DaemonSet.
    reset_fakekube_stats(client);
    auto updated = plugin(server, {"agent", "install", "--image", "example.org/agent:v2"});
    BOOST_TEST_REQUIRE(updated.exit_code == 0, updated.err);
    const auto after_update = fakekube_stats(client);
    BOOST_TEST(after_update.value("PATCH", 0) == 1, after_update.dump());
    BOOST_TEST(write_count(after_update) == 1, after_update.dump());
    auto image = client.get(k_daemonset);
    BOOST_TEST_REQUIRE(image.has_value());
    BOOST_TEST((*image)["spec"]["template"]["spec"]["containers"][0]["image"] == "example.org/agent:v2");
}

BOOST_AUTO_TEST_CASE(uninstall_removes_what_install_created) {
    TempDirectory dir;
    auto server = start_server({dir.write("node.yaml", R"(apiVersion: v1
kind: Node
metadata:
  name: reported
  labels: {meshlink.io/kernel-ready: "true", meshlink.io/kernel-version: "6.1.0", keep: "me"}
  annotations: {meshlink.io/node-report: "{}"}
)")});
    auto client = admin(server);
    BOOST_TEST_REQUIRE(plugin(server, {"agent", "install"}).exit_code == 0);
    auto refused = plugin(server, {"agent", "uninstall"}); // no TTY, no --yes
    BOOST_TEST(refused.exit_code == 2);
    BOOST_TEST(client.get(k_daemonset).has_value());

    auto removed = plugin(server, {"agent", "uninstall", "--yes"});
    BOOST_TEST_REQUIRE(removed.exit_code == 0, removed.err);
    BOOST_TEST(!client.get(k_daemonset).has_value());
    BOOST_TEST(!client.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/meshlink-agent").has_value());
    BOOST_TEST(
        !client.get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/meshlink-agent").has_value());
    BOOST_TEST(
        !client.get("/apis/rbac.authorization.k8s.io/v1/namespaces/meshlink-system/roles/meshlink-agent")
             .has_value());
    BOOST_TEST(!client.get(k_policy).has_value());
    BOOST_TEST(!client.get(k_policy_binding).has_value());
    BOOST_TEST(wait_for([&] { return !client.get("/api/v1/namespaces/meshlink-system").has_value(); }));
    // Once more: nothing left, still fine.
    auto again = plugin(server, {"agent", "uninstall", "--yes"});
    BOOST_TEST(again.exit_code == 0, again.err);
    BOOST_TEST(again.out.find("not found") != std::string::npos, again.out);
    // The reports stayed; --purge-reports removes them and nothing else.
    auto node = client.get("/api/v1/nodes/reported");
    BOOST_TEST_REQUIRE(node.has_value());
    BOOST_TEST((*node)["metadata"]["labels"].contains("meshlink.io/kernel-ready"));
    auto purged = plugin(server, {"agent", "uninstall", "--yes", "--purge-reports"});
    BOOST_TEST_REQUIRE(purged.exit_code == 0, purged.err);
    BOOST_TEST(purged.out.find("reports removed from 1 node") != std::string::npos, purged.out);
    node = client.get("/api/v1/nodes/reported");
    BOOST_TEST_REQUIRE(node.has_value());
    const auto& metadata = (*node)["metadata"];
    BOOST_TEST(!metadata["labels"].contains("meshlink.io/kernel-ready"));
    BOOST_TEST(!metadata["labels"].contains("meshlink.io/kernel-version"));
    BOOST_TEST(metadata["labels"]["keep"] == "me");
    BOOST_TEST(!metadata.value("annotations", json::object()).contains("meshlink.io/node-report"));
}

// Before Kubernetes 1.30 there is no ValidatingAdmissionPolicy to install: install applies everything else,
// names what it skipped and says what that leaves (every Node patchable); uninstall skips them likewise.
BOOST_AUTO_TEST_CASE(an_api_server_without_admission_policies_gets_the_rest_and_a_warning) {
    auto server = start_server({}, true);
    auto client = admin(server);
    const auto env = environment_with({"KUBECONFIG=" + server.kubeconfig().string()});
    auto resources =
        run({"kubectl", "api-resources", "--api-group=admissionregistration.k8s.io", "-o", "name"}, env);
    BOOST_TEST_REQUIRE(resources.exit_code == 0, resources.err);
    BOOST_TEST(resources.out.find("validatingadmissionpolicies") == std::string::npos, resources.out);
    reset_fakekube_stats(client);

    auto installed = plugin(server, {"agent", "install"});
    BOOST_TEST_REQUIRE(installed.exit_code == 0, installed.err);
    BOOST_TEST(installed.out.find("DaemonSet meshlink-system/meshlink-agent created") != std::string::npos,
               installed.out);
    BOOST_TEST(installed.out.find("ValidatingAdmissionPolicy meshlink-agent-own-node skipped (not served)") !=
                   std::string::npos,
               installed.out);
    BOOST_TEST(
        installed.out.find("ValidatingAdmissionPolicyBinding meshlink-agent-own-node skipped (not served)") !=
            std::string::npos,
        installed.out);
    BOOST_TEST(
        installed.err.find("does not serve admissionregistration.k8s.io/v1 validatingadmissionpolicies") !=
            std::string::npos,
        installed.err);
    BOOST_TEST(installed.err.find("can patch every Node") != std::string::npos, installed.err);
    BOOST_TEST(fakekube_stats(client).value("POST", 0) == 7);

    auto removed = plugin(server, {"agent", "uninstall", "--yes"});
    BOOST_TEST_REQUIRE(removed.exit_code == 0, removed.err);
    BOOST_TEST(removed.out.find("ValidatingAdmissionPolicy meshlink-agent-own-node skipped (not served)") !=
                   std::string::npos,
               removed.out);
    BOOST_TEST(!client.get(k_daemonset).has_value());
}

BOOST_AUTO_TEST_CASE(status_tells_fresh_stale_and_missing_reports_apart) {
    TempDirectory dir;
    const auto now = std::chrono::system_clock::now();
    auto report = [&](const std::string& node, std::chrono::seconds age, std::optional<int> interval) {
        json document = {{"schemaVersion", 1},
                         {"node", node},
                         {"observedAt", meshlink::util::format_rfc3339(now - age)},
                         {"ciliumVersion", "1.16"},
                         {"checks", json::array({{{"id", "node.kernel.version"}, {"status", "fail"}}})}};
        if (interval) {
            document["intervalSeconds"] = *interval;
        }
        return document.dump();
    };
    auto node = [&](const std::string& name, const std::string& annotation, const std::string& ready) {
        json object = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}};
        if (!annotation.empty()) {
            object["metadata"]["annotations"] = {{"meshlink.io/node-report", annotation}};
            object["metadata"]["labels"] = {{"meshlink.io/kernel-ready", ready}};
        }
        return object.dump() + "\n---\n";
    };
    const std::string seed =
        node("fresh-1", report("fresh-1", std::chrono::seconds(30), 600), "false") +
        node("fresh-short", report("fresh-short", std::chrono::seconds(170), 60), "true") +
        node("stale-short", report("stale-short", std::chrono::seconds(200), 60), "true") +
        node("stale-default", report("stale-default", std::chrono::hours(1), std::nullopt), "true") +
        node("missing-1", "", "");
    auto server = start_server({dir.write("nodes.yaml", seed)});

    auto status = plugin(server, {"agent", "status", "-o", "json"});
    BOOST_TEST_REQUIRE(status.exit_code == 0, status.err);
    const json out = json::parse(status.out);
    std::map<std::string, std::string> states;
    for (const auto& entry : out["nodes"]) {
        states[entry["name"]] = entry["report"];
    }
    BOOST_TEST(states["fresh-1"] == "fresh");
    BOOST_TEST(states["fresh-short"] == "fresh");
    BOOST_TEST(states["stale-short"] == "stale");
    BOOST_TEST(states["stale-default"] == "stale");
    BOOST_TEST(states["missing-1"] == "missing");
    BOOST_TEST(out["summary"]["fresh"] == 2);
    BOOST_TEST(out["summary"]["stale"] == 2);
    BOOST_TEST(out["summary"]["missing"] == 1);
    BOOST_TEST(out["daemonSet"].is_null());
    BOOST_TEST(out["nodes"][0]["name"] == "fresh-1");
    BOOST_TEST(out["nodes"][0]["kernelReady"] == false);
    BOOST_TEST(out["nodes"][0]["failing"] == json::array({"node.kernel.version"}));

    // Through kubectl's plugin mechanism, as a table (no TTY: no colours).
    const auto env =
        environment_with({"KUBECONFIG=" + server.kubeconfig().string(),
                          "PATH=" + bin_dir().string() + ":" + std::string(std::getenv("PATH"))});
    auto table = run({"kubectl", "meshlink", "agent", "status"}, env);
    BOOST_TEST_REQUIRE(table.exit_code == 0, table.err);
    BOOST_TEST(table.out.find("not installed") != std::string::npos, table.out);
    BOOST_TEST(table.out.find("\x1b[") == std::string::npos);
    BOOST_TEST(table.out.find("5 nodes: 2 fresh, 2 stale, 1 missing") != std::string::npos, table.out);
}

// The installed RBAC (and admission policy) is what the agent needs and no more: with RBAC on and the
// ServiceAccount's pod-bound token, the real agent publishes its report and renews its Lease; it may not list
// Leases, delete them, or write them outside meshlink-system.
BOOST_AUTO_TEST_CASE(the_agent_runs_with_exactly_the_installed_rbac) {
    TempDirectory dir;
    FakekubeOptions options("install-it");
    options.seeds = {dir.write("rbac.yaml", k_rbac_on),
                     dir.write("node.yaml", "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n")};
    auto server = FakekubeProcess::start(options);
    BOOST_TEST_REQUIRE(server.has_value(), error_message(server));
    auto installed = plugin(*server, {"agent", "install"});
    BOOST_TEST_REQUIRE(installed.exit_code == 0, installed.err);
    const auto token = agent_pod_token(*server, dir, "n1");
    BOOST_TEST_REQUIRE(token.has_value(), error_message(token));
    const auto kubeconfig = token_kubeconfig(*server, dir, *token, "agent");
    BOOST_TEST_REQUIRE(kubeconfig.has_value(), error_message(kubeconfig));
    const auto& as_agent = *kubeconfig;

    auto args = fixture_serve_args(as_agent, "n1");
    args.insert(args.end(), {"--interval", "1s"});
    auto agent = AgentProcess::start(args);
    BOOST_TEST_REQUIRE(agent.has_value(), error_message(agent));
    auto client = admin(*server);
    const std::string lease =
        "/apis/coordination.k8s.io/v1/namespaces/meshlink-system/leases/meshlink-agent-n1";
    std::string first_renewal;
    BOOST_TEST_REQUIRE(wait_for([&] {
                           auto found = client.get(lease);
                           if (found && first_renewal.empty()) {
                               first_renewal = (*found)["spec"]["renewTime"];
                           }
                           // Created, then renewed at least once with the agent's own rights.
                           return found && (*found)["spec"]["renewTime"] != first_renewal;
                       }),
                       agent->log());
    auto node = client.get("/api/v1/nodes/n1");
    BOOST_TEST_REQUIRE(node.has_value());
    BOOST_TEST((*node)["metadata"]["annotations"].contains("meshlink.io/node-report"));
    BOOST_TEST(agent->log().find("failed") == std::string::npos, agent->log());
    agent->signal(SIGTERM);
    BOOST_TEST(agent->wait_exit(std::chrono::seconds(60)).has_value());

    // And nothing more: as the agent, every other Lease operation is refused.
    auto as_agent_client = client_of(as_agent);
    const std::string leases = "/apis/coordination.k8s.io/v1/namespaces/meshlink-system/leases";
    BOOST_TEST(as_agent_client.get(lease).has_value());
    auto forbidden = [](const auto& result) {
        return !result.has_value() && result.error().kind == util::ErrorKind::forbidden;
    };
    BOOST_TEST(forbidden(as_agent_client.list(leases)));
    BOOST_TEST(forbidden(as_agent_client.remove(lease)));
    auto elsewhere = *client.get(lease);
    elsewhere["metadata"] = {{"name", "n1"}, {"namespace", "kube-node-lease"}};
    BOOST_TEST(forbidden(
        as_agent_client.create("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", elsewhere)));
    elsewhere["metadata"]["namespace"] = "kube-system";
    BOOST_TEST(forbidden(
        as_agent_client.create("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases", elsewhere)));
}

// One node cannot break the cluster's view: hostile reports next to good ones, as `agent status` shows them.
// Then a user who may read Nodes but not Leases: status still works and says how it judged.
BOOST_AUTO_TEST_CASE(status_survives_hostile_reports_and_unreadable_leases) {
    TempDirectory dir;
    const auto now = std::chrono::system_clock::now();
    auto report = [&](const std::string& node, std::chrono::seconds age) {
        return json{{"schemaVersion", 1},
                    {"node", node},
                    {"observedAt", meshlink::util::format_rfc3339(now - age)},
                    {"intervalSeconds", 600},
                    {"ciliumVersion", "1.16"},
                    {"facts", json::object()},
                    {"checks", json::array({{{"id", "node.kernel.version"}, {"status", "pass"}}})}};
    };
    json items = json::array();
    auto add_node = [&](const std::string& name, const std::string& annotation) {
        items.push_back(
            {{"apiVersion", "v1"},
             {"kind", "Node"},
             {"metadata", {{"name", name}, {"annotations", {{"meshlink.io/node-report", annotation}}}}}});
    };
    add_node("good", report("good", std::chrono::seconds(30)).dump());
    std::string deep = report("deep", std::chrono::seconds(30)).dump();
    deep.insert(1, "\"nested\":" + std::string(100000, '[') + std::string(100000, ']') + ",");
    add_node("deep", deep);
    json typed = report("typed", std::chrono::seconds(30));
    typed["ciliumVersion"] = 5;
    add_node("typed", typed.dump());
    json escaping = report("escaping", std::chrono::seconds(30));
    escaping["ciliumVersion"] = "\x1b]0;all good\x07\x1b[2J";
    escaping["checks"] = json::array({{{"id", "\x1b[1A\r  good  fresh"}, {"status", "fail"}}});
    add_node("escaping", escaping.dump());
    json forever = report("forever", std::chrono::seconds(30));
    forever["intervalSeconds"] = std::numeric_limits<std::int64_t>::max();
    add_node("forever", forever.dump());
    // A week-old report whose agent renews its Lease.
    add_node("leased", report("leased", std::chrono::hours(24 * 7)).dump());
    items.push_back(
        {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "meshlink-system"}}}});
    items.push_back(
        {{"apiVersion", "coordination.k8s.io/v1"},
         {"kind", "Lease"},
         {"metadata", {{"name", "meshlink-agent-leased"}, {"namespace", "meshlink-system"}}},
         {"spec",
          {{"holderIdentity", "leased"},
           {"leaseDurationSeconds", 1800},
           {"renewTime", meshlink::util::format_rfc3339_micro(now - std::chrono::seconds(60))}}}});
    // RBAC on, and a user who may read Nodes and the DaemonSet, not Leases.
    items.push_back(json::parse(R"({"apiVersion":"v1","kind":"ConfigMap",
        "metadata":{"name":"fakekube-authorization","namespace":"kube-system"},"data":{"mode":"RBAC"}})"));
    items.push_back(json::parse(R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole",
        "metadata":{"name":"node-reader"},"rules":[{"apiGroups":[""],"resources":["nodes"],"verbs":["get","list"]},
        {"apiGroups":["apps"],"resources":["daemonsets"],"verbs":["get"]}]})"));
    items.push_back(json::parse(R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding",
        "metadata":{"name":"node-reader"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole",
        "name":"node-reader"},"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"viewer"}]})"));
    FakekubeOptions options("install-it");
    options.seeds = {
        dir.write("cluster.json", json{{"apiVersion", "v1"}, {"kind", "List"}, {"items", items}}.dump())};
    options.token_file = dir.write("tokens.csv", "viewer-token,viewer,3001\n");
    auto server = FakekubeProcess::start(options);
    BOOST_TEST_REQUIRE(server.has_value(), error_message(server));

    auto status = plugin(*server, {"agent", "status", "-o", "json"});
    BOOST_TEST_REQUIRE(status.exit_code == 0, status.err);
    const json out = json::parse(status.out);
    std::map<std::string, json> nodes;
    for (const auto& entry : out["nodes"]) {
        nodes[entry["name"]] = entry;
    }
    BOOST_TEST(out["leases"]["readable"] == true);
    BOOST_TEST(nodes["good"]["report"] == "fresh");
    BOOST_TEST(nodes["escaping"]["report"] == "fresh");
    BOOST_TEST(nodes["leased"]["report"] == "fresh");
    BOOST_TEST(nodes["leased"]["liveness"] == "lease");
    for (const char* invalid : {"deep", "typed", "forever"}) {
        BOOST_TEST(nodes[invalid]["report"] == "invalid", invalid);
    }
    BOOST_TEST(nodes["deep"]["problem"].get<std::string>().find("nested more than 32") != std::string::npos);
    BOOST_TEST(nodes["typed"]["problem"].get<std::string>().find("ciliumVersion") != std::string::npos);
    BOOST_TEST(nodes["forever"]["problem"].get<std::string>().find("intervalSeconds") != std::string::npos);
    BOOST_TEST(out["summary"]["fresh"] == 3);
    BOOST_TEST(out["summary"]["invalid"] == 3);

    // The table shows the escaping node's strings escaped: no window title, no screen clear, no fake line.
    auto table = plugin(*server, {"agent", "status"});
    BOOST_TEST_REQUIRE(table.exit_code == 0, table.err);
    BOOST_TEST(table.out.find('\x1b') == std::string::npos);
    BOOST_TEST(table.out.find('\x07') == std::string::npos);
    BOOST_TEST(table.out.find('\r') == std::string::npos);
    BOOST_TEST(table.out.find("\\x1b]0;all good\\x07\\x1b[2J") != std::string::npos, table.out);
    BOOST_TEST(table.out.find("\\x1b[1A\\x0d  good  fresh") != std::string::npos, table.out);
    BOOST_TEST(table.out.find("6 nodes: 3 fresh, 0 stale, 0 missing, 3 invalid") != std::string::npos,
               table.out);

    // Without the right to list Leases: observedAt decides (the week-old report is stale), and it says so.
    const auto viewer = token_kubeconfig(*server, dir, "viewer-token");
    BOOST_TEST_REQUIRE(viewer.has_value(), error_message(viewer));
    const auto& as_viewer = *viewer;
    auto viewed = run(
        {(bin_dir() / "kubectl-meshlink").string(), "agent", "status", "--kubeconfig", as_viewer.string()});
    BOOST_TEST_REQUIRE(viewed.exit_code == 0, viewed.err);
    BOOST_TEST(viewed.out.find("6 nodes: 2 fresh, 1 stale, 0 missing, 3 invalid") != std::string::npos,
               viewed.out);
    BOOST_TEST(
        viewed.out.find("Leases could not be read, so staleness was judged by each report's observedAt") !=
            std::string::npos,
        viewed.out);
    BOOST_TEST(viewed.out.find("403") != std::string::npos, viewed.out);
}

BOOST_AUTO_TEST_SUITE_END()
