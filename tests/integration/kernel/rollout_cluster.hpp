#pragma once
// The cluster kernel rollout's integration setup: one fakekube cluster with three EL9 nodes (each a fixture
// root from make-root.sh, with its own private dbus-daemon and a stand-in logind that records the reboot
// call), Cilium agent Pods on every node, and a real `meshlink-agent kernel run` per node started and killed
// by the test. `kubectl meshlink kernel ...` is the real plugin; the repository is make-repos.sh's signed
// one.

#include "tests/integration/kernel/harness.hpp"
#include "util/subprocess.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::test::kernel {

inline const std::string k_old_release = "5.14.0-427.13.1.el9_4.x86_64";
inline const std::string k_new_release = "7.1.9-1.el9.elrepo.x86_64";

// One node: its fixture root, its system bus with the stand-in logind, and its agent (when running).
struct RolloutNode {
    std::string name;
    std::unique_ptr<Root> root;
    std::filesystem::path dir; // bus socket, logind record, agent logs
    util::ChildProcess bus;
    util::ChildProcess logind;
    util::ChildProcess agent;
    int boots = 0;
    int agent_runs = 0;

    [[nodiscard]] std::string bus_address() const { return "unix:path=" + (dir / "bus").string(); }
    // The lines the stand-in logind recorded ("Reboot interactive=false").
    [[nodiscard]] std::vector<std::string> reboot_calls() const;
    // Every agent run's stderr so far, for failure messages.
    [[nodiscard]] std::string agent_logs() const;
};

class RolloutCluster {
public:
    // `names` become Nodes (Ready, each with a Cilium agent Pod) and fixture roots.
    explicit RolloutCluster(const std::vector<std::string>& names);
    ~RolloutCluster();

    [[nodiscard]] RolloutNode& node(const std::string& name);
    [[nodiscard]] const FakekubeProcess& server() const { return *m_server; }

    // kubectl / kubectl-meshlink against the cluster.
    CommandResult kubectl(const std::vector<std::string>& args) const;
    CommandResult plugin(const std::vector<std::string>& args) const;
    // kubectl meshlink kernel upgrade <nodes> --yes with the test repository (and --cilium-version 1.18 when
    // `extra` names none).
    CommandResult start_rollout(const std::vector<std::string>& nodes,
                                const std::vector<std::string>& extra = {});
    // Runs `meshlink-agent serve` on the node's root until its report is on the Node, judged for `cilium`.
    void publish_report(const std::string& name, const std::string& cilium);

    // Starts (again) `meshlink-agent kernel run` for the node.
    void start_agent(const std::string& name);
    void kill_agent(const std::string& name); // SIGKILL, as a reboot or a crash does
    // What the reboot does to the node: the agent dies, the node goes NotReady, boots `release` with a new
    // boot id, comes back Ready (unless `ready` is false: the test says when), and its agent starts again.
    void boot(const std::string& name, const std::string& release, bool ready = true);
    void set_ready(const std::string& name, bool ready) const;

    // The Node object; its parsed progress annotation (null when none).
    [[nodiscard]] nlohmann::json get_node(const std::string& name) const;
    [[nodiscard]] nlohmann::json progress(const std::string& name) const;
    // Waits (polling, up to `seconds`) until the node's progress state is one of `states`; fails the test
    // with the agent's log otherwise. Returns the progress document.
    nlohmann::json wait_for_state(const std::string& name, const std::vector<std::string>& states,
                                  int seconds = 240);
    // Waits until the stand-in logind of the node recorded `count` reboot calls.
    void wait_for_reboot_call(const std::string& name, std::size_t count, int seconds = 240);

    // fakekube's write log and request counters.
    [[nodiscard]] nlohmann::json writes(const std::string& query = "") const;
    [[nodiscard]] nlohmann::json stats() const;

private:
    std::optional<FakekubeProcess> m_server;
    TempDirectory m_dir;
    std::vector<std::unique_ptr<RolloutNode>> m_nodes;
};

// The holder sets of the lock Lease, in the order successful writes stored them.
std::vector<std::vector<std::string>> lease_holder_history(const nlohmann::json& writes);

} // namespace meshlink::test::kernel
