// Seeds, the built-in controllers, namespace deletion, logs and exec, through real kubectl.
#include "tests/integration/fakekube/https_client.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink::test;

namespace {

const char* k_seed = R"(apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata:
    name: node-a
    labels: {kubernetes.io/os: linux, role: edge}
  status:
    conditions: [{type: Ready, status: "True"}]
    nodeInfo: {kubeletVersion: v1.32.0, architecture: amd64, bootID: b, containerRuntimeVersion: c, kernelVersion: "6.1",
               kubeProxyVersion: v1.32.0, machineID: m, operatingSystem: linux, osImage: Debian, systemUUID: u}
- apiVersion: v1
  kind: Node
  metadata:
    name: node-b
    labels: {kubernetes.io/os: linux}
  status:
    conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Namespace
metadata:
  name: kube-system
---
apiVersion: v1
kind: Pod
metadata:
  name: shell
  namespace: tools
  annotations:
    fakekube.meshlink.io/exec-stdout: "hello from fakekube\n"
    fakekube.meshlink.io/exec-exit: "3"
    fakekube.meshlink.io/log: "line one\nline two\n"
spec:
  nodeName: node-a
  containers: [{name: main, image: busybox}]
status:
  phase: Running
---
apiVersion: v1
kind: Pod
metadata:
  name: quiet
  namespace: tools
  annotations:
    fakekube.meshlink.io/exec-stdout: "ok\n"
spec:
  containers: [{name: main, image: busybox}]
---
{"apiVersion": "apps/v1", "kind": "Deployment",
 "metadata": {"name": "seeded", "namespace": "tools", "generation": 4},
 "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "seeded"}},
          "template": {"metadata": {"labels": {"app": "seeded"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}},
 "status": {"observedGeneration": 4, "replicas": 3, "readyReplicas": 1}}
)";

FakekubeProcess start_seeded(const std::string& name, TempDirectory& dir) {
    FakekubeOptions options(name);
    options.seeds = {dir.write("seed.yaml", k_seed)};
    options.extra_args = {"--controller-delay-ms", "50"};
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

} // namespace

BOOST_AUTO_TEST_SUITE(kubectl_workloads)

BOOST_AUTO_TEST_CASE(seeds_load_lists_and_keep_status) {
    TempDirectory dir;
    auto server = start_seeded("seeded", dir);
    Kubectl kubectl(server);
    auto nodes = kubectl.run({"get", "nodes"});
    BOOST_TEST(contains(nodes.out, "node-a"), nodes.out);
    BOOST_TEST(contains(nodes.out, "node-b"));
    BOOST_TEST(contains(nodes.out, "Ready"));
    BOOST_TEST(get_json(kubectl, {"nodes", "-l", "role=edge"})["items"].size() == 1U);
    json seeded = get_json(kubectl, {"deployment", "seeded", "-n", "tools"});
    BOOST_TEST(seeded["status"]["readyReplicas"] == 1); // as seeded, not what the controller would say
    BOOST_TEST(seeded["metadata"]["generation"] == 4);
    // The namespaces every cluster starts with, plus the one the seed needed.
    json namespaces = get_json(kubectl, {"namespaces"});
    std::vector<std::string> names;
    for (const auto& item : namespaces["items"]) {
        names.push_back(item["metadata"]["name"]);
    }
    BOOST_TEST((names == std::vector<std::string>{"default", "kube-node-lease", "kube-public", "kube-system",
                                                  "tools"}));
    // Field selectors kubectl users rely on.
    BOOST_TEST(get_json(kubectl, {"pods", "-A", "--field-selector",
                                  "spec.nodeName=node-a,metadata.name=shell"})["items"]
                   .size() == 1U);
    // "quiet" was seeded without a Node: the scheduler puts it on the one with fewer Pods.
    BOOST_TEST_REQUIRE(
        kubectl.run({"wait", "--for=condition=Ready", "pod/quiet", "-n", "tools", "--timeout=30s"})
            .exit_code == 0);
    json on_b = get_json(kubectl, {"pods", "-A", "--field-selector", "spec.nodeName=node-b"});
    BOOST_TEST_REQUIRE(on_b["items"].size() == 1U);
    BOOST_TEST(on_b["items"][0]["metadata"]["name"] == "quiet");
    BOOST_TEST(get_json(kubectl, {"pods", "-A", "--field-selector",
                                  "status.phase=Running,metadata.name=shell"})["items"]
                   .size() == 1U);
}

BOOST_AUTO_TEST_CASE(controllers_make_workloads_ready) {
    TempDirectory dir;
    auto server = start_seeded("ctrl", dir);
    Kubectl kubectl(server);
    const auto manifest = kubectl.file("workloads.yaml", R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: c, image: agent}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: edge-only}
spec:
  selector: {matchLabels: {app: edge}}
  template:
    metadata: {labels: {app: edge}}
    spec:
      nodeSelector: {role: edge}
      containers: [{name: c, image: agent}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
)");
    BOOST_TEST_REQUIRE(kubectl.run({"create", "-f", manifest}).exit_code == 0);
    auto available = kubectl.run({"wait", "--for=condition=Available", "deployment/web", "--timeout=120s"});
    BOOST_TEST(available.exit_code == 0, available.err);
    auto complete = kubectl.run({"wait", "--for=condition=Complete", "job/once", "--timeout=120s"});
    BOOST_TEST(complete.exit_code == 0, complete.err);
    auto rollout = kubectl.run({"rollout", "status", "daemonset/agent", "--timeout=120s"});
    BOOST_TEST(rollout.exit_code == 0, rollout.err);
    auto edge = kubectl.run({"rollout", "status", "daemonset/edge-only", "--timeout=120s"});
    BOOST_TEST(edge.exit_code == 0, edge.err);

    json web = get_json(kubectl, {"deployment", "web"});
    BOOST_TEST(web["status"]["observedGeneration"] == web["metadata"]["generation"]);
    BOOST_TEST(web["status"]["readyReplicas"] == 2);
    BOOST_TEST(web["status"]["availableReplicas"] == 2);
    BOOST_TEST(web["status"]["updatedReplicas"] == 2);
    json agent = get_json(kubectl, {"daemonset", "agent"});
    BOOST_TEST(agent["status"]["desiredNumberScheduled"] == 2); // two seeded nodes
    BOOST_TEST(agent["status"]["numberReady"] == 2);
    BOOST_TEST(get_json(kubectl, {"daemonset", "edge-only"})["status"]["desiredNumberScheduled"] == 1);
    json job = get_json(kubectl, {"job", "once"});
    BOOST_TEST(job["status"]["succeeded"] == 1);

    // A spec change is a new generation the controller observes again.
    BOOST_TEST(kubectl.run({"patch", "deployment", "web", "-p", R"({"spec":{"replicas":4}})"}).exit_code ==
               0);
    auto rescaled = kubectl.run({"rollout", "status", "deployment/web", "--timeout=120s"});
    BOOST_TEST(rescaled.exit_code == 0, rescaled.err);
    web = get_json(kubectl, {"deployment", "web"});
    BOOST_TEST(web["metadata"]["generation"] == 2);
    BOOST_TEST(web["status"]["observedGeneration"] == 2);
    BOOST_TEST(web["status"]["readyReplicas"] == 4);
}

BOOST_AUTO_TEST_CASE(deleting_a_namespace_removes_its_content) {
    TempDirectory dir;
    auto server = start_seeded("nsdel", dir);
    Kubectl kubectl(server);
    auto deleted = kubectl.run({"delete", "namespace", "tools"});
    BOOST_TEST(deleted.exit_code == 0, deleted.err);
    BOOST_TEST(deleted.out == "namespace \"tools\" deleted\n");
    BOOST_TEST(kubectl.run({"get", "namespace", "tools"}).err ==
               "Error from server (NotFound): namespaces \"tools\" not found\n");
    BOOST_TEST(get_json(kubectl, {"pods", "-A"})["items"].empty());
    auto forbidden = kubectl.run({"delete", "namespace", "kube-system"});
    BOOST_TEST(forbidden.exit_code == 1);
    BOOST_TEST(contains(forbidden.err, "Error from server (Forbidden): namespaces \"kube-system\" is "
                                       "forbidden: this namespace may not be deleted"),
               forbidden.err);
}

BOOST_AUTO_TEST_CASE(exec_and_logs_play_the_pod_annotations) {
    TempDirectory dir;
    auto server = start_seeded("exec", dir);
    Kubectl kubectl(server);
    auto failing = kubectl.run({"exec", "-n", "tools", "shell", "--", "sh", "-c", "exit 3"});
    BOOST_TEST(failing.out == "hello from fakekube\n");
    BOOST_TEST(failing.exit_code == 3);
    BOOST_TEST(contains(failing.err, "command terminated with exit code 3"), failing.err);
    auto ok = kubectl.run({"exec", "-n", "tools", "quiet", "-c", "main", "--", "true"});
    BOOST_TEST(ok.exit_code == 0, ok.err);
    BOOST_TEST(ok.out == "ok\n");
    auto wrong_container = kubectl.run({"exec", "-n", "tools", "quiet", "-c", "nope", "--", "true"});
    BOOST_TEST(wrong_container.exit_code != 0);
    auto missing = kubectl.run({"exec", "-n", "tools", "ghost", "--", "true"});
    BOOST_TEST(missing.exit_code == 1);
    BOOST_TEST(contains(missing.err, "pods \"ghost\" not found"), missing.err);
    auto logs = kubectl.run({"logs", "-n", "tools", "shell"});
    BOOST_TEST(logs.exit_code == 0, logs.err);
    BOOST_TEST(logs.out == "line one\nline two\n");
}

BOOST_AUTO_TEST_SUITE_END()
