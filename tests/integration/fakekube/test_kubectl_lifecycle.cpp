// What controllers and kubelet do, through real kubectl: drain against a disruption budget, Jobs whose Pods a
// test scripts (exit codes, logs), readiness of Nodes and Pods from the control endpoints, exec command
// tables, namespace deletion that waits for its content, propagation policies. Results are read back through
// the API.
#include "tests/integration/fakekube/https_client.hpp"

#include <boost/test/unit_test.hpp>

#include <set>

using namespace meshlink::test;

namespace {

const char* k_nodes = R"(apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: node-a, labels: {kubernetes.io/hostname: node-a}}
  status:
    conditions: [{type: Ready, status: "True"}]
    addresses: [{type: InternalIP, address: 127.0.1.10}]
- apiVersion: v1
  kind: Node
  metadata: {name: node-b, labels: {kubernetes.io/hostname: node-b}}
  status:
    conditions: [{type: Ready, status: "True"}]
    addresses: [{type: InternalIP, address: 127.0.1.11}]
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent, namespace: kube-system, uid: 0b7c2f4e-1111-4c59-9a3d-5d8f0e6a7b01}
  spec:
    selector: {matchLabels: {app: agent}}
    template:
      metadata: {labels: {app: agent}}
      spec: {containers: [{name: agent, image: agent}]}
- apiVersion: v1
  kind: Pod
  metadata:
    name: agent-node-a
    namespace: kube-system
    labels: {app: agent}
    ownerReferences:
    - {apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: 0b7c2f4e-1111-4c59-9a3d-5d8f0e6a7b01, controller: true}
  spec: {nodeName: node-a, containers: [{name: agent, image: agent}]}
  status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
- apiVersion: v1
  kind: Pod
  metadata:
    name: etcd-node-a
    namespace: kube-system
    annotations: {kubernetes.io/config.mirror: "0123456789abcdef", kubernetes.io/config.source: file}
  spec: {nodeName: node-a, containers: [{name: etcd, image: etcd}]}
  status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
)";

FakekubeProcess start_with_nodes(const std::string& name, TempDirectory& dir) {
    FakekubeOptions options(name);
    options.seeds = {dir.write("nodes.yaml", k_nodes)};
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

std::vector<json> pods_on(HttpsClient& api, const std::string& node) {
    json list = api_get(api, "/api/v1/pods?fieldSelector=spec.nodeName%3D" + node);
    return list["items"].get<std::vector<json>>();
}

bool condition_true(const json& object, const std::string& type) {
    for (const auto& c : object["status"].value("conditions", json::array())) {
        if (c.value("type", "") == type) {
            return c.value("status", "") == "True";
        }
    }
    return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(kubectl_lifecycle)

BOOST_AUTO_TEST_CASE(drain_honours_a_disruption_budget) {
    TempDirectory dir;
    auto server = start_with_nodes("drain", dir);
    Kubectl kubectl(server);
    HttpsClient api(server, Credentials::admin(server));
    BOOST_TEST_REQUIRE(
        kubectl.run({"create", "deployment", "web", "--image=nginx", "--replicas=4"}).exit_code == 0);
    auto rolled = kubectl.run({"rollout", "status", "deployment/web", "--timeout=60s"});
    BOOST_TEST_REQUIRE(rolled.exit_code == 0, rolled.err);
    // The scheduler spreads the replicas over both Nodes.
    auto web_pods_on = [&](const std::string& node) {
        size_t count = 0;
        for (const auto& pod : pods_on(api, node)) {
            count += pod["metadata"].value("labels", json::object()).value("app", "") == "web" ? 1 : 0;
        }
        return count;
    };
    BOOST_TEST(web_pods_on("node-a") >= 1U);
    BOOST_TEST(web_pods_on("node-a") + web_pods_on("node-b") == 4U);

    // minAvailable 4 of 4: no disruption allowed, drain keeps retrying the 429 until its timeout.
    BOOST_TEST_REQUIRE(
        kubectl.run({"create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=4"})
            .exit_code == 0);
    auto budget_met =
        kubectl.run({"wait", "--for=jsonpath={.status.expectedPods}=4", "pdb/web", "--timeout=30s"});
    BOOST_TEST_REQUIRE(budget_met.exit_code == 0, budget_met.err);
    json pdb = api_get(api, "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web");
    BOOST_TEST(pdb["status"]["currentHealthy"] == 4);
    BOOST_TEST(pdb["status"]["desiredHealthy"] == 4);
    BOOST_TEST(pdb["status"]["disruptionsAllowed"] == 0);
    BOOST_TEST(!condition_true(pdb, "DisruptionAllowed"));

    auto blocked = kubectl.run({"drain", "node-a", "--ignore-daemonsets", "--timeout=3s"});
    BOOST_TEST(blocked.exit_code != 0);
    BOOST_TEST(contains(blocked.out, "node/node-a cordoned"), blocked.out);
    BOOST_TEST(contains(blocked.err, "Cannot evict pod as it would violate the pod's disruption budget."),
               blocked.err);
    BOOST_TEST(api_get(api, "/api/v1/nodes/node-a")["spec"]["unschedulable"] == true);
    // The eviction answer itself, as kube-apiserver writes it.
    std::string web_pod;
    for (const auto& pod : pods_on(api, "node-a")) {
        if (pod["metadata"].value("labels", json::object()).value("app", "") == "web") {
            web_pod = pod["metadata"]["name"];
        }
    }
    auto refused = api.send("POST", "/api/v1/namespaces/default/pods/" + web_pod + "/eviction",
                            json{{"apiVersion", "policy/v1"},
                                 {"kind", "Eviction"},
                                 {"metadata", {{"name", web_pod}, {"namespace", "default"}}}});
    BOOST_TEST(refused.status == 429, refused.body);
    BOOST_TEST(refused.json_body()["reason"] == "TooManyRequests");
    BOOST_TEST(refused.json_body()["details"]["causes"][0]["reason"] == "DisruptionBudget");
    BOOST_TEST(refused.json_body()["details"]["causes"][0]["message"] ==
               "The disruption budget web needs 4 healthy pods and has 4 currently");

    // minAvailable 3: one eviction at a time; each replacement lands on node-b, becomes Ready, and the budget
    // allows the next. Drain skips the DaemonSet's Pod and the mirror Pod.
    BOOST_TEST_REQUIRE(
        kubectl.run({"patch", "pdb", "web", "--type=merge", "-p", R"({"spec":{"minAvailable":3}})"})
            .exit_code == 0);
    auto drained = kubectl.run({"drain", "node-a", "--ignore-daemonsets", "--timeout=60s"});
    BOOST_TEST(drained.exit_code == 0, drained.err);
    BOOST_TEST(contains(drained.out, "node/node-a drained"), drained.out);
    BOOST_TEST(contains(drained.err, "Warning: ignoring DaemonSet-managed Pods: kube-system/agent-node-a"),
               drained.err);
    std::set<std::string> left;
    for (const auto& pod : pods_on(api, "node-a")) {
        left.insert(pod["metadata"]["name"].get<std::string>());
    }
    BOOST_TEST((left == std::set<std::string>{"agent-node-a", "etcd-node-a"}));
    // Drain waits for the evicted Pods to go, not for their replacements: the rollout shows when those are
    // up.
    BOOST_TEST(kubectl.run({"rollout", "status", "deployment/web", "--timeout=60s"}).exit_code == 0);
    BOOST_TEST(web_pods_on("node-b") == 4U);
    auto nodes = kubectl.run({"get", "nodes"});
    BOOST_TEST(contains(nodes.out, "Ready,SchedulingDisabled"), nodes.out);
}

BOOST_AUTO_TEST_CASE(job_pods_run_as_scripted_and_serve_their_logs) {
    TempDirectory dir;
    auto server = start_with_nodes("jobs", dir);
    Kubectl kubectl(server);
    HttpsClient api(server, Credentials::admin(server));
    const auto manifest = kubectl.file("jobs.yaml", R"(apiVersion: batch/v1
kind: Job
metadata: {name: report}
spec:
  template:
    metadata:
      annotations:
        fakekube.meshlink.io/log.main: "one\ntwo\nthree\n"
        fakekube.meshlink.io/log.helper: "helper says hi\n"
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}, {name: helper, image: busybox}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: broken}
spec:
  backoffLimit: 1
  template:
    metadata:
      annotations: {fakekube.meshlink.io/exit-code: "3", fakekube.meshlink.io/log: "boom\n"}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
)");
    BOOST_TEST_REQUIRE(kubectl.run({"create", "-f", manifest}).exit_code == 0);
    auto complete = kubectl.run({"wait", "--for=condition=Complete", "job/report", "--timeout=60s"});
    BOOST_TEST_REQUIRE(complete.exit_code == 0, complete.err);
    auto failed = kubectl.run({"wait", "--for=condition=Failed", "job/broken", "--timeout=60s"});
    BOOST_TEST_REQUIRE(failed.exit_code == 0, failed.err);

    json report = api_get(api, "/apis/batch/v1/namespaces/default/jobs/report");
    BOOST_TEST(report["status"]["succeeded"] == 1);
    json pods = api_get(api, "/api/v1/namespaces/default/pods?labelSelector=job-name%3Dreport");
    BOOST_TEST_REQUIRE(pods["items"].size() == 1U);
    const json& pod = pods["items"][0];
    BOOST_TEST(pod["status"]["phase"] == "Succeeded");
    BOOST_TEST(pod["metadata"]["ownerReferences"][0]["uid"] == report["metadata"]["uid"]);
    BOOST_TEST(pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0);
    const std::string name = pod["metadata"]["name"];

    auto tail = kubectl.run({"logs", name, "-c", "main", "--tail=2"});
    BOOST_TEST(tail.out == "two\nthree\n", tail.err);
    auto helper = kubectl.run({"logs", "job/report", "-c", "helper"});
    BOOST_TEST(helper.out == "helper says hi\n", helper.err);
    auto ambiguous = kubectl.run({"logs", name});
    BOOST_TEST(contains(ambiguous.out + ambiguous.err, "main"), ambiguous.err); // kubectl picks or asks
    auto raw =
        api.request("GET", "/api/v1/namespaces/default/pods/" + name + "/log?container=main&tailLines=1", "",
                    "application/json", "*/*");
    BOOST_TEST(raw.status == 200);
    BOOST_TEST(raw.body == "three\n");
    auto no_container =
        api.request("GET", "/api/v1/namespaces/default/pods/" + name + "/log", "", "application/json", "*/*");
    BOOST_TEST(no_container.status == 400);
    BOOST_TEST(contains(no_container.json_body()["message"], "a container name must be specified for pod " +
                                                                 name + ", choose one of: [main helper]"),
               no_container.body);

    // backoffLimit 1: two failed Pods, exit code 3 each, then the Job fails.
    json broken = api_get(api, "/apis/batch/v1/namespaces/default/jobs/broken");
    BOOST_TEST(broken["status"]["failed"] == 2);
    json broken_pods = api_get(api, "/api/v1/namespaces/default/pods?labelSelector=job-name%3Dbroken");
    BOOST_TEST_REQUIRE(broken_pods["items"].size() == 2U);
    for (const auto& failed_pod : broken_pods["items"]) {
        BOOST_TEST(failed_pod["status"]["phase"] == "Failed");
        BOOST_TEST(failed_pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 3);
        BOOST_TEST(failed_pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] == "Error");
    }
    auto listed = kubectl.run({"get", "pods", "-l", "job-name=broken"});
    BOOST_TEST(contains(listed.out, "Error"), listed.out);
    auto logs = kubectl.run({"logs", broken_pods["items"][0]["metadata"]["name"].get<std::string>()});
    BOOST_TEST(logs.out == "boom\n", logs.err);

    // Deleting the Job with kubectl's default (background) cascade takes its Pods along.
    BOOST_TEST(kubectl.run({"delete", "job", "report"}).exit_code == 0);
    auto gone = kubectl.run({"wait", "--for=delete", "pod/" + name, "--timeout=30s"});
    BOOST_TEST(gone.exit_code == 0, gone.err);
}

BOOST_AUTO_TEST_CASE(control_endpoints_mark_nodes_and_pods_ready_or_not) {
    TempDirectory dir;
    auto server = start_with_nodes("ready", dir);
    Kubectl kubectl(server);
    HttpsClient api(server, Credentials::admin(server));
    HttpsClient anonymous(server, Credentials::none());
    const auto manifest = kubectl.file("pod.yaml", R"(apiVersion: v1
kind: Pod
metadata: {name: server}
spec:
  nodeName: node-b
  containers: [{name: main, image: nginx}]
)");
    BOOST_TEST_REQUIRE(kubectl.run({"create", "-f", manifest}).exit_code == 0);
    BOOST_TEST_REQUIRE(
        kubectl.run({"wait", "--for=condition=Ready", "pod/server", "--timeout=30s"}).exit_code == 0);

    auto not_ready = anonymous.request("POST", "/fakekube/v1/namespaces/default/pods/server/not-ready");
    BOOST_TEST(not_ready.status == 200, not_ready.body);
    json pod = api_get(api, "/api/v1/namespaces/default/pods/server");
    BOOST_TEST(!condition_true(pod, "Ready"));
    BOOST_TEST(pod["status"]["phase"] == "Running");
    BOOST_TEST(pod["status"]["containerStatuses"][0]["ready"] == false);
    BOOST_TEST(anonymous.request("POST", "/fakekube/v1/namespaces/default/pods/server/ready").status == 200);
    BOOST_TEST(condition_true(api_get(api, "/api/v1/namespaces/default/pods/server"), "Ready"));

    // A NotReady Node: its Ready condition, the not-ready taint, its Pods not ready; new Pods avoid it.
    BOOST_TEST(anonymous.request("POST", "/fakekube/v1/nodes/node-b/not-ready").status == 200);
    json node = api_get(api, "/api/v1/nodes/node-b");
    BOOST_TEST(!condition_true(node, "Ready"));
    BOOST_TEST(node["spec"]["taints"][0]["key"] == "node.kubernetes.io/not-ready");
    auto table = kubectl.run({"get", "node", "node-b"});
    BOOST_TEST(contains(table.out, "NotReady"), table.out);
    auto waited = kubectl.run({"wait", "--for=condition=Ready=false", "pod/server", "--timeout=30s"});
    BOOST_TEST(waited.exit_code == 0, waited.err);
    BOOST_TEST(anonymous.request("POST", "/fakekube/v1/nodes/node-b/ready").status == 200);
    auto back = kubectl.run({"wait", "--for=condition=Ready", "pod/server", "--timeout=30s"});
    BOOST_TEST(back.exit_code == 0, back.err);

    // Log text and a container exit, as kubelet would report them.
    BOOST_TEST(
        anonymous
            .request("POST", "/fakekube/v1/namespaces/default/pods/server/log", "started\n", "text/plain")
            .status == 200);
    BOOST_TEST(kubectl.run({"logs", "server"}).out == "started\n");
    BOOST_TEST(
        anonymous.request("POST", "/fakekube/v1/namespaces/default/pods/server/exit?code=137").status == 200);
    pod = api_get(api, "/api/v1/namespaces/default/pods/server");
    BOOST_TEST(pod["status"]["phase"] == "Failed");
    BOOST_TEST(pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 137);
    BOOST_TEST(anonymous.request("POST", "/fakekube/v1/nodes/ghost/ready").status == 404);
}

BOOST_AUTO_TEST_CASE(exec_answers_from_a_command_table) {
    TempDirectory dir;
    auto server = start_with_nodes("exec", dir);
    Kubectl kubectl(server);
    HttpsClient api(server, Credentials::admin(server));
    const auto manifest = kubectl.file("pod.yaml", R"(apiVersion: v1
kind: Pod
metadata:
  name: tools
  annotations:
    fakekube.meshlink.io/exec: |
      [{"command": ["uname", "-r"], "stdout": "6.1.0-test\n"},
       {"command": ["cat"], "stdoutFromStdin": true},
       {"prefix": ["sh", "-c"], "stderr": "denied\n", "exitCode": 2}]
spec:
  containers: [{name: main, image: busybox}]
)");
    BOOST_TEST_REQUIRE(kubectl.run({"create", "-f", manifest}).exit_code == 0);
    BOOST_TEST_REQUIRE(
        kubectl.run({"wait", "--for=condition=Ready", "pod/tools", "--timeout=30s"}).exit_code == 0);
    auto uname = kubectl.run({"exec", "tools", "--", "uname", "-r"});
    BOOST_TEST(uname.exit_code == 0, uname.err);
    BOOST_TEST(uname.out == "6.1.0-test\n");
    auto cat = kubectl.shell("printf 'from stdin' | kubectl exec -i tools -- cat");
    BOOST_TEST(cat.exit_code == 0, cat.err);
    BOOST_TEST(cat.out == "from stdin");
    auto shell = kubectl.run({"exec", "tools", "--", "sh", "-c", "rm -rf /"});
    BOOST_TEST(shell.exit_code == 2);
    BOOST_TEST(contains(shell.err, "denied"), shell.err);
    auto unknown = kubectl.run({"exec", "tools", "--", "reboot"});
    BOOST_TEST(unknown.exit_code == 127);
    BOOST_TEST(contains(unknown.err, "fakekube: no scripted answer for [reboot]"), unknown.err);
    json execs = HttpsClient(server, Credentials::none()).request("GET", "/fakekube/v1/execs").json_body();
    BOOST_TEST_REQUIRE(execs["execs"].size() == 4U);
    BOOST_TEST(execs["execs"][0]["command"] == json({"uname", "-r"}));
    BOOST_TEST(execs["execs"][3]["exitCode"] == 127);
    BOOST_TEST(api_get(api, "/api/v1/namespaces/default/pods/tools")["status"]["phase"] == "Running");
}

BOOST_AUTO_TEST_CASE(namespace_deletion_waits_for_its_content) {
    TempDirectory dir;
    auto server = start_with_nodes("nsdel", dir);
    Kubectl kubectl(server);
    HttpsClient api(server, Credentials::admin(server));
    BOOST_TEST_REQUIRE(kubectl.run({"create", "namespace", "demo"}).exit_code == 0);
    BOOST_TEST_REQUIRE(
        kubectl.run({"-n", "demo", "create", "deployment", "web", "--image=nginx"}).exit_code == 0);
    BOOST_TEST_REQUIRE(kubectl.run({"-n", "demo", "create", "configmap", "held"}).exit_code == 0);
    BOOST_TEST_REQUIRE(kubectl
                           .run({"-n", "demo", "patch", "configmap", "held", "--type=merge", "-p",
                                 R"({"metadata":{"finalizers":["example.com/hold"]}})"})
                           .exit_code == 0);
    BOOST_TEST_REQUIRE(
        kubectl.run({"-n", "demo", "rollout", "status", "deployment/web", "--timeout=30s"}).exit_code == 0);
    auto deleting = kubectl.run({"delete", "namespace", "demo", "--wait=false"});
    BOOST_TEST(deleting.exit_code == 0, deleting.err);
    auto stuck =
        kubectl.run({"wait",
                     "--for=jsonpath={.status.conditions[?(@.type==\"NamespaceFinalizersRemaining\")]"
                     ".status}=True",
                     "namespace/demo", "--timeout=30s"});
    BOOST_TEST_REQUIRE(stuck.exit_code == 0, stuck.err);
    json ns = api_get(api, "/api/v1/namespaces/demo");
    BOOST_TEST(ns["status"]["phase"] == "Terminating");
    BOOST_TEST(ns["spec"]["finalizers"] == json({"kubernetes"}));
    BOOST_TEST(api_get(api, "/api/v1/namespaces/demo/pods")["items"].empty());
    BOOST_TEST(api_get(api, "/apis/apps/v1/namespaces/demo/deployments")["items"].empty());
    json held = api_get(api, "/api/v1/namespaces/demo/configmaps/held");
    BOOST_TEST(held["metadata"].contains("deletionTimestamp"));
    auto refused = kubectl.run({"-n", "demo", "create", "configmap", "late"});
    BOOST_TEST(contains(refused.err, "because it is being terminated"), refused.err);

    BOOST_TEST(kubectl
                   .run({"-n", "demo", "patch", "configmap", "held", "--type=json", "-p",
                         R"([{"op":"remove","path":"/metadata/finalizers"}])"})
                   .exit_code == 0);
    auto gone = kubectl.run({"wait", "--for=delete", "namespace/demo", "--timeout=30s"});
    BOOST_TEST(gone.exit_code == 0, gone.err);
    BOOST_TEST(api.request("GET", "/api/v1/namespaces/demo").status == 404);
}

BOOST_AUTO_TEST_CASE(propagation_policies_follow_owner_references) {
    TempDirectory dir;
    auto server = start_with_nodes("cascade", dir);
    Kubectl kubectl(server);
    HttpsClient api(server, Credentials::admin(server));
    for (const char* name : {"fg", "bg", "orphaned"}) {
        BOOST_TEST_REQUIRE(
            kubectl.run({"create", "deployment", name, "--image=nginx", "--replicas=2"}).exit_code == 0);
        BOOST_TEST_REQUIRE(
            kubectl.run({"rollout", "status", std::string("deployment/") + name, "--timeout=30s"})
                .exit_code == 0);
    }
    auto count = [&](const std::string& kind, const std::string& app) {
        const std::string base = kind == "pods" ? "/api/v1/namespaces/default/pods"
                                                : "/apis/apps/v1/namespaces/default/replicasets";
        return api_get(api, base + "?labelSelector=app%3D" + app)["items"].size();
    };
    BOOST_TEST(count("replicasets", "fg") == 1U);
    BOOST_TEST(count("pods", "fg") == 2U);

    // Foreground: kubectl waits for the Deployment, which goes only after its ReplicaSet and Pods.
    auto foreground = kubectl.run({"delete", "deployment", "fg", "--cascade=foreground"});
    BOOST_TEST(foreground.exit_code == 0, foreground.err);
    BOOST_TEST(count("replicasets", "fg") == 0U);
    BOOST_TEST(count("pods", "fg") == 0U);

    auto background = kubectl.run({"delete", "deployment", "bg"});
    BOOST_TEST(background.exit_code == 0, background.err);
    BOOST_TEST(kubectl.run({"wait", "--for=delete", "pods", "-l", "app=bg", "--timeout=30s"}).exit_code == 0);
    BOOST_TEST(count("replicasets", "bg") == 0U);

    // Orphan: the ReplicaSet stays, without its owner reference; its Pods keep theirs to it.
    auto orphan = kubectl.run({"delete", "deployment", "orphaned", "--cascade=orphan"});
    BOOST_TEST(orphan.exit_code == 0, orphan.err);
    json rs = api_get(api, "/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dorphaned");
    BOOST_TEST_REQUIRE(rs["items"].size() == 1U);
    BOOST_TEST(!rs["items"][0]["metadata"].contains("ownerReferences"));
    BOOST_TEST(count("pods", "orphaned") == 2U);
    BOOST_TEST(api.request("GET", "/apis/apps/v1/namespaces/default/deployments/orphaned").status == 404);
}

BOOST_AUTO_TEST_SUITE_END()
