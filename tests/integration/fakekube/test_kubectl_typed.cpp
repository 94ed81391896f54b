// Real kubectl's typed commands (protobuf bodies), the Kubernetes 1.33 schema, and the APIs fakekube added
// for it (admissionregistration.k8s.io/v1, networking.k8s.io/v1 ServiceCIDR, Leases), each result read back
// through the API with a raw HTTPS client.
#include "tests/fakekube/unit/protobuf_writer.hpp"
#include "tests/integration/fakekube/https_client.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink::test;
using namespace meshlink::fakekube::testing;

namespace {

FakekubeProcess start(const std::string& name) {
    FakekubeOptions options(name);
    options.extra_args = {"--controller-delay-ms", "50"};
    auto server = FakekubeProcess::start(std::move(options));
    BOOST_TEST_REQUIRE(server.has_value(), (server ? "" : server.error().message));
    return std::move(*server);
}

json api_get(HttpsClient& client, const std::string& path) {
    auto response = client.request("GET", path);
    BOOST_TEST_REQUIRE(response.status == 200, path + ": " + response.body);
    return response.json_body();
}

} // namespace

BOOST_AUTO_TEST_SUITE(kubectl_typed)

BOOST_AUTO_TEST_CASE(generator_commands_send_protobuf_and_store_what_json_would) {
    auto server = start("typed");
    Kubectl kubectl(server);
    HttpsClient api(server, Credentials::admin(server));

    // The sandbox's first command; -v=8 shows the body really is protobuf.
    auto ns = kubectl.run({"create", "namespace", "demo", "-v=8"});
    BOOST_TEST_REQUIRE(ns.exit_code == 0, ns.err);
    BOOST_TEST(contains(ns.out, "namespace/demo created"), ns.out);
    BOOST_TEST(contains(ns.err, "Content-Type: application/vnd.kubernetes.protobuf"), ns.err);
    json demo = api_get(api, "/api/v1/namespaces/demo");
    BOOST_TEST(demo["status"]["phase"] == "Active");
    BOOST_TEST(demo["spec"]["finalizers"] == json::array({"kubernetes"}));
    BOOST_TEST(demo["metadata"]["labels"]["kubernetes.io/metadata.name"] == "demo");

    auto cm = kubectl.run({"-n", "demo", "create", "configmap", "settings", "--from-literal=mode=fast",
                           "--from-literal=empty="});
    BOOST_TEST_REQUIRE(cm.exit_code == 0, cm.err);
    BOOST_TEST(api_get(api, "/api/v1/namespaces/demo/configmaps/settings")["data"] ==
               json({{"mode", "fast"}, {"empty", ""}}));

    auto secret = kubectl.run({"-n", "demo", "create", "secret", "generic", "creds",
                               "--from-literal=user=admin", "--type=example.com/login"});
    BOOST_TEST_REQUIRE(secret.exit_code == 0, secret.err);
    json creds = api_get(api, "/api/v1/namespaces/demo/secrets/creds");
    BOOST_TEST(creds["data"]["user"] == "YWRtaW4="); // base64("admin"), as bytes travel in protobuf
    BOOST_TEST(creds["type"] == "example.com/login");

    auto service = kubectl.run(
        {"-n", "demo", "create", "service", "nodeport", "web", "--tcp=80:8080", "--node-port=30080"});
    BOOST_TEST_REQUIRE(service.exit_code == 0, service.err);
    json web = api_get(api, "/api/v1/namespaces/demo/services/web");
    BOOST_TEST(web["spec"]["type"] == "NodePort");
    BOOST_TEST(web["spec"]["ports"][0]["port"] == 80);
    BOOST_TEST(web["spec"]["ports"][0]["targetPort"] == 8080); // an IntOrString holding an int
    BOOST_TEST(web["spec"]["ports"][0]["nodePort"] == 30080);
    BOOST_TEST(web["spec"]["selector"] == json({{"app", "web"}}));

    // replicas 0 is a pointer set to zero: kept, not defaulted to 1.
    auto deployment = kubectl.run(
        {"-n", "demo", "create", "deployment", "web", "--image=nginx:1.27", "--replicas=0", "--port=80"});
    BOOST_TEST_REQUIRE(deployment.exit_code == 0, deployment.err);
    json deploy = api_get(api, "/apis/apps/v1/namespaces/demo/deployments/web");
    BOOST_TEST(deploy["spec"]["replicas"] == 0);
    const json& container = deploy["spec"]["template"]["spec"]["containers"][0];
    BOOST_TEST(container["image"] == "nginx:1.27");
    BOOST_TEST(container["ports"][0]["containerPort"] == 80);
    BOOST_TEST(deploy["spec"]["strategy"]["type"] == "RollingUpdate");
    BOOST_TEST(!container.contains("workingDir")); // an empty omitempty string is dropped, as Go's JSON does

    auto job = kubectl.run({"-n", "demo", "create", "job", "once", "--image=busybox", "--", "echo", "hi"});
    BOOST_TEST_REQUIRE(job.exit_code == 0, job.err);
    json once = api_get(api, "/apis/batch/v1/namespaces/demo/jobs/once");
    BOOST_TEST(once["spec"]["template"]["spec"]["containers"][0]["command"] == json({"echo", "hi"}));
    BOOST_TEST(once["spec"]["template"]["spec"]["restartPolicy"] == "Never");

    for (const auto& args : std::vector<std::vector<std::string>>{
             {"create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=1"},
             {"create", "serviceaccount", "robot"},
             {"create", "role", "reader", "--verb=get,list", "--resource=pods"},
             {"create", "rolebinding", "robot-reads", "--role=reader", "--serviceaccount=demo:robot"}}) {
        std::vector<std::string> full = {"-n", "demo"};
        full.insert(full.end(), args.begin(), args.end());
        auto result = kubectl.run(full);
        BOOST_TEST(result.exit_code == 0, args[1] + ": " + result.err);
    }
    BOOST_TEST(
        api_get(api, "/apis/policy/v1/namespaces/demo/poddisruptionbudgets/web")["spec"]["minAvailable"] ==
        1);
    BOOST_TEST(
        api_get(api,
                "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/rolebindings/robot-reads")["subjects"][0]
                                                                                              ["name"] ==
        "robot");
    auto can_i = kubectl.run({"auth", "can-i", "delete", "pods", "-n", "demo"});
    BOOST_TEST(can_i.out == "yes\n", can_i.err);
}

BOOST_AUTO_TEST_CASE(protobuf_fakekube_cannot_read_is_refused_not_dropped) {
    auto server = start("proto-errors");
    HttpsClient api(server, Credentials::admin(server));
    const std::string meta = bytes_field(1, "x");
    // ConfigMap field 99 does not exist: the real decoder would drop it; fakekube says so instead.
    auto unknown = api.request("POST", "/api/v1/namespaces/default/configmaps",
                               envelope("v1", "ConfigMap", bytes_field(1, meta) + varint_field(99, 1)),
                               "application/vnd.kubernetes.protobuf");
    BOOST_TEST(unknown.status == 400, unknown.body);
    BOOST_TEST(contains(unknown.json_body()["message"], "field 99 of protobuf message core.v1.ConfigMap"),
               unknown.body);
    BOOST_TEST(api.request("GET", "/api/v1/namespaces/default/configmaps/x").status == 404);

    auto kind =
        api.request("POST", "/api/v1/namespaces/default/endpoints",
                    envelope("v1", "Endpoints", bytes_field(1, meta)), "application/vnd.kubernetes.protobuf");
    BOOST_TEST(kind.status == 415, kind.body);
    BOOST_TEST(kind.json_body()["reason"] == "UnsupportedMediaType");

    auto good = api.request(
        "POST", "/api/v1/namespaces/default/configmaps",
        envelope("v1", "ConfigMap",
                 bytes_field(1, meta) + bytes_field(2, bytes_field(1, "k") + bytes_field(2, "v"))),
        "application/vnd.kubernetes.protobuf", "application/vnd.kubernetes.protobuf, application/json");
    BOOST_TEST(good.status == 201, good.body);
    BOOST_TEST(contains(good.header("content-type"), "application/json")); // a type the client accepted
    BOOST_TEST(good.json_body()["metadata"]["name"] == "x");
    BOOST_TEST(good.json_body()["data"] == json({{"k", "v"}}));

    auto protobuf_only = api.request("GET", "/api/v1/namespaces/default/configmaps/x", "", "application/json",
                                     "application/vnd.kubernetes.protobuf");
    BOOST_TEST(protobuf_only.status == 406, protobuf_only.body);
}

BOOST_AUTO_TEST_CASE(schema_is_kubernetes_1_33) {
    auto server = start("schema");
    Kubectl kubectl(server);
    HttpsClient api(server, Credentials::admin(server));
    // spec.trafficDistribution came after 1.22: accepted under kubectl's default strict validation.
    const auto newer = kubectl.file("svc.yaml", R"(apiVersion: v1
kind: Service
metadata: {name: near}
spec:
  selector: {app: near}
  ports: [{port: 80}]
  trafficDistribution: PreferClose
)");
    auto created = kubectl.run({"create", "-f", newer});
    BOOST_TEST(created.exit_code == 0, created.err);
    BOOST_TEST(api_get(api, "/api/v1/namespaces/default/services/near")["spec"]["trafficDistribution"] ==
               "PreferClose");
    const auto unknown = kubectl.file("bad.yaml", R"(apiVersion: v1
kind: Service
metadata: {name: far}
spec:
  ports: [{port: 80}]
  trafficDistributon: PreferClose
)");
    auto refused = kubectl.run({"create", "-f", unknown});
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(contains(refused.err,
                        "Service in version \"v1\" cannot be handled as a Service: strict decoding "
                        "error: unknown field \"spec.trafficDistributon\""),
               refused.err);
    auto version = json::parse(kubectl.run({"get", "--raw", "/version"}).out);
    BOOST_TEST(version["minor"] == "33");
}

BOOST_AUTO_TEST_CASE(admission_policies_and_service_cidrs_are_served) {
    auto server = start("newer-apis");
    Kubectl kubectl(server);
    HttpsClient api(server, Credentials::admin(server));
    const auto manifest = kubectl.file("apis.yaml", R"(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: max-replicas}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}
  validations:
  - {expression: "object.spec.replicas <= 5", message: "at most 5 replicas"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: max-replicas}
spec: {policyName: max-replicas, validationActions: [Deny]}
---
apiVersion: networking.k8s.io/v1
kind: ServiceCIDR
metadata: {name: extra}
spec: {cidrs: [10.100.0.0/16]}
)");
    auto applied = kubectl.run({"apply", "-f", manifest});
    BOOST_TEST_REQUIRE(applied.exit_code == 0, applied.err);
    auto listed =
        kubectl.run({"get", "validatingadmissionpolicies,validatingadmissionpolicybindings,servicecidrs"});
    BOOST_TEST(contains(listed.out, "validatingadmissionpolicy.admissionregistration.k8s.io/max-replicas"),
               listed.out);
    BOOST_TEST(
        contains(listed.out, "validatingadmissionpolicybinding.admissionregistration.k8s.io/max-replicas"));
    BOOST_TEST(contains(listed.out, "servicecidr.networking.k8s.io/extra"));
    BOOST_TEST(contains(listed.out, "10.100.0.0/16"));
    json policy =
        api_get(api, "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/max-replicas");
    BOOST_TEST(policy["spec"]["validations"][0]["message"] == "at most 5 replicas");
    // The policy is in force for kubectl's typed (protobuf) create: refused with its message, nothing stored.
    auto too_many = kubectl.run({"create", "deployment", "big", "--image=nginx", "--replicas=7"});
    BOOST_TEST(too_many.exit_code != 0);
    BOOST_TEST(contains(too_many.err,
                        "ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas' denied "
                        "request: at most 5 replicas"),
               too_many.err);
    BOOST_TEST(api.request("GET", "/apis/apps/v1/namespaces/default/deployments/big").status == 404);
    auto few = kubectl.run({"create", "deployment", "small", "--image=nginx", "--replicas=2"});
    BOOST_TEST(few.exit_code == 0, few.err);
    // The default ServiceCIDR mirrors --service-cidr, as kube-apiserver creates it; a new one gets the
    // controller's finalizer and becomes Ready.
    json cidrs = api_get(api, "/apis/networking.k8s.io/v1/servicecidrs");
    BOOST_TEST_REQUIRE(cidrs["items"].size() == 2U);
    BOOST_TEST(cidrs["items"][1]["metadata"]["name"] == "kubernetes");
    BOOST_TEST(cidrs["items"][1]["spec"]["cidrs"] == json({"10.96.0.0/12"}));
    auto ready = kubectl.run({"wait", "--for=condition=Ready", "servicecidr/extra", "--timeout=30s"});
    BOOST_TEST(ready.exit_code == 0, ready.err);
    BOOST_TEST(api_get(api, "/apis/networking.k8s.io/v1/servicecidrs/extra")["metadata"]["finalizers"] ==
               json({"networking.k8s.io/service-cidr-finalizer"}));
    auto deleted = kubectl.run({"delete", "servicecidr", "extra", "--timeout=30s"});
    BOOST_TEST(deleted.exit_code == 0, deleted.err);
    BOOST_TEST(api.request("GET", "/apis/networking.k8s.io/v1/servicecidrs/extra").status == 404);
    // Discovery and the OpenAPI index know the groups, so kubectl validates on the server.
    auto resources = kubectl.run({"api-resources", "--api-group=admissionregistration.k8s.io"});
    BOOST_TEST(contains(resources.out, "validatingwebhookconfigurations"), resources.out);
    json index = api_get(api, "/openapi/v3");
    BOOST_TEST(index["paths"].contains("apis/admissionregistration.k8s.io/v1"));
    BOOST_TEST(index["paths"].contains("apis/networking.k8s.io/v1"));
}

BOOST_AUTO_TEST_CASE(runtime_config_switches_an_api_off_like_an_older_cluster) {
    FakekubeOptions options("older");
    options.extra_args = {"--runtime-config", "networking.k8s.io/v1/servicecidrs=false"};
    auto server = FakekubeProcess::start(std::move(options));
    BOOST_TEST_REQUIRE(server.has_value(), (server ? "" : server.error().message));
    Kubectl kubectl(*server);
    HttpsClient api(*server, Credentials::admin(*server));
    auto listed = kubectl.run({"get", "servicecidrs"});
    BOOST_TEST(listed.exit_code == 1);
    BOOST_TEST(contains(listed.err, "the server doesn't have a resource type \"servicecidrs\""), listed.err);
    BOOST_TEST(api.request("GET", "/apis/networking.k8s.io/v1/servicecidrs").status == 404);
    BOOST_TEST(
        api.request("GET", "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies").status ==
        200);
}

BOOST_AUTO_TEST_CASE(leases_take_optimistic_concurrency) {
    auto server = start("leases");
    Kubectl kubectl(server);
    HttpsClient api(server, Credentials::admin(server));
    const auto lease = kubectl.file("lease.yaml", R"(apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: node-a, namespace: kube-node-lease}
spec: {holderIdentity: node-a, leaseDurationSeconds: 40}
)");
    BOOST_TEST_REQUIRE(kubectl.run({"create", "-f", lease}).exit_code == 0);
    const std::string path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-a";
    json first = api_get(api, path);
    // Two holders renew from the same read: the first wins, the second gets 409 Conflict, as leader
    // election relies on.
    json renew = first;
    renew["spec"]["renewTime"] = "2026-01-01T00:00:00.000000Z";
    auto won = api.send("PUT", path, renew);
    BOOST_TEST(won.status == 200, won.body);
    json other = first;
    other["spec"]["holderIdentity"] = "node-b";
    auto lost = api.send("PUT", path, other);
    BOOST_TEST(lost.status == 409, lost.body);
    BOOST_TEST(lost.json_body()["reason"] == "Conflict");
    BOOST_TEST(
        contains(lost.json_body()["message"],
                 "Operation cannot be fulfilled on leases.coordination.k8s.io \"node-a\": the object has "
                 "been modified"),
        lost.body);
    BOOST_TEST(api_get(api, path)["spec"]["holderIdentity"] == "node-a");
}

BOOST_AUTO_TEST_SUITE_END()
