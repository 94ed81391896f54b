// Real kubectl (v1.32) against fakekube: the verbs tests and users run, and errors as kubectl prints them.
#include "tests/integration/fakekube/https_client.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink::test;

namespace {

FakekubeProcess start(const std::string& name, std::vector<std::string> extra = {}) {
    FakekubeOptions options(name);
    options.extra_args = std::move(extra);
    auto server = FakekubeProcess::start(std::move(options));
    BOOST_TEST_REQUIRE(server.has_value(), (server ? "" : server.error().message));
    return std::move(*server);
}

json get_json(const Kubectl& kubectl, const std::vector<std::string>& args) {
    std::vector<std::string> full = {"get"};
    full.insert(full.end(), args.begin(), args.end());
    full.insert(full.end(), {"-o", "json"});
    auto result = kubectl.run(full);
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    return json::parse(result.out);
}

const char* k_config_maps = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: alpha
  labels: {app: demo, tier: front}
data: {key: one}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: beta
  labels: {app: demo, tier: back}
data: {key: two}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: gamma
  labels: {app: other}
data: {key: three}
)";

} // namespace

BOOST_AUTO_TEST_SUITE(kubectl_verbs)

BOOST_AUTO_TEST_CASE(create_get_list_label_annotate_patch_replace_delete) {
    auto server = start("verbs");
    Kubectl kubectl(server);
    const auto manifest = kubectl.file("cms.yaml", k_config_maps);

    auto created = kubectl.run({"create", "-f", manifest});
    BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
    BOOST_TEST(created.out == "configmap/alpha created\nconfigmap/beta created\nconfigmap/gamma created\n");

    // get -o json of one object, and lists with label selectors.
    json alpha = get_json(kubectl, {"configmap", "alpha"});
    BOOST_TEST(alpha["data"]["key"] == "one");
    BOOST_TEST(alpha["metadata"]["namespace"] == "default");
    BOOST_TEST(!alpha["metadata"]["uid"].get<std::string>().empty());
    BOOST_TEST(get_json(kubectl, {"configmaps", "-l", "app=demo"})["items"].size() == 2U);
    BOOST_TEST(get_json(kubectl, {"configmaps", "-l", "app in (demo,other),tier!=back"})["items"].size() ==
               2U);
    BOOST_TEST(get_json(kubectl, {"configmaps", "-l", "!tier,app"})["items"].size() == 1U);
    auto table = kubectl.run({"get", "configmaps", "-l", "app=demo"});
    BOOST_TEST(table.exit_code == 0, table.err);
    BOOST_TEST(contains(table.out, "NAME"));
    BOOST_TEST(contains(table.out, "DATA"));
    BOOST_TEST(contains(table.out, "alpha"));
    BOOST_TEST(!contains(table.out, "gamma"));

    BOOST_TEST(kubectl.run({"label", "configmap", "alpha", "stage=prod"}).out == "configmap/alpha labeled\n");
    BOOST_TEST(kubectl.run({"annotate", "configmap", "alpha", "owner=team-a"}).out ==
               "configmap/alpha annotated\n");
    alpha = get_json(kubectl, {"configmap", "alpha"});
    BOOST_TEST(alpha["metadata"]["labels"]["stage"] == "prod");
    BOOST_TEST(alpha["metadata"]["annotations"]["owner"] == "team-a");
    BOOST_TEST(get_json(kubectl, {"configmaps", "-l", "stage=prod"})["items"].size() == 1U);

    auto strategic = kubectl.run({"patch", "configmap", "alpha", "-p", R"({"data":{"extra":"x"}})"});
    BOOST_TEST(strategic.exit_code == 0, strategic.err);
    auto merge =
        kubectl.run({"patch", "configmap", "alpha", "--type=merge", "-p", R"({"data":{"key":null}})"});
    BOOST_TEST(merge.exit_code == 0, merge.err);
    auto json_patch = kubectl.run({"patch", "configmap", "alpha", "--type=json", "-p",
                                   R"([{"op":"add","path":"/data/third","value":"3"}])"});
    BOOST_TEST(json_patch.exit_code == 0, json_patch.err);
    alpha = get_json(kubectl, {"configmap", "alpha"});
    BOOST_TEST(alpha["data"] == json({{"extra", "x"}, {"third", "3"}}));

    // replace -f with the current object edited: accepted; with a stale resourceVersion: Conflict.
    json edited = alpha;
    edited["data"]["replaced"] = "yes";
    auto replaced = kubectl.run({"replace", "-f", kubectl.file("alpha.json", edited.dump())});
    BOOST_TEST(replaced.exit_code == 0, replaced.err);
    BOOST_TEST(replaced.out == "configmap/alpha replaced\n");
    edited["data"]["again"] = "no";
    const auto stale = kubectl.file("stale.json", edited.dump()); // still the old resourceVersion
    auto conflict = kubectl.run({"replace", "-f", stale});
    BOOST_TEST(conflict.exit_code == 1);
    BOOST_TEST(contains(conflict.err,
                        "Error from server (Conflict): error when replacing \"" + stale +
                            "\": Operation cannot be fulfilled on configmaps \"alpha\": the object has been "
                            "modified; please apply your changes to the latest version and try again"),
               conflict.err);

    auto deleted = kubectl.run({"delete", "configmap", "alpha"});
    BOOST_TEST(deleted.exit_code == 0, deleted.err);
    BOOST_TEST(deleted.out == "configmap \"alpha\" deleted\n");
    auto gone = kubectl.run({"get", "configmap", "alpha"});
    BOOST_TEST(gone.exit_code == 1);
    BOOST_TEST(gone.err == "Error from server (NotFound): configmaps \"alpha\" not found\n");
    auto by_file = kubectl.run({"delete", "-f", manifest, "--ignore-not-found"});
    BOOST_TEST(by_file.exit_code == 0, by_file.err);
    BOOST_TEST(get_json(kubectl, {"configmaps", "-l", "app"})["items"].empty());
    auto stopped = server.stop();
    BOOST_TEST(stopped.has_value(), (stopped ? "" : stopped.error().message));
}

BOOST_AUTO_TEST_CASE(errors_read_as_from_kube_apiserver) {
    auto server = start("errors");
    Kubectl kubectl(server);
    const auto manifest = kubectl.file("cms.yaml", k_config_maps);
    BOOST_TEST(kubectl.run({"create", "-f", manifest}).exit_code == 0);
    auto again = kubectl.run({"create", "-f", manifest});
    BOOST_TEST(again.exit_code == 1);
    BOOST_TEST(contains(again.err, "Error from server (AlreadyExists): error when creating \"" + manifest +
                                       "\": configmaps \"alpha\" already exists"),
               again.err);
    auto secret = kubectl.run({"get", "secret", "x", "-n", "kube-system"});
    BOOST_TEST(secret.err == "Error from server (NotFound): secrets \"x\" not found\n");
    auto deployment = kubectl.run({"get", "deployment", "x"});
    BOOST_TEST(deployment.err == "Error from server (NotFound): deployments.apps \"x\" not found\n");

    const auto missing_ns =
        kubectl.file("ns.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ghost}\n");
    auto no_ns = kubectl.run({"create", "-f", missing_ns});
    BOOST_TEST(no_ns.exit_code == 1);
    BOOST_TEST(contains(no_ns.err, "Error from server (NotFound): error when creating \"" + missing_ns +
                                       "\": namespaces \"ghost\" not found"),
               no_ns.err);

    const auto invalid =
        kubectl.file("invalid.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_Valid}\n");
    auto refused = kubectl.run({"create", "-f", invalid});
    BOOST_TEST(refused.exit_code == 1);
    // kubectl rewrites Invalid answers from details.causes: "The <Kind> "<name>" is invalid: <field>:
    // <message>".
    BOOST_TEST(refused.err.rfind(
                   "The ConfigMap \"Not_Valid\" is invalid: metadata.name: Invalid value: \"Not_Valid\": "
                   "a lowercase RFC 1123 subdomain must consist of",
                   0) == 0,
               refused.err);

    const auto no_image = kubectl.file(
        "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n");
    auto pod = kubectl.run({"create", "-f", no_image});
    BOOST_TEST(contains(pod.err, "Pod \"p\" is invalid: spec.containers[0].image: Required value"), pod.err);
}

BOOST_AUTO_TEST_CASE(strict_field_validation_as_kubectl_sees_it) {
    auto server = start("strict");
    Kubectl kubectl(server);
    const auto manifest = kubectl.file("svc.yaml", R"(apiVersion: v1
kind: Service
metadata:
  name: typo
spec:
  ports:
  - port: 80
    targtPort: 8080
)");
    // kubectl's default --validate=strict leaves validation to the server (fieldValidation=Strict).
    auto strict = kubectl.run({"create", "-f", manifest});
    BOOST_TEST(strict.exit_code == 1);
    BOOST_TEST(strict.err ==
               "Error from server (BadRequest): error when creating \"" + manifest +
                   "\": Service in version \"v1\" cannot be handled as a Service: strict decoding error: "
                   "unknown field \"spec.ports[0].targtPort\"\n");
    auto warn = kubectl.run({"create", "-f", manifest, "--validate=warn"});
    BOOST_TEST(warn.exit_code == 0, warn.err);
    BOOST_TEST(contains(warn.err, "Warning: unknown field \"spec.ports[0].targtPort\""), warn.err);
    json stored = get_json(kubectl, {"service", "typo"});
    BOOST_TEST(!stored["spec"]["ports"][0].contains("targtPort"));
    BOOST_TEST(stored["spec"]["ports"][0]["targetPort"] == 80); // defaulted, the typo dropped

    const auto mistyped = kubectl.file("deploy.yaml", R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  replicas: "two"
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec: {containers: [{name: c, image: i}]}
)");
    auto type_error = kubectl.run({"create", "-f", mistyped, "--validate=false"});
    BOOST_TEST(type_error.exit_code == 1);
    BOOST_TEST(
        contains(
            type_error.err,
            "Error from server (BadRequest): error when creating \"" + mistyped +
                "\": Deployment in version \"v1\" cannot be handled as a Deployment: json: "
                "cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"),
        type_error.err);

    const auto bad_secret = kubectl.file(
        "secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {key: \"not*base64\"}\n");
    auto secret = kubectl.run({"create", "-f", bad_secret});
    BOOST_TEST(secret.exit_code == 1);
    BOOST_TEST(
        contains(
            secret.err,
            "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 3"),
        secret.err);
}

BOOST_AUTO_TEST_CASE(apply_creates_configures_and_leaves_unchanged) {
    auto server = start("apply");
    Kubectl kubectl(server);
    std::string text = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.25
        env: [{name: A, value: "1"}]
      - name: sidecar
        image: envoy:1
)";
    const auto manifest = kubectl.file("web.yaml", text);
    BOOST_TEST(kubectl.run({"apply", "-f", manifest}).out == "deployment.apps/web created\n");
    BOOST_TEST(kubectl.run({"apply", "-f", manifest}).out == "deployment.apps/web unchanged\n");
    // Someone else adds an env var to the sidecar; apply of a new image keeps it (strategic merge by name).
    auto other = kubectl.run(
        {"patch", "deployment", "web", "-p",
         R"({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","env":[{"name":"B","value":"2"}]}]}}}})"});
    BOOST_TEST(other.exit_code == 0, other.err);
    text.replace(text.find("nginx:1.25"), 10, "nginx:1.26");
    BOOST_TEST(kubectl.file("web.yaml", text) == manifest);
    auto configured = kubectl.run({"apply", "-f", manifest});
    BOOST_TEST(configured.out == "deployment.apps/web configured\n", configured.err);
    json web = get_json(kubectl, {"deployment", "web"});
    const json& containers = web["spec"]["template"]["spec"]["containers"];
    BOOST_TEST(containers.size() == 2U);
    BOOST_TEST(containers[0]["image"] == "nginx:1.26");
    BOOST_TEST(containers[0]["env"][0]["name"] == "A");
    BOOST_TEST(containers[1]["env"][0]["name"] == "B");
    BOOST_TEST(web["metadata"]["generation"] == 3); // create, sidecar env, image
}

BOOST_AUTO_TEST_CASE(node_ports_are_allocated_and_conflicts_refused) {
    auto server = start("ports");
    Kubectl kubectl(server);
    json kubernetes = get_json(kubectl, {"service", "kubernetes", "-n", "default"});
    BOOST_TEST(kubernetes["spec"]["clusterIP"] == "10.96.0.1");
    const auto first =
        kubectl.file("a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
                               "spec: {type: NodePort, selector: {app: a}, ports: [{port: 80}]}\n");
    BOOST_TEST(kubectl.run({"create", "-f", first}).exit_code == 0);
    json a = get_json(kubectl, {"service", "a"});
    const int node_port = a["spec"]["ports"][0]["nodePort"];
    BOOST_TEST(node_port >= 30000);
    BOOST_TEST(node_port <= 32767);
    const std::string ip = a["spec"]["clusterIP"];
    BOOST_TEST(ip.rfind("10.", 0) == 0);
    BOOST_TEST(ip != "10.96.0.1");

    const auto clash =
        kubectl.file("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: b}\n"
                               "spec: {type: NodePort, selector: {app: b}, ports: [{port: 80, nodePort: " +
                                   std::to_string(node_port) + "}]}\n");
    auto refused = kubectl.run({"create", "-f", clash});
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(refused.err == "The Service \"b\" is invalid: spec.ports[0].nodePort: Invalid value: " +
                                  std::to_string(node_port) + ": provided port is already allocated\n");
    const auto out_of_range =
        kubectl.file("c.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: c}\n"
                               "spec: {type: NodePort, ports: [{port: 80, nodePort: 80}]}\n");
    auto range = kubectl.run({"create", "-f", out_of_range});
    BOOST_TEST(contains(range.err,
                        "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. "
                        "The range of valid ports is 30000-32767"),
               range.err);
    // Freed with its Service, the port can be requested again.
    BOOST_TEST(kubectl.run({"delete", "service", "a"}).exit_code == 0);
    BOOST_TEST(kubectl.run({"create", "-f", clash}).exit_code == 0);
    BOOST_TEST(get_json(kubectl, {"service", "b"})["spec"]["ports"][0]["nodePort"] == node_port);
}

BOOST_AUTO_TEST_CASE(discovery_raw_and_config) {
    auto server = start("disco");
    Kubectl kubectl(server);
    auto resources = kubectl.run({"api-resources"});
    BOOST_TEST(resources.exit_code == 0, resources.err);
    for (const char* row : {"deployments", "daemonsets", "poddisruptionbudgets", "endpointslices", "leases",
                            "selfsubjectaccessreviews", "clusterrolebindings", "serviceaccounts"}) {
        BOOST_TEST(contains(resources.out, row), row);
    }
    auto short_names = kubectl.run({"get", "deploy,ds,svc,cm", "-n", "kube-system"});
    BOOST_TEST(short_names.exit_code == 0, short_names.err);
    auto version = kubectl.run({"get", "--raw", "/version"});
    BOOST_TEST(json::parse(version.out)["gitVersion"] == "v1.33.0");
    auto raw = kubectl.run({"get", "--raw", "/api/v1/namespaces/default/services/kubernetes"});
    BOOST_TEST(json::parse(raw.out)["spec"]["clusterIP"] == "10.96.0.1");
    auto view = kubectl.run({"config", "view", "-o", "json"});
    json config = json::parse(view.out);
    BOOST_TEST(config["current-context"] == "disco");
    BOOST_TEST(config["contexts"][0]["context"]["cluster"] == "disco");
    BOOST_TEST(config["contexts"][0]["context"]["user"] == "disco");
    BOOST_TEST(config["clusters"][0]["cluster"]["server"] == server.url());
}

BOOST_AUTO_TEST_SUITE_END()
