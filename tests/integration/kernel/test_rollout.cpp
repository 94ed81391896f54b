// The cluster kernel rollout end to end: `kubectl meshlink kernel upgrade` writes the plan, three real
// `meshlink-agent kernel run` processes (one per fixture node, real dnf against the signed test repository)
// take the Lease one at a time, drain through evictions that a PodDisruptionBudget slows down, ask the
// stand-in logind on their private system bus for the reboot, and after the simulated boot confirm, promote
// and uncordon. fakekube's write log is the witness for the order of everything.

#include "tests/integration/kernel/rollout_cluster.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <thread>

namespace meshlink::test::kernel {
namespace {

using nlohmann::json;

const std::vector<std::string> k_nodes{"node-a", "node-b", "node-c"};

// Two replicas of `web` on node-a (the others cordoned while they are placed), and a budget that allows one
// of them to be disrupted at a time.
void place_web_on_node_a(RolloutCluster& cluster) {
    BOOST_REQUIRE(cluster.kubectl({"cordon", "node-b", "node-c"}).exit_code == 0);
    auto created =
        cluster.kubectl({"create", "deployment", "web", "--image=registry.example/web:1", "--replicas=2"});
    BOOST_REQUIRE_MESSAGE(created.exit_code == 0, created.err);
    auto rolled = cluster.kubectl({"rollout", "status", "deployment/web", "--timeout=60s"});
    BOOST_REQUIRE_MESSAGE(rolled.exit_code == 0, rolled.err);
    BOOST_REQUIRE(cluster.kubectl({"uncordon", "node-b", "node-c"}).exit_code == 0);
    auto budget =
        cluster.kubectl({"create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=1"});
    BOOST_REQUIRE_MESSAGE(budget.exit_code == 0, budget.err);
    auto pods = cluster.kubectl({"get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.nodeName}"});
    BOOST_REQUIRE_EQUAL(pods.out, "node-a node-a");
}

// Follows one node through its reboot: waits for the call to logind, then boots it into `release`.
void reboot_node(RolloutCluster& cluster, const std::string& name, const std::string& release) {
    auto& node = cluster.node(name);
    cluster.wait_for_reboot_call(name, static_cast<std::size_t>(node.boots) + 1);
    cluster.boot(name, release);
}

bool cordoned(const json& node) {
    return node.contains("spec") && node["spec"].value("unschedulable", false);
}

// Successful evictions per Pod, from the write log.
std::map<std::string, int> successful_evictions(const json& writes) {
    std::map<std::string, int> count;
    for (const auto& entry : writes["writes"]) {
        if (entry["verb"] == "evict" && entry["code"].get<int>() < 300) {
            ++count[entry["namespace"].get<std::string>() + "/" + entry["name"].get<std::string>()];
        }
    }
    return count;
}

// dbus-daemon and the stand-in logind (built only with libsystemd, as the agent's logind call is).
boost::test_tools::assertion_result has_bus(boost::unit_test::test_unit_id /*unused*/) {
    boost::test_tools::assertion_result result(util::find_executable("dbus-daemon").has_value() &&
                                               std::string(MESHLINK_STAND_IN_LOGIND) != "");
    result.message() << "dbus-daemon (scripts/install-deps) and the stand-in logind (MESHLINK_WITH_SYSTEMD, "
                        "libsystemd) are needed";
    return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(kernel_rollout, *boost::unit_test::precondition(has_bus))

// Also the README walk-through ("Kernel rollout across a cluster"): its output is printed here
// (--log_level=message).
BOOST_AUTO_TEST_CASE(three_nodes_one_at_a_time_through_drain_reboot_and_confirm) {
    RolloutCluster cluster(k_nodes);
    place_web_on_node_a(cluster);
    // The agents' reports, judged for Cilium 1.20 (which needs BTF, which the nodes' EL9 kernels lack here).
    for (const auto& name : k_nodes) {
        cluster.publish_report(name, "1.20");
    }
    auto preflight = cluster.plugin({"preflight", "--cilium-version", "1.20"});
    BOOST_TEST_MESSAGE("$ kubectl meshlink preflight --cilium-version 1.20\n"
                       << preflight.out << preflight.err);
    BOOST_TEST(preflight.exit_code == 1);
    BOOST_TEST(preflight.out.find("node.kernel.btf") != std::string::npos, preflight.out);

    // kernel plan and --dry-run write nothing.
    BOOST_REQUIRE(cluster.kubectl({"delete", "--raw", "/fakekube/v1/writes"}).exit_code == 0);
    auto table = cluster.plugin({"kernel", "plan"});
    BOOST_TEST_MESSAGE("$ kubectl meshlink kernel plan\n" << table.out << table.err);
    auto plan = cluster.plugin({"kernel", "plan", "-o", "json"});
    BOOST_TEST_REQUIRE(plan.exit_code == 0, plan.err);
    const json verdicts = json::parse(plan.out);
    BOOST_TEST_REQUIRE(verdicts["nodes"].size() == 3u);
    for (const auto& verdict : verdicts["nodes"]) {
        BOOST_TEST(verdict["verdict"] == "upgrade", verdict.dump());
    }
    auto dry = cluster.start_rollout({}, {"--cilium-version", "1.20", "--dry-run", "-o", "json"});
    BOOST_TEST_REQUIRE(dry.exit_code == 0, dry.err);
    std::string kinds;
    const json objects = json::parse(dry.out);
    for (const auto& item : objects["items"]) {
        kinds += item["kind"].get<std::string>() + " ";
    }
    BOOST_TEST(kinds ==
               "Lease ConfigMap ServiceAccount ClusterRole ClusterRoleBinding Role RoleBinding DaemonSet ");
    BOOST_TEST(cluster.writes()["writes"].empty(), cluster.writes().dump());

    // Without node names: the nodes the plan says to upgrade, for the Cilium release their reports name.
    auto started = cluster.start_rollout({}, {"--cilium-version", "1.20", "--drain-timeout", "3m"});
    BOOST_TEST_MESSAGE("$ kubectl meshlink kernel upgrade --yes --drain-timeout 3m --repo-url ...\n"
                       << started.out << started.err);
    BOOST_TEST_REQUIRE(started.exit_code == 0, started.out << started.err);
    auto daemonset = cluster.kubectl(
        {"get", "daemonset", "-n", "meshlink-system", "meshlink-kernel", "-o",
         "jsonpath={.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
         "nodeSelectorTerms[0].matchFields[0].values}"});
    BOOST_TEST(daemonset.out == R"(["node-a","node-b","node-c"])");

    for (const auto& name : k_nodes) {
        cluster.start_agent(name);
    }
    for (const auto& name : k_nodes) {
        reboot_node(cluster, name, k_new_release);
        if (name == "node-b") {
            auto during = cluster.plugin({"kernel", "status"});
            BOOST_TEST_MESSAGE("$ kubectl meshlink kernel status\n" << during.out << during.err);
        }
        const auto done = cluster.wait_for_state(name, {"done"});
        BOOST_TEST(done["to"] == k_new_release);
        BOOST_TEST(done["from"] == k_old_release);
        BOOST_TEST(!cordoned(cluster.get_node(name)), name << " is still cordoned");
        // Promoted: GRUB's saved default is the new kernel now, no one-shot entry is left.
        const auto grub = cluster.node(name).root->grubenv();
        BOOST_TEST(grub.at("saved_entry").find("7.1.9") != std::string::npos,
                   name << ": " << grub.at("saved_entry"));
        BOOST_TEST(grub.count("next_entry") == 0);
    }

    // Every node asked logind exactly once, over D-Bus, without interaction.
    for (const auto& name : k_nodes) {
        BOOST_TEST(cluster.node(name).reboot_calls() == std::vector<std::string>{"Reboot interactive=false"});
    }

    const json writes = cluster.writes();
    BOOST_TEST_REQUIRE(writes["dropped"] == 0);
    // The Lease never had two holders, and the nodes held it one after the other, in the plan's order.
    std::vector<std::string> order;
    for (const auto& holders : lease_holder_history(writes)) {
        BOOST_TEST(holders.size() <= 1u);
        if (holders.size() == 1 && (order.empty() || order.back() != holders.front())) {
            order.push_back(holders.front());
        }
    }
    BOOST_TEST(order == k_nodes, "holders in order of the write log");
    BOOST_TEST(lease_holder_history(writes).back().empty(), "the last node let go");

    // A node was cordoned only while it held the lock: every cordon of node X falls between X's hold and
    // release in the write log.
    std::string holder;
    for (const auto& entry : writes["writes"]) {
        if (entry["resource"] == "leases" && entry["code"].get<int>() < 300) {
            const std::string h = entry["object"]["spec"].value("holderIdentity", "");
            holder = h;
        }
        if (entry["resource"] == "nodes" && entry["verb"] == "patch" && entry["code"].get<int>() < 300 &&
            cordoned(entry["object"])) {
            BOOST_TEST(entry["name"].get<std::string>() == holder,
                       "cordon of " << entry["name"] << " while " << holder << " held the lock");
        }
    }

    // The budget made the second eviction from node-a wait: a 429 first, then the same Pod evicted once.
    std::string refused;
    for (const auto& entry : writes["writes"]) {
        if (entry["verb"] == "evict" && entry["code"] == 429) {
            refused = entry["name"];
            break;
        }
    }
    BOOST_TEST_REQUIRE(!refused.empty(), "no eviction was refused by the budget");
    const auto evictions = successful_evictions(writes);
    BOOST_TEST(evictions.at("default/" + refused) == 1);
    for (const auto& [pod, count] : evictions) {
        BOOST_TEST(count == 1, pod << " evicted " << count << " times");
        BOOST_TEST(pod.rfind("kube-system/cilium-", 0) != 0, "the Cilium agent (a DaemonSet Pod) stays");
    }

    auto final_status = cluster.plugin({"kernel", "status"});
    BOOST_TEST_MESSAGE("$ kubectl meshlink kernel status\n" << final_status.out << final_status.err);
    auto status = cluster.plugin({"kernel", "status", "-o", "json"});
    BOOST_TEST_REQUIRE(status.exit_code == 0, status.err);
    BOOST_TEST(json::parse(status.out)["phase"] == "complete");

    // finish leaves no meshlink-kernel object behind.
    for (auto& node : k_nodes) {
        cluster.kill_agent(node);
    }
    auto finished = cluster.plugin({"kernel", "finish"});
    BOOST_TEST_MESSAGE("$ kubectl meshlink kernel finish\n" << finished.out << finished.err);
    BOOST_TEST_REQUIRE(finished.exit_code == 0, finished.err);
    for (const auto& object :
         {std::vector<std::string>{"daemonset", "-n", "meshlink-system", "meshlink-kernel"},
          {"serviceaccount", "-n", "meshlink-system", "meshlink-kernel"},
          {"role", "-n", "meshlink-system", "meshlink-kernel"},
          {"rolebinding", "-n", "meshlink-system", "meshlink-kernel"},
          {"clusterrole", "meshlink-kernel"},
          {"clusterrolebinding", "meshlink-kernel"},
          {"configmap", "-n", "meshlink-system", "meshlink-kernel-plan"},
          {"lease", "-n", "meshlink-system", "meshlink-kernel-rollout"}}) {
        std::vector<std::string> args{"get"};
        args.insert(args.end(), object.begin(), object.end());
        auto got = cluster.kubectl(args);
        BOOST_TEST(got.exit_code != 0, object.back() << " is still there");
        BOOST_TEST(got.err.find("NotFound") != std::string::npos, got.err);
    }
}

BOOST_AUTO_TEST_CASE(an_old_kernel_after_the_boot_halts_until_resume) {
    RolloutCluster cluster(k_nodes);
    auto started = cluster.start_rollout(k_nodes);
    BOOST_TEST_REQUIRE(started.exit_code == 0, started.out << started.err);
    for (const auto& name : k_nodes) {
        cluster.start_agent(name);
    }
    // GRUB fell back: the node comes up on the kernel it had.
    reboot_node(cluster, "node-a", k_old_release);
    const auto failed = cluster.wait_for_state("node-a", {"failed"});
    BOOST_TEST(failed["error"]["step"] == "confirm");
    BOOST_TEST(cordoned(cluster.get_node("node-a")), "the failed node stays cordoned");

    auto status = cluster.plugin({"kernel", "status"});
    BOOST_TEST_MESSAGE("$ kubectl meshlink kernel status\n" << status.out << status.err);
    BOOST_TEST(status.exit_code == 1, status.out << status.err);
    BOOST_TEST(status.out.find("HALTED by node node-a") != std::string::npos, status.out);
    BOOST_TEST(status.out.find(k_old_release) != std::string::npos,
               "the reason names the kernel that runs: " << status.out);
    // The others never start: a second of agent passes later they still wait, without the lock.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    for (const auto& name : {"node-b", "node-c"}) {
        const auto progress = cluster.progress(name);
        BOOST_TEST((progress.is_null() || progress["state"] == "waiting"), name << ": " << progress.dump());
        BOOST_TEST(!cordoned(cluster.get_node(name)));
        BOOST_TEST(cluster.node(name).reboot_calls().empty());
    }

    // Fixed (the next boot takes the new kernel): resume retries node-a, and the rollout goes on.
    auto resumed = cluster.plugin({"kernel", "resume"});
    BOOST_TEST_MESSAGE("$ kubectl meshlink kernel resume\n" << resumed.out << resumed.err);
    BOOST_TEST_REQUIRE(resumed.exit_code == 0, resumed.err);
    BOOST_TEST(resumed.out.find("node node-a: retried") != std::string::npos, resumed.out);
    reboot_node(cluster, "node-a", k_new_release);
    const auto done = cluster.wait_for_state("node-a", {"done"});
    BOOST_TEST(done["attempt"] == 2);
    BOOST_TEST(!cordoned(cluster.get_node("node-a")));
    cluster.wait_for_state("node-b", {"draining", "rebooting"});
}

BOOST_AUTO_TEST_CASE(kill_9_in_every_state_continues_from_the_record) {
    const std::vector<std::string> nodes{"node-a", "node-b"};
    RolloutCluster cluster(nodes);
    // Two web replicas on node-a under a budget that allows no disruption until the test relaxes it, so the
    // drain is still going when the agent is killed.
    BOOST_REQUIRE(cluster.kubectl({"cordon", "node-b"}).exit_code == 0);
    BOOST_REQUIRE(
        cluster.kubectl({"create", "deployment", "web", "--image=registry.example/web:1", "--replicas=2"})
            .exit_code == 0);
    BOOST_REQUIRE(cluster.kubectl({"rollout", "status", "deployment/web", "--timeout=60s"}).exit_code == 0);
    BOOST_REQUIRE(cluster.kubectl({"uncordon", "node-b"}).exit_code == 0);
    BOOST_REQUIRE(
        cluster.kubectl({"create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=2"})
            .exit_code == 0);
    auto started = cluster.start_rollout(nodes);
    BOOST_TEST_REQUIRE(started.exit_code == 0, started.out << started.err);
    for (const auto& name : nodes) {
        cluster.start_agent(name);
    }
    std::vector<std::string> killed_in;
    const auto kill_and_restart = [&](const std::string& state) {
        killed_in.push_back(state);
        cluster.kill_agent("node-a");
        cluster.start_agent("node-a");
    };
    // dnf runs for a few seconds: the agent dies in the middle of the stage.
    kill_and_restart(cluster.wait_for_state("node-a", {"staging", "draining"})["state"]);
    // Draining, held by the budget.
    cluster.wait_for_state("node-a", {"draining"});
    std::this_thread::sleep_for(std::chrono::seconds(1));
    kill_and_restart("draining");
    auto relaxed = cluster.kubectl(
        {"patch", "poddisruptionbudget", "web", "--type=merge", "-p", R"({"spec":{"minAvailable":1}})"});
    BOOST_REQUIRE_MESSAGE(relaxed.exit_code == 0, relaxed.err);
    // Rebooting: killed after asking logind, before the node went down; the new process asks again, once.
    cluster.wait_for_reboot_call("node-a", 1);
    kill_and_restart("rebooting");
    cluster.wait_for_reboot_call("node-a", 2);
    // Verifying: the node is still NotReady after the boot.
    cluster.boot("node-a", k_new_release, /*ready=*/false);
    cluster.wait_for_state("node-a", {"verifying"});
    kill_and_restart("verifying");
    cluster.set_ready("node-a", true);
    cluster.wait_for_state("node-a", {"done"});
    kill_and_restart("done");
    reboot_node(cluster, "node-b", k_new_release);
    cluster.wait_for_state("node-b", {"done"});
    BOOST_TEST_MESSAGE("killed in: " << fmt::format("{}", fmt::join(killed_in, ", ")));

    for (const auto& name : nodes) {
        BOOST_TEST(!cordoned(cluster.get_node(name)), name << " left cordoned");
        BOOST_TEST(cluster.progress(name)["state"] == "done");
    }
    BOOST_TEST(cluster.node("node-a").reboot_calls().size() == 2u);
    const json writes = cluster.writes();
    BOOST_TEST_REQUIRE(writes["dropped"] == 0);
    for (const auto& [pod, count] : successful_evictions(writes)) {
        BOOST_TEST(count == 1, pod << " evicted " << count << " times");
    }
    // node-a was cordoned once (by the rollout) and uncordoned once.
    int cordons = 0;
    int uncordons = 0;
    bool was = false;
    for (const auto& entry : writes["writes"]) {
        if (entry["resource"] == "nodes" && entry["name"] == "node-a" && entry["code"].get<int>() < 300) {
            const bool now = cordoned(entry["object"]);
            cordons += (now && !was) ? 1 : 0;
            uncordons += (!now && was) ? 1 : 0;
            was = now;
        }
    }
    BOOST_TEST(cordons == 1);
    BOOST_TEST(uncordons == 1);
    for (const auto& holders : lease_holder_history(writes)) {
        BOOST_TEST(holders.size() <= 1u);
    }
}

BOOST_AUTO_TEST_CASE(abort_before_the_reboot_undoes_the_node_and_starts_no_other) {
    const std::vector<std::string> nodes{"node-a", "node-b"};
    RolloutCluster cluster(nodes);
    // A budget that allows no disruption keeps node-a draining.
    BOOST_REQUIRE(cluster.kubectl({"cordon", "node-b"}).exit_code == 0);
    BOOST_REQUIRE(
        cluster.kubectl({"create", "deployment", "web", "--image=registry.example/web:1", "--replicas=1"})
            .exit_code == 0);
    BOOST_REQUIRE(cluster.kubectl({"rollout", "status", "deployment/web", "--timeout=60s"}).exit_code == 0);
    BOOST_REQUIRE(cluster.kubectl({"uncordon", "node-b"}).exit_code == 0);
    BOOST_REQUIRE(
        cluster.kubectl({"create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=1"})
            .exit_code == 0);
    auto started = cluster.start_rollout(nodes);
    BOOST_TEST_REQUIRE(started.exit_code == 0, started.out << started.err);
    for (const auto& name : nodes) {
        cluster.start_agent(name);
    }
    cluster.wait_for_state("node-a", {"draining"});
    BOOST_TEST(cordoned(cluster.get_node("node-a")));
    auto aborted = cluster.plugin({"kernel", "abort"});
    BOOST_TEST_REQUIRE(aborted.exit_code == 0, aborted.err);
    cluster.wait_for_state("node-a", {"aborted"});
    BOOST_TEST(!cordoned(cluster.get_node("node-a")), "uncordoned: it was not cordoned before");
    // The staged kernel is rolled back: no one-shot boot is left.
    BOOST_TEST(cluster.node("node-a").root->grubenv().count("next_entry") == 0);
    BOOST_TEST(cluster.node("node-a").reboot_calls().empty());
    auto status = cluster.plugin({"kernel", "status", "-o", "json"});
    BOOST_TEST_REQUIRE(status.exit_code == 0, status.err);
    const json document = json::parse(status.out);
    BOOST_TEST(document["phase"] == "aborted");
    // The hold is given back (on the agent's next pass), and node-b never starts.
    json holders;
    for (int pass = 0; pass < 50; ++pass) {
        holders = json::parse(cluster.plugin({"kernel", "status", "-o", "json"}).out)["lock"]["holders"];
        if (holders.empty()) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    BOOST_TEST(holders.empty(), holders.dump());
    const auto b = cluster.progress("node-b");
    BOOST_TEST((b.is_null() || b["state"] == "waiting" || b["state"] == "aborted"), b.dump());
    BOOST_TEST(!cordoned(cluster.get_node("node-b")));
    auto finished = cluster.plugin({"kernel", "finish"});
    BOOST_TEST(finished.exit_code == 0, finished.err);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace meshlink::test::kernel
