// Issue 12 §3, performed: a compromised agent holds its ServiceAccount's pod-bound token, and RBAC lets that
// ServiceAccount patch every Node. With meshlink's real manifests applied (the admission policy among them),
// fakekube evaluating the policy as kube-apiserver does, and real kubectl and meshlink-agent using that
// token, every write to another Node and every non-meshlink change to its own Node is refused and changes
// nothing; the agent's own report still goes through. Its Leases likewise: only meshlink-agent-<its node>,
// held by its node. Without the policies' bindings, RBAC alone lets the forgeries in.

#include "tests/integration/agent/harness.hpp"

#include <boost/test/unit_test.hpp>
#include <signal.h>

#include <filesystem>
#include <memory>
#include <optional>

using namespace meshlink;
using namespace meshlink::test;

namespace {

const std::filesystem::path k_manifests = std::filesystem::path(MESHLINK_SOURCE_DIR) / "manifests";
constexpr const char* k_report = "meshlink.io/node-report";
const std::string k_denied = "ValidatingAdmissionPolicy 'meshlink-agent-own-node' with binding "
                             "'meshlink-agent-own-node' denied request: ";

struct Cluster {
    TempDirectory dir;
    std::optional<FakekubeProcess> server;
    std::filesystem::path admin;    // fakekube's admin kubeconfig
    std::filesystem::path as_agent; // kubeconfig with the agent's token, bound to its Pod on node-a
};

std::unique_ptr<Cluster> start_cluster() {
    auto cluster = std::make_unique<Cluster>();
    TempDirectory* dir = &cluster->dir;
    FakekubeOptions options("admission-it");
    options.extra_args = {"--authorization-mode", "RBAC"};
    options.seeds = {dir->write("nodes.yaml", R"(apiVersion: v1
kind: Node
metadata:
  name: node-a
  labels: {kubernetes.io/hostname: node-a}
---
apiVersion: v1
kind: Node
metadata:
  name: node-b
  labels: {kubernetes.io/hostname: node-b, meshlink.io/kernel-ready: "true"}
  annotations: {meshlink.io/node-report: '{"node": "node-b"}'}
)")};
    auto server = FakekubeProcess::start(options);
    BOOST_TEST_REQUIRE(server.has_value(), error_message(server));
    const auto admin_env = environment_with({"KUBECONFIG=" + server->kubeconfig().string()});
    auto applied = run_command({"kubectl", "apply", "-k", k_manifests.string()}, admin_env);
    BOOST_TEST_REQUIRE(applied.has_value(), error_message(applied));
    BOOST_TEST_REQUIRE(applied->exit_code == 0, applied->err);
    auto token = agent_pod_token(*server, *dir, "node-a");
    BOOST_TEST_REQUIRE(token.has_value(), error_message(token));
    auto kubeconfig = token_kubeconfig(*server, *dir, *token, "agent");
    BOOST_TEST_REQUIRE(kubeconfig.has_value(), error_message(kubeconfig));
    cluster->admin = server->kubeconfig();
    cluster->as_agent = *kubeconfig;
    cluster->server.emplace(std::move(*server));
    return cluster;
}

CommandResult kubectl(const std::filesystem::path& kubeconfig, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"kubectl"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run_command(argv, environment_with({"KUBECONFIG=" + kubeconfig.string()}));
    BOOST_TEST_REQUIRE(result.has_value(), error_message(result));
    return std::move(*result);
}

json node(const Cluster& cluster, const std::string& name) {
    auto got = kubectl(cluster.admin, {"get", "node", name, "-o", "json"});
    BOOST_TEST_REQUIRE(got.exit_code == 0, got.err);
    return json::parse(got.out);
}

// `args` as the agent is refused with `message` and leaves `name` exactly as it was.
void refused(const Cluster& cluster, const std::string& name, const std::vector<std::string>& args,
             const std::string& message) {
    const json before = node(cluster, name);
    const auto result = kubectl(cluster.as_agent, args);
    // kubectl cordon prints a refused patch as an error but still exits 0 (kubectl 1.33); the others exit 1.
    BOOST_TEST((result.exit_code != 0 || args.front() == "cordon"), result.out);
    BOOST_TEST(result.err.find("nodes \"" + name + "\" is forbidden: " + k_denied + message) !=
                   std::string::npos,
               result.err);
    BOOST_TEST(node(cluster, name) == before);
}

const std::string k_lease_denied = "ValidatingAdmissionPolicy 'meshlink-agent-own-lease' with binding "
                                   "'meshlink-agent-own-lease' denied request: ";
const std::string k_not_own_lease = "the meshlink agent may write only the Lease of the node its pod runs on "
                                    "(meshlink-agent-<the node name in "
                                    "its pod-bound ServiceAccount token>)";
const std::string k_not_own_holder =
    "the meshlink agent's Lease must be held by the node its pod runs on (spec.holderIdentity)";

// A Lease manifest in the cluster's directory, for kubectl create/replace -f.
std::filesystem::path lease_file(Cluster& cluster, const std::string& name, const std::string& holder) {
    return cluster.dir.write(name + "-" + holder + ".yaml", "apiVersion: coordination.k8s.io/v1\n"
                                                            "kind: Lease\n"
                                                            "metadata: {name: " +
                                                                name +
                                                                ", namespace: meshlink-system}\n"
                                                                "spec: {holderIdentity: " +
                                                                holder + ", leaseDurationSeconds: 600}\n");
}

json lease_object(const Cluster& cluster, const std::string& name) {
    auto got = kubectl(cluster.admin, {"get", "lease", "-n", "meshlink-system", name, "-o", "json"});
    BOOST_TEST_REQUIRE(got.exit_code == 0, got.err);
    return json::parse(got.out);
}

// `verb` (create or replace) of the Lease `name` held by `holder`, as the agent: refused with `message`.
void lease_refused(Cluster& cluster, const std::string& verb, const std::string& name,
                   const std::string& holder, const std::string& message) {
    const auto result = kubectl(cluster.as_agent, {verb, "-f", lease_file(cluster, name, holder).string()});
    BOOST_TEST(result.exit_code != 0, result.out);
    BOOST_TEST(result.err.find("leases.coordination.k8s.io \"" + name + "\" is forbidden: " + k_lease_denied +
                               message) != std::string::npos,
               result.err);
}

} // namespace

BOOST_AUTO_TEST_SUITE(agent_admission_policy)

// The liveness Leases: the stolen token of node-a's agent cannot create or renew another node's Lease (which
// would make a stopped agent look alive), claim one for another holder, or take the kernel rollout's lock.
BOOST_AUTO_TEST_CASE(a_stolen_agent_token_writes_only_its_own_node_s_lease) {
    auto cluster = start_cluster();
    lease_refused(*cluster, "create", "meshlink-agent-node-b", "node-b", k_not_own_lease);
    lease_refused(*cluster, "create", "meshlink-agent-node-a", "node-b", k_not_own_holder);
    lease_refused(*cluster, "create", "meshlink-kernel-rollout", "node-a", k_not_own_lease);
    BOOST_TEST(kubectl(cluster->admin, {"get", "lease", "-n", "meshlink-system", "meshlink-agent-node-b"})
                   .exit_code != 0);

    // Leases that exist (node-b's real agent, a rollout in progress): a renewal by the stolen token is
    // refused and leaves them exactly as they were.
    for (const auto& [name, holder] : {std::pair<std::string, std::string>{"meshlink-agent-node-b", "node-b"},
                                       {"meshlink-kernel-rollout", "node-b"}}) {
        auto created = kubectl(cluster->admin, {"create", "-f", lease_file(*cluster, name, holder).string()});
        BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
        const json before = lease_object(*cluster, name);
        lease_refused(*cluster, "replace", name, "node-a", k_not_own_lease);
        BOOST_TEST(lease_object(*cluster, name) == before, name);
    }

    // Its own Lease, held by its own node, goes through (the real agent renews it in the case above too).
    auto own = kubectl(cluster->as_agent,
                       {"create", "-f", lease_file(*cluster, "meshlink-agent-node-a", "node-a").string()});
    BOOST_TEST(own.exit_code == 0, own.err);
    lease_refused(*cluster, "replace", "meshlink-agent-node-a", "node-b", k_not_own_holder);
    BOOST_TEST(lease_object(*cluster, "meshlink-agent-node-a")["spec"]["holderIdentity"] == "node-a");
}

BOOST_AUTO_TEST_CASE(a_stolen_agent_token_changes_only_meshlink_metadata_of_its_own_node) {
    auto cluster = start_cluster();
    const std::string other_node =
        "the meshlink agent may change only the Node its pod runs on (the node name in "
        "its pod-bound ServiceAccount token)";

    // (a) Forging another node's report or labels.
    refused(*cluster, "node-b",
            {"annotate", "--overwrite", "node", "node-b",
             std::string(k_report) + "={\"node\":\"node-b\",\"forged\":1}"},
            other_node);
    refused(*cluster, "node-b", {"label", "--overwrite", "node", "node-b", "meshlink.io/kernel-ready=false"},
            other_node);
    // (b) Its own node: no cordon, no taint, no label or annotation outside meshlink.io/.
    refused(
        *cluster, "node-a", {"cordon", "node-a"},
        "the meshlink agent may not change a Node's spec (taints, unschedulable, pod CIDRs, provider ID)");
    refused(
        *cluster, "node-a", {"taint", "node", "node-a", "evil=1:NoSchedule"},
        "the meshlink agent may not change a Node's spec (taints, unschedulable, pod CIDRs, provider ID)");
    refused(*cluster, "node-a", {"label", "node", "node-a", "evil=1"},
            "the meshlink agent may add, change or remove only labels under meshlink.io/");
    refused(*cluster, "node-a", {"label", "node", "node-a", "kubernetes.io/hostname-"},
            "the meshlink agent may add, change or remove only labels under meshlink.io/");
    refused(*cluster, "node-a", {"annotate", "node", "node-a", "example.com/x=1"},
            "the meshlink agent may add, change or remove only annotations under meshlink.io/");

    // The token does work: meshlink.io/ metadata of its own node is allowed.
    auto own = kubectl(cluster->as_agent, {"annotate", "node", "node-a", "meshlink.io/probe=1"});
    BOOST_TEST(own.exit_code == 0, own.err);

    // (c) The real agent publishes its own report with that token.
    auto args = fixture_serve_args(cluster->as_agent, "node-a");
    args.insert(args.end(), {"--interval", "1s", "--cilium-version", "1.16"});
    auto agent = AgentProcess::start(args);
    BOOST_TEST_REQUIRE(agent.has_value(), error_message(agent));
    auto lease = [&](const std::string& name) {
        return kubectl(cluster->admin, {"get", "lease", "-n", "meshlink-system", "meshlink-agent-" + name,
                                        "-o", "jsonpath={.spec.renewTime}"});
    };
    std::string first_renewal;
    BOOST_TEST_REQUIRE(wait_for([&] {
                           const auto renewed = lease("node-a");
                           if (renewed.exit_code == 0 && first_renewal.empty()) {
                               first_renewal = renewed.out;
                           }
                           return renewed.exit_code == 0 && renewed.out != first_renewal;
                       }),
                       agent->log());
    const json a = node(*cluster, "node-a");
    BOOST_TEST(a["metadata"]["annotations"].contains(k_report));
    BOOST_TEST(a["metadata"]["labels"]["meshlink.io/kernel-ready"] == "false");
    agent->signal(SIGTERM);
    BOOST_TEST(agent->wait_exit(std::chrono::seconds(60)).has_value());

    // (d) The same agent and token told to publish as node-b: refused, and it says so.
    const json b_before = node(*cluster, "node-b");
    auto forger_args = fixture_serve_args(cluster->as_agent, "node-b");
    forger_args.insert(forger_args.end(), {"--interval", "1s", "--cilium-version", "1.16"});
    auto forger = AgentProcess::start(forger_args);
    BOOST_TEST_REQUIRE(forger.has_value(), error_message(forger));
    BOOST_TEST_REQUIRE(
        wait_for([&] { return forger->log().find(k_denied + other_node) != std::string::npos; }),
        forger->log());
    forger->signal(SIGTERM);
    BOOST_TEST(forger->wait_exit(std::chrono::seconds(60)).has_value());
    BOOST_TEST(node(*cluster, "node-b") == b_before);
    BOOST_TEST(lease("node-b").exit_code != 0); // no Lease claims node-b is alive either
}

// (e) The test can fail: without the binding, RBAC alone lets the stolen token forge node-b's report.
BOOST_AUTO_TEST_CASE(without_the_policy_binding_rbac_alone_lets_the_forgery_in) {
    auto cluster = start_cluster();
    auto removed =
        kubectl(cluster->admin, {"delete", "validatingadmissionpolicybinding", "meshlink-agent-own-node"});
    BOOST_TEST_REQUIRE(removed.exit_code == 0, removed.err);
    auto forged = kubectl(cluster->as_agent, {"annotate", "--overwrite", "node", "node-b",
                                              std::string(k_report) + "={\"node\":\"node-b\",\"forged\":1}"});
    BOOST_TEST(forged.exit_code == 0, forged.err);
    BOOST_TEST(node(*cluster, "node-b")["metadata"]["annotations"][k_report] ==
               "{\"node\":\"node-b\",\"forged\":1}");
    auto cordoned = kubectl(cluster->as_agent, {"cordon", "node-b"});
    BOOST_TEST(cordoned.exit_code == 0, cordoned.err);

    // Likewise for the Leases: without their binding, the Role alone lets the token keep node-b "alive".
    auto unbound =
        kubectl(cluster->admin, {"delete", "validatingadmissionpolicybinding", "meshlink-agent-own-lease"});
    BOOST_TEST_REQUIRE(unbound.exit_code == 0, unbound.err);
    auto faked = kubectl(cluster->as_agent,
                         {"create", "-f", lease_file(*cluster, "meshlink-agent-node-b", "node-b").string()});
    BOOST_TEST(faked.exit_code == 0, faked.err);
}

BOOST_AUTO_TEST_SUITE_END()
