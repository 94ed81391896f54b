// `kubectl meshlink demo deploy|verify|delete` through real kubectl plugin discovery on two and three
// fakekube clusters seeded as a connected Cilium mesh (their agents report every peer ready). What the Job's
// Pod prints is scripted with fakekube pod rules (tests/fakekube/README.md), the agents' `cilium-dbg` answers
// with exec tables on the agent Pods. The expected objects are Cilium's example as README "Demo" describes it
// (examples/kubernetes/clustermesh/ in cilium/cilium), written out here field by field.
#include "tests/integration/mesh/harness.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <set>

using meshlink::test::json;
using meshlink::test::Mesh;
using meshlink::test::mesh_cluster;

namespace {

const std::string k_ns = "meshlink-demo";

std::vector<meshlink::test::CiliumClusterSpec> specs(int n) {
    std::vector<meshlink::test::CiliumClusterSpec> out;
    for (int i = 1; i <= n; ++i) {
        out.push_back(mesh_cluster(i, n));
    }
    return out;
}

// `demo <command>` from cluster1's context naming every other cluster as PEER.
std::vector<std::string> demo_args(const Mesh& mesh, const std::string& command,
                                   const std::vector<std::string>& more = {}) {
    std::vector<std::string> args = {"demo", command};
    for (std::size_t i = 1; i < mesh.size(); ++i) {
        args.push_back(mesh.spec(i).context);
    }
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

std::string describe(const meshlink::test::CommandResult& r) {
    return fmt::format("exit {}\nstdout:\n{}\nstderr:\n{}", r.exit_code, r.out, r.err);
}

// The objects of the reference's structure (Cilium's example), for cluster `name`, checked field by field.
void check_reference_objects(const Mesh& mesh, std::size_t i, const std::string& name) {
    const json ns = mesh.get(i, "/api/v1/namespaces/" + k_ns);
    BOOST_REQUIRE_MESSAGE(ns.is_object(), "namespace missing in " + name);
    BOOST_TEST(ns["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "meshlink");
    BOOST_TEST(ns["metadata"]["annotations"]["clustermesh.cilium.io/global"] == "true");

    const json cm = mesh.get(i, "/api/v1/namespaces/" + k_ns + "/configmaps/rebel-base-response");
    BOOST_REQUIRE(cm.is_object());
    BOOST_TEST(cm["data"].size() == 1U);
    BOOST_TEST(cm["data"]["message"] == "{\"Galaxy\": \"Alderaan\", \"Cluster\": \"" + name + "\"}\n");

    const json svc = mesh.get(i, "/api/v1/namespaces/" + k_ns + "/services/rebel-base");
    BOOST_REQUIRE(svc.is_object());
    BOOST_TEST(svc["metadata"]["annotations"]["service.cilium.io/global"] == "true");
    BOOST_TEST(svc["spec"]["type"] == "ClusterIP");
    BOOST_TEST(svc["spec"]["selector"] == (json{{"name", "rebel-base"}}));
    BOOST_REQUIRE(svc["spec"]["ports"].size() == 1U);
    BOOST_TEST(svc["spec"]["ports"][0]["port"] == 80);
    BOOST_TEST(!svc["spec"]["ports"][0].contains("name"));

    const json server = mesh.get(i, "/apis/apps/v1/namespaces/" + k_ns + "/deployments/rebel-base");
    BOOST_REQUIRE(server.is_object());
    BOOST_TEST(server["spec"]["replicas"] == 2);
    BOOST_TEST(server["spec"]["selector"]["matchLabels"] == (json{{"name", "rebel-base"}}));
    BOOST_TEST(server["spec"]["template"]["metadata"]["labels"]["name"] == "rebel-base");
    const json& pod = server["spec"]["template"]["spec"];
    BOOST_REQUIRE(pod["containers"].size() == 1U);
    const json& nginx = pod["containers"][0];
    BOOST_TEST(nginx["name"] == "rebel-base");
    BOOST_TEST(nginx["image"] == "docker.io/nginx:1.27.1");
    BOOST_TEST(nginx["volumeMounts"] ==
               (json::parse(R"([{"name":"html","mountPath":"/usr/share/nginx/html/"}])")));
    BOOST_TEST(nginx["livenessProbe"]["httpGet"]["path"] == "/");
    BOOST_TEST(nginx["livenessProbe"]["httpGet"]["port"] == 80);
    BOOST_TEST(nginx["livenessProbe"]["periodSeconds"] == 1);
    BOOST_TEST(nginx["readinessProbe"]["httpGet"]["path"] == "/");
    BOOST_TEST(nginx["readinessProbe"]["httpGet"]["port"] == 80);
    BOOST_REQUIRE(pod["volumes"].size() == 1U);
    BOOST_TEST(pod["volumes"][0]["name"] == "html");
    BOOST_TEST(pod["volumes"][0]["configMap"]["name"] == "rebel-base-response");
    BOOST_TEST(pod["volumes"][0]["configMap"]["items"] ==
               (json::parse(R"([{"key":"message","path":"index.html"}])")));

    const json client = mesh.get(i, "/apis/apps/v1/namespaces/" + k_ns + "/deployments/x-wing");
    BOOST_REQUIRE(client.is_object());
    BOOST_TEST(client["spec"]["replicas"] == 2);
    BOOST_TEST(client["spec"]["selector"]["matchLabels"] == (json{{"name", "x-wing"}}));
    BOOST_TEST(client["spec"]["template"]["metadata"]["labels"]["name"] == "x-wing");
    BOOST_REQUIRE(client["spec"]["template"]["spec"]["containers"].size() == 1U);
    const json& xwing = client["spec"]["template"]["spec"]["containers"][0];
    BOOST_TEST(xwing["name"] == "x-wing-container");
    BOOST_TEST(xwing["image"] == "quay.io/cilium/json-mock:v1.3.8@sha256:"
                                 "5aad04835eda9025fe4561ad31be77fd55309af8158ca8663a72f6abb78c2603");
    const json curl = json::array({"curl", "-sS", "-o", "/dev/null", "localhost"});
    BOOST_TEST(xwing["livenessProbe"]["exec"]["command"] == curl);
    BOOST_TEST(xwing["readinessProbe"]["exec"]["command"] == curl);
}

// Keys of `after` that `before` lacks, without what controllers derive (Pods, ReplicaSets, endpoints,
// the namespace's default ServiceAccount).
std::set<std::string> written_keys(const json& before, const json& after) {
    std::set<std::string> out;
    for (const auto& [key, value] : after.items()) {
        if (before.contains(key)) {
            continue;
        }
        const std::string kind = key.substr(0, key.find('/'));
        if (kind == "Pod" || kind == "ReplicaSet" || kind == "EndpointSlice" || kind == "Endpoints" ||
            kind == "ServiceAccount" || (kind == "ConfigMap" && key.ends_with("/kube-root-ca.crt"))) {
            continue;
        }
        out.insert(key);
    }
    return out;
}

// A full dump without what the test itself scripts on the agent Pods (script_agents).
json dump_without_scripts(const Mesh& mesh, std::size_t i) {
    json out = mesh.full_dump(i);
    for (auto& [key, object] : out.items()) {
        if (key.starts_with("Pod/kube-system/") && object["metadata"].contains("annotations")) {
            object["metadata"]["annotations"].erase("fakekube.meshlink.io/exec");
        }
    }
    return out;
}

// The keys whose objects differ between two dumps, for the failure message.
std::string differing(const json& a, const json& b) {
    std::string out;
    for (const auto& [key, value] : a.items()) {
        if (!b.contains(key) || b[key] != value) {
            out += key + (b.contains(key) ? " changed\n" : " gone\n");
        }
    }
    for (const auto& [key, value] : b.items()) {
        if (!a.contains(key)) {
            out += key + " added\n";
        }
    }
    return out;
}

// The Ready rebel-base Pod IPs of cluster `i`.
std::vector<std::string> server_ips(const Mesh& mesh, std::size_t i) {
    const json pods = mesh.get(i, "/api/v1/namespaces/" + k_ns + "/pods?labelSelector=name%3Drebel-base");
    std::vector<std::string> out;
    for (const auto& pod : pods["items"]) {
        out.push_back(pod["status"].value("podIP", ""));
    }
    return out;
}

// One line as the Job's client prints it (plugin/demo/client.sh's documented format).
std::string line(const std::string& kind, const std::string& target, int i, int rc, int http,
                 const std::string& cluster, const std::string& error = "") {
    return json{{"v", 1},       {"kind", kind},       {"target", target}, {"i", i},        {"rc", rc},
                {"http", http}, {"cluster", cluster}, {"time", "0.004"},  {"error", error}}
               .dump() +
           "\n";
}

struct Traffic {
    std::map<std::string, int> service_replies; // cluster -> replies; "" = timeouts
    int service_timeouts = 0;
    // remote pod IP -> who answers ("" = timeout)
    std::map<std::string, std::string> pods;
};

std::string client_log(const Traffic& t) {
    std::string out;
    int i = 1;
    int attempts = 0;
    for (const auto& [cluster, count] : t.service_replies) {
        for (int n = 0; n < count; ++n, ++attempts) {
            out += line("service", "rebel-base.meshlink-demo.svc", i++, 0, 200, cluster);
        }
    }
    for (int n = 0; n < t.service_timeouts; ++n, ++attempts) {
        out += line("service", "rebel-base.meshlink-demo.svc", i++, 28, 0, "",
                    "curl: (28) Connection timed out after 2002 milliseconds");
    }
    for (const auto& [ip, who] : t.pods) {
        for (int n = 1; n <= 2; ++n, ++attempts) {
            out += who.empty() ? line("pod", ip, n, 28, 0, "",
                                      "curl: (28) Connection timed out after 2001 milliseconds")
                               : line("pod", ip, n, 0, 200, who);
        }
    }
    return out + json{{"v", 1}, {"kind", "done"}, {"attempts", attempts}}.dump() + "\n";
}

// Scripts the next verify Job's Pod in cluster `i` to print `log`.
void script_job(const Mesh& mesh, std::size_t i, const std::string& log) {
    mesh.control(i, "DELETE", "pod-rules");
    mesh.control(i, "POST", "pod-rules",
                 {{"namespace", k_ns},
                  {"selector", "meshlink.io/role=demo-verify"},
                  {"annotations", {{"fakekube.meshlink.io/log", log}}}});
}

// The agents of cluster `i` answer `cilium-dbg status` as seeded and `cilium-dbg service list` with the
// global Service's backends: its own rebel-base Pods and those of `remote`.
void script_agents(const Mesh& mesh, std::size_t i, const std::vector<std::string>& remote) {
    const json svc = mesh.get(i, "/api/v1/namespaces/" + k_ns + "/services/rebel-base");
    json backends = json::array();
    std::vector<std::string> ips = server_ips(mesh, i);
    ips.insert(ips.end(), remote.begin(), remote.end());
    for (const auto& ip : ips) {
        backends.push_back({{"ip", ip}, {"port", 80}, {"state", "active"}});
    }
    const json list = json::array(
        {{{"spec",
           {{"id", 7},
            {"frontend-address", {{"ip", svc["spec"]["clusterIP"]}, {"port", 80}, {"scope", "external"}}},
            {"backend-addresses", backends},
            {"flags", {{"type", "ClusterIP"}, {"cluster", "true"}}}}}}});
    const json pods = mesh.get(i, "/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dcilium");
    for (const auto& pod : pods["items"]) {
        const std::string status =
            pod["metadata"]["annotations"].value("fakekube.meshlink.io/exec-stdout", "");
        const json table = json::array(
            {{{"command", {"cilium-dbg", "status", "-o", "json"}}, {"stdout", status}},
             {{"command", {"cilium-dbg", "service", "list", "-o", "json"}}, {"stdout", list.dump()}}});
        const std::string name = pod["metadata"]["name"];
        auto patched =
            mesh.kubectl({"--context", mesh.spec(i).context, "-n", "kube-system", "annotate", "--overwrite",
                          "pod", name, "fakekube.meshlink.io/exec=" + table.dump()});
        BOOST_REQUIRE_MESSAGE(patched.exit_code == 0, describe(patched));
    }
}

// Deploys on every cluster and scripts every agent; returns the rebel-base Pod IPs per cluster.
std::vector<std::vector<std::string>> deploy_and_script(const Mesh& mesh) {
    auto deployed = mesh.meshlink(demo_args(mesh, "deploy"));
    BOOST_REQUIRE_MESSAGE(deployed.exit_code == 0, describe(deployed));
    std::vector<std::vector<std::string>> ips;
    for (std::size_t i = 0; i < mesh.size(); ++i) {
        ips.push_back(server_ips(mesh, i));
        BOOST_REQUIRE_EQUAL(ips.back().size(), 2U);
    }
    for (std::size_t i = 0; i < mesh.size(); ++i) {
        std::vector<std::string> remote;
        for (std::size_t j = 0; j < mesh.size(); ++j) {
            if (j != i) {
                remote.insert(remote.end(), ips[j].begin(), ips[j].end());
            }
        }
        script_agents(mesh, i, remote);
    }
    return ips;
}

// Healthy traffic from cluster `i`: replies from every cluster, every remote Pod answering as its owner.
Traffic healthy(const Mesh& mesh, std::size_t i, const std::vector<std::vector<std::string>>& ips) {
    Traffic t;
    for (std::size_t j = 0; j < mesh.size(); ++j) {
        t.service_replies[mesh.spec(j).cluster_name] = j == i ? 8 : 6;
        if (j != i) {
            for (const auto& ip : ips[j]) {
                t.pods[ip] = mesh.spec(j).cluster_name;
            }
        }
    }
    return t;
}

json verify_json(const Mesh& mesh, int expected_exit) {
    auto run = mesh.meshlink(demo_args(mesh, "verify", {"-o", "json", "--backend-wait", "5s"}));
    BOOST_TEST_REQUIRE(run.exit_code == expected_exit, describe(run));
    return json::parse(run.out);
}

std::set<std::string> cause_kinds(const json& report, const std::string& from) {
    std::set<std::string> out;
    for (const auto& d : report["directions"]) {
        if (d["from"] == from) {
            for (const auto& c : d["causes"]) {
                out.insert(c["kind"].get<std::string>());
            }
        }
    }
    return out;
}

std::string causes_text(const json& report) {
    std::string out;
    for (const auto& d : report["directions"]) {
        for (const auto& c : d["causes"]) {
            out += c["message"].get<std::string>() + " | " +
                   (c["hint"].is_string() ? c["hint"].get<std::string>() : "") + "\n";
        }
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(mesh_demo)

BOOST_AUTO_TEST_CASE(deploy_creates_the_reference_objects_once_and_delete_restores_both_clusters) {
    Mesh mesh(specs(2));
    const json before0 = mesh.full_dump(0);
    const json before1 = mesh.full_dump(1);

    auto deployed = mesh.meshlink(demo_args(mesh, "deploy"));
    BOOST_REQUIRE_MESSAGE(deployed.exit_code == 0, describe(deployed));
    BOOST_TEST(deployed.out.find("demo verify") != std::string::npos, deployed.out);
    const std::set<std::string> expected = {
        "Namespace//" + k_ns, "ConfigMap/" + k_ns + "/rebel-base-response",
        "Deployment/" + k_ns + "/rebel-base", "Deployment/" + k_ns + "/x-wing",
        "Service/" + k_ns + "/rebel-base"};
    for (std::size_t i = 0; i < 2; ++i) {
        BOOST_TEST_CONTEXT(mesh.spec(i).cluster_name) {
            check_reference_objects(mesh, i, mesh.spec(i).cluster_name);
            const auto written = written_keys(i == 0 ? before0 : before1, mesh.full_dump(i));
            BOOST_TEST(written == expected, boost::test_tools::per_element());
        }
    }

    const long writes0 = mesh.writes(0);
    const long writes1 = mesh.writes(1);
    auto again = mesh.meshlink(demo_args(mesh, "deploy"));
    BOOST_REQUIRE_MESSAGE(again.exit_code == 0, describe(again));
    BOOST_TEST(mesh.writes(0) == writes0);
    BOOST_TEST(mesh.writes(1) == writes1);

    auto removed = mesh.meshlink(demo_args(mesh, "delete"));
    BOOST_REQUIRE_MESSAGE(removed.exit_code == 0, describe(removed));
    const json after0 = mesh.full_dump(0);
    const json after1 = mesh.full_dump(1);
    BOOST_TEST(after0 == before0, differing(before0, after0));
    BOOST_TEST(after1 == before1, differing(before1, after1));
    auto twice = mesh.meshlink(demo_args(mesh, "delete"));
    BOOST_TEST(twice.exit_code == 0, describe(twice));
}

BOOST_AUTO_TEST_CASE(three_clusters_deploy_verify_and_delete) {
    Mesh mesh(specs(3));
    std::vector<json> before;
    for (std::size_t i = 0; i < 3; ++i) {
        before.push_back(dump_without_scripts(mesh, i));
    }
    const auto ips = deploy_and_script(mesh);
    for (std::size_t i = 0; i < 3; ++i) {
        check_reference_objects(mesh, i, mesh.spec(i).cluster_name);
        script_job(mesh, i, client_log(healthy(mesh, i, ips)));
    }
    const json report = verify_json(mesh, 0);
    BOOST_TEST(report["result"] == "pass", report.dump(2));
    BOOST_REQUIRE_EQUAL(report["directions"].size(), 3U);
    for (const auto& d : report["directions"]) {
        BOOST_TEST(d["replies"].size() == 3U);
        BOOST_TEST(d["pods"].size() == 4U);
    }
    // The Jobs are gone (Background propagation removes their Pods too).
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST(mesh.get(i, "/apis/batch/v1/namespaces/" + k_ns + "/jobs")["items"].empty());
    }
    auto removed = mesh.meshlink(demo_args(mesh, "delete"));
    BOOST_REQUIRE_MESSAGE(removed.exit_code == 0, describe(removed));
    for (std::size_t i = 0; i < 3; ++i) {
        const json after = dump_without_scripts(mesh, i);
        BOOST_TEST(after == before[i], differing(before[i], after));
    }
}

BOOST_AUTO_TEST_CASE(verify_passes_with_replies_from_both_and_names_the_cause_of_each_failure) {
    Mesh mesh(specs(2));
    const auto ips = deploy_and_script(mesh);
    const std::string c1 = mesh.spec(0).cluster_name;
    const std::string c2 = mesh.spec(1).cluster_name;

    // Replies from both clusters in both directions: a pass, with the replies per cluster in the table.
    script_job(mesh, 0, client_log(healthy(mesh, 0, ips)));
    script_job(mesh, 1, client_log(healthy(mesh, 1, ips)));
    {
        auto run = mesh.meshlink(demo_args(mesh, "verify", {"--backend-wait", "5s"}));
        BOOST_TEST_REQUIRE(run.exit_code == 0, describe(run));
        BOOST_TEST(run.out.find(fmt::format("{}: 8, {}: 6", c1, c2)) != std::string::npos, run.out);
        BOOST_TEST(run.out.find("verified") != std::string::npos, run.out);
        // `status` shows the last demo verify in one line, with the replies per direction.
        auto status = mesh.meshlink({"status"});
        BOOST_TEST_REQUIRE(status.exit_code == 0, describe(status));
        BOOST_TEST(status.out.find(fmt::format("last demo verify: pass at ")) != std::string::npos,
                   status.out);
        BOOST_TEST(status.out.find(fmt::format("{}: {} 8, {} 6", c1, c1, c2)) != std::string::npos,
                   status.out);
    }

    // Only local replies, no errors: the control plane.
    {
        Traffic t = healthy(mesh, 0, ips);
        t.service_replies = {{c1, 20}};
        script_job(mesh, 0, client_log(t));
        const json report = verify_json(mesh, 1);
        BOOST_TEST(cause_kinds(report, c1) == (std::set<std::string>{"control-plane"}), causes_text(report));
        BOOST_TEST(cause_kinds(report, c2).empty(), causes_text(report));
    }

    // Local replies plus timeouts, remote Pods timing out: the datapath, with the tunnel port to open.
    {
        Traffic t = healthy(mesh, 0, ips);
        t.service_replies = {{c1, 10}};
        t.service_timeouts = 10;
        for (auto& [ip, who] : t.pods) {
            who.clear();
        }
        script_job(mesh, 0, client_log(t));
        const json report = verify_json(mesh, 1);
        BOOST_TEST(cause_kinds(report, c1) == (std::set<std::string>{"datapath"}), causes_text(report));
        BOOST_TEST(causes_text(report).find("8472/udp") != std::string::npos, causes_text(report));
    }

    // A remote Pod IP answered by the local cluster: overlapping pod CIDRs.
    {
        Traffic t = healthy(mesh, 0, ips);
        t.pods[ips[1][0]] = c1;
        script_job(mesh, 0, client_log(t));
        const json report = verify_json(mesh, 1);
        BOOST_TEST(cause_kinds(report, c1).contains("pod-cidr-overlap"), causes_text(report));
        BOOST_TEST(causes_text(report).find(ips[1][0]) != std::string::npos, causes_text(report));
    }

    // The global annotation missing on one side: named, in the failing check and in the cause.
    {
        auto annotated = mesh.kubectl({"--context", mesh.spec(1).context, "-n", k_ns, "annotate", "service",
                                       "rebel-base", "service.cilium.io/global-"});
        BOOST_REQUIRE_MESSAGE(annotated.exit_code == 0, describe(annotated));
        Traffic t1 = healthy(mesh, 0, ips);
        t1.service_replies = {{c1, 20}};
        Traffic t2 = healthy(mesh, 1, ips);
        t2.service_replies = {{c2, 20}};
        script_job(mesh, 0, client_log(t1));
        script_job(mesh, 1, client_log(t2));
        const json report = verify_json(mesh, 1);
        bool named = false;
        for (const auto& f : report["checks"]) {
            named =
                named || (f["id"] == "demo.service.global" && f["cluster"] == c2 && f["status"] == "fail" &&
                          f["message"].get<std::string>().find("service.cilium.io/global is missing") !=
                              std::string::npos);
        }
        BOOST_TEST(named, report["checks"].dump(2));
        BOOST_TEST(cause_kinds(report, c1) == (std::set<std::string>{"control-plane"}), causes_text(report));
        BOOST_TEST(causes_text(report).find("service.cilium.io/global is missing") != std::string::npos,
                   causes_text(report));
        // deploy puts it back (create-or-update).
        auto redeployed = mesh.meshlink(demo_args(mesh, "deploy"));
        BOOST_REQUIRE_MESSAGE(redeployed.exit_code == 0, describe(redeployed));
        BOOST_TEST(
            mesh.get(1, "/api/v1/namespaces/" + k_ns +
                            "/services/rebel-base")["metadata"]["annotations"]["service.cilium.io/global"] ==
            "true");
    }

    // The Job's image cannot be pulled: named with the image and the --image-registry hint.
    {
        mesh.control(0, "DELETE", "pod-rules");
        mesh.control(0, "POST", "pod-rules",
                     {{"namespace", k_ns},
                      {"selector", "meshlink.io/role=demo-verify"},
                      {"annotations", {{"fakekube.meshlink.io/image-pull-error", ""}}}});
        auto run = mesh.meshlink(demo_args(mesh, "verify", {"--backend-wait", "5s"}));
        BOOST_TEST_REQUIRE(run.exit_code == 1, describe(run));
        const std::string all = run.out + run.err;
        // kubelet reports ErrImagePull, then ImagePullBackOff while it retries: either is the pull failing.
        BOOST_TEST((all.find("cannot be pulled: ErrImagePull") != std::string::npos ||
                    all.find("cannot be pulled: ImagePullBackOff") != std::string::npos),
                   all);
        BOOST_TEST(all.find("quay.io/cilium/alpine-curl:v1.10.0") != std::string::npos, all);
        BOOST_TEST(all.find("--image-registry") != std::string::npos, all);
    }
}

BOOST_AUTO_TEST_CASE(deploy_names_an_image_that_cannot_be_pulled) {
    Mesh mesh(specs(2));
    // What to mirror: every image, moved to the registry with its repository path, tag and digest.
    auto images =
        mesh.meshlink({"demo", "deploy", "--print-images", "--image-registry", "mirror.example:5000/hub"});
    BOOST_TEST_REQUIRE(images.exit_code == 0, describe(images));
    BOOST_TEST(images.out == "mirror.example:5000/hub/nginx:1.27.1\n"
                             "mirror.example:5000/hub/cilium/json-mock:v1.3.8@sha256:"
                             "5aad04835eda9025fe4561ad31be77fd55309af8158ca8663a72f6abb78c2603\n"
                             "mirror.example:5000/hub/cilium/alpine-curl:v1.10.0@sha256:"
                             "913e8c9f3d960dde03882defa0edd3a919d529c2eb167caa7f54194528bde364\n");
    mesh.control(1, "POST", "pod-rules",
                 {{"namespace", k_ns},
                  {"selector", "name=rebel-base"},
                  {"annotations", {{"fakekube.meshlink.io/image-pull-error", ""}}}});
    auto run = mesh.meshlink(demo_args(mesh, "deploy", {"--image-registry", "mirror.example:5000/hub"}));
    BOOST_TEST_REQUIRE(run.exit_code == 1, describe(run));
    BOOST_TEST(run.err.find(mesh.spec(1).cluster_name) != std::string::npos, run.err);
    BOOST_TEST(run.err.find("mirror.example:5000/hub/nginx:1.27.1") != std::string::npos, run.err);
    BOOST_TEST((run.err.find("cannot be pulled: ErrImagePull") != std::string::npos ||
                run.err.find("cannot be pulled: ImagePullBackOff") != std::string::npos),
               run.err);
    BOOST_TEST(run.err.find("--image-registry") != std::string::npos, run.err);
}

BOOST_AUTO_TEST_SUITE_END()
