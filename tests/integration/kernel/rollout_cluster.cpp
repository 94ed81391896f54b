#include "tests/integration/kernel/rollout_cluster.hpp"

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace meshlink::test::kernel {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Starts argv in the background with stdout and stderr appended to `log`.
util::ChildProcess spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         const fs::path& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& entry : env) {
        envp.push_back(const_cast<char*>(entry.c_str()));
    }
    envp.push_back(nullptr);
    pid_t pid = -1;
    const int spawned =
        ::posix_spawnp(&pid, argv.front().c_str(), &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    BOOST_REQUIRE_MESSAGE(spawned == 0, "cannot start " << argv.front() << ": " << std::strerror(spawned));
    return util::ChildProcess(pid);
}

template <typename Predicate>
bool wait_until(int seconds, Predicate done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return done();
}

std::string seed(const std::vector<std::string>& names) {
    std::string out =
        json({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "meshlink-system"}}}})
            .dump() +
        "\n---\n";
    for (const auto& name : names) {
        out += json({{"apiVersion", "v1"},
                     {"kind", "Node"},
                     {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
                     {"status",
                      {{"conditions", json::array({{{"type", "Ready"},
                                                    {"status", "True"},
                                                    {"reason", "KubeletReady"},
                                                    {"message", "kubelet is posting ready status"}}})},
                       {"nodeInfo",
                        {{"kernelVersion", k_old_release}, {"osImage", "Rocky Linux 9.4 (Blue Onyx)"}}}}}})
                   .dump() +
               "\n---\n";
        // The node's Cilium agent, as its DaemonSet would have made it (fakekube runs no DaemonSet Pods).
        out += json({{"apiVersion", "v1"},
                     {"kind", "Pod"},
                     {"metadata",
                      {{"name", "cilium-" + name},
                       {"namespace", "kube-system"},
                       {"labels", {{"k8s-app", "cilium"}}},
                       {"ownerReferences", json::array({{{"apiVersion", "apps/v1"},
                                                         {"kind", "DaemonSet"},
                                                         {"name", "cilium"},
                                                         {"uid", "7f0c0c3e-1b1a-4c55-9c62-6a3c3c1e0001"},
                                                         {"controller", true}}})}}},
                     {"spec",
                      {{"nodeName", name},
                       {"containers", json::array({{{"name", "cilium-agent"},
                                                    {"image", "quay.io/cilium/cilium:v1.18.0"}}})}}}})
                   .dump() +
               "\n---\n";
    }
    return out;
}

} // namespace

std::vector<std::string> RolloutNode::reboot_calls() const {
    std::vector<std::string> lines;
    std::istringstream in(slurp(dir / "logind.record"));
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) {
            lines.push_back(line);
        }
    }
    return lines;
}

std::string RolloutNode::agent_logs() const {
    return slurp(dir / "agent.log");
}

RolloutCluster::RolloutCluster(const std::vector<std::string>& names) {
    FakekubeOptions options("rollout");
    options.seeds = {m_dir.write("seed.yaml", seed(names))};
    options.extra_args = {"--exit-with-parent"};
    auto server = FakekubeProcess::start(options);
    BOOST_REQUIRE_MESSAGE(server.has_value(), error_message(server));
    m_server.emplace(std::move(*server));
    for (const auto& name : names) {
        auto node = std::make_unique<RolloutNode>();
        node->name = name;
        node->root = std::make_unique<Root>(9);
        node->dir = m_dir.path() / name;
        fs::create_directories(node->dir / "tmp");
        // The node's system bus: a private dbus-daemon, and logind's stand-in on it.
        node->bus =
            spawn({"dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=" + node->bus_address()},
                  environment_with({}), node->dir / "dbus.log");
        BOOST_REQUIRE_MESSAGE(wait_until(60, [&] { return fs::exists(node->dir / "bus"); }),
                              "dbus-daemon did not start: " << slurp(node->dir / "dbus.log"));
        node->logind =
            spawn({MESHLINK_STAND_IN_LOGIND, node->bus_address(), (node->dir / "logind.record").string()},
                  environment_with({}), node->dir / "logind.log");
        BOOST_REQUIRE_MESSAGE(
            wait_until(60,
                       [&] { return slurp(node->dir / "logind.log").find("ready") != std::string::npos; }),
            "the stand-in logind did not start: " << slurp(node->dir / "logind.log")
                                                  << "\ndbus-daemon: " << slurp(node->dir / "dbus.log"));
        m_nodes.push_back(std::move(node));
    }
}

RolloutCluster::~RolloutCluster() {
    for (auto& node : m_nodes) {
        node->agent.kill_and_reap();
        node->logind.kill_and_reap();
        node->bus.kill_and_reap();
    }
}

RolloutNode& RolloutCluster::node(const std::string& name) {
    for (auto& node : m_nodes) {
        if (node->name == name) {
            return *node;
        }
    }
    BOOST_FAIL("no node " << name);
    throw std::logic_error("unreachable");
}

CommandResult RolloutCluster::kubectl(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"kubectl"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {"KUBECONFIG=" + m_server->kubeconfig().string()});
}

CommandResult RolloutCluster::plugin(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{(bin_dir() / "kubectl-meshlink").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {"KUBECONFIG=" + m_server->kubeconfig().string(), "NO_COLOR=1"});
}

CommandResult RolloutCluster::start_rollout(const std::vector<std::string>& nodes,
                                            const std::vector<std::string>& extra) {
    const auto& r = repos();
    std::vector<std::string> args{"kernel", "upgrade"};
    args.insert(args.end(), nodes.begin(), nodes.end());
    args.insert(args.end(), {"--yes", "--repo-url", r.url("good"), "--repo-key", r.trusted_key,
                             "--repo-key-fingerprint", r.trusted_fpr});
    if (std::find(extra.begin(), extra.end(), "--cilium-version") == extra.end()) {
        args.insert(args.end(), {"--cilium-version", "1.18"});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return plugin(args);
}

void RolloutCluster::publish_report(const std::string& name, const std::string& cilium) {
    auto& n = node(name);
    std::vector<std::string> argv{(bin_dir() / "meshlink-agent").string(),
                                  "serve",
                                  "--kubeconfig",
                                  m_server->kubeconfig().string(),
                                  "--node-name",
                                  name,
                                  "--skip-bpf",
                                  "--cilium-version",
                                  cilium,
                                  "--listen-address",
                                  "127.0.0.1",
                                  "--port",
                                  "0",
                                  "--interval",
                                  "1h",
                                  "--log-target",
                                  "stderr",
                                  "--root",
                                  n.root->path().string(),
                                  "--proc",
                                  (n.root->path() / "proc").string(),
                                  "--sys",
                                  (n.root->path() / "sys").string()};
    auto serve = spawn(argv, environment_with({"NO_COLOR=1"}), n.dir / "serve.log");
    const bool published = wait_until(60, [&] {
        const json node = get_node(name);
        return node["metadata"].value("annotations", json::object()).contains("meshlink.io/node-report");
    });
    serve.kill_and_reap();
    BOOST_REQUIRE_MESSAGE(published, "no report on node " << name << ": " << slurp(n.dir / "serve.log"));
}

void RolloutCluster::start_agent(const std::string& name) {
    auto& n = node(name);
    std::vector<std::string> argv{(bin_dir() / "meshlink-agent").string(),
                                  "kernel",
                                  "run",
                                  "--kubeconfig",
                                  m_server->kubeconfig().string(),
                                  "--node-name",
                                  name,
                                  "--skip-bpf",
                                  "--poll-interval",
                                  "200ms",
                                  "--log-target",
                                  "stderr"};
    const auto host = n.root->host_flags();
    argv.insert(argv.end(), host.begin(), host.end());
    ++n.agent_runs;
    { std::ofstream(n.dir / "agent.log", std::ios::app) << "=== agent run " << n.agent_runs << "\n"; }
    n.agent = spawn(argv,
                    environment_with({"DBUS_SYSTEM_BUS_ADDRESS=" + n.bus_address(),
                                      "TMPDIR=" + (n.dir / "tmp").string(), "NO_COLOR=1"}),
                    n.dir / "agent.log");
}

void RolloutCluster::kill_agent(const std::string& name) {
    node(name).agent.kill_and_reap();
}

void RolloutCluster::set_ready(const std::string& name, bool ready) const {
    const std::string path = "/fakekube/v1/nodes/" + name + (ready ? "/ready" : "/not-ready");
    auto result = kubectl({"create", "--raw", path, "-f", "/dev/null"});
    BOOST_REQUIRE_MESSAGE(result.exit_code == 0, result.err);
}

void RolloutCluster::boot(const std::string& name, const std::string& release, bool ready) {
    auto& n = node(name);
    kill_agent(name);
    set_ready(name, false);
    ++n.boots;
    n.root->reboot_into(release, /*btf=*/true, fmt::format("22222222-3333-4444-8555-{:012}", n.boots));
    if (ready) {
        set_ready(name, true);
    }
    start_agent(name);
}

json RolloutCluster::get_node(const std::string& name) const {
    auto result = kubectl({"get", "node", name, "-o", "json"});
    BOOST_REQUIRE_MESSAGE(result.exit_code == 0, result.err);
    return json::parse(result.out);
}

json RolloutCluster::progress(const std::string& name) const {
    const json node = get_node(name);
    const auto& annotations = node["metadata"].value("annotations", json::object());
    const auto it = annotations.find("meshlink.io/kernel-upgrade");
    return it == annotations.end() ? json(nullptr) : json::parse(it->get<std::string>());
}

json RolloutCluster::wait_for_state(const std::string& name, const std::vector<std::string>& states,
                                    int seconds) {
    json last;
    const bool reached = wait_until(seconds, [&] {
        last = progress(name);
        return last.is_object() &&
               std::find(states.begin(), states.end(), last.value("state", "")) != states.end();
    });
    if (!reached) {
        std::string wanted;
        for (const auto& state : states) {
            wanted += state + " ";
        }
        BOOST_FAIL("node " << name << " did not reach " << wanted << "; progress " << last.dump()
                           << "\nagent log:\n"
                           << node(name).agent_logs());
    }
    return last;
}

void RolloutCluster::wait_for_reboot_call(const std::string& name, std::size_t count, int seconds) {
    auto& n = node(name);
    if (!wait_until(seconds, [&] { return n.reboot_calls().size() >= count; })) {
        BOOST_FAIL("node " << name << ": logind got " << n.reboot_calls().size() << " reboot call(s), not "
                           << count << "; progress " << progress(name).dump() << "\nagent log:\n"
                           << n.agent_logs());
    }
}

json RolloutCluster::writes(const std::string& query) const {
    auto result = kubectl({"get", "--raw", "/fakekube/v1/writes" + query});
    BOOST_REQUIRE_MESSAGE(result.exit_code == 0, result.err);
    return json::parse(result.out);
}

json RolloutCluster::stats() const {
    auto result = kubectl({"get", "--raw", "/fakekube/stats"});
    BOOST_REQUIRE_MESSAGE(result.exit_code == 0, result.err);
    return json::parse(result.out);
}

std::vector<std::vector<std::string>> lease_holder_history(const json& writes) {
    std::vector<std::vector<std::string>> history;
    for (const auto& entry : writes["writes"]) {
        if (entry["resource"] != "leases" || entry["name"] != "meshlink-kernel-rollout" ||
            entry["code"].get<int>() >= 300) {
            continue;
        }
        const std::string holders = entry["object"]["spec"].value("holderIdentity", "");
        std::vector<std::string> list;
        std::istringstream in(holders);
        for (std::string item; std::getline(in, item, ',');) {
            if (!item.empty()) {
                list.push_back(item);
            }
        }
        history.push_back(std::move(list));
    }
    return history;
}

} // namespace meshlink::test::kernel
