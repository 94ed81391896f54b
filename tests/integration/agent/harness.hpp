#pragma once
// Shared by the agent integration tests: a running `meshlink-agent serve` (its stderr collected, its HTTP
// port read from its first log line), a plain HTTP GET for its endpoints, fakekube helpers (stats, seeds,
// waiting), and a YAML-to-JSON reading of kubectl's output.

#include "kube/client.hpp"
#include "tests/integration/support/fakekube_process.hpp"
#include "util/subprocess.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace meshlink::test {

using json = nlohmann::json;

// A running meshlink-agent. The destructor kills and reaps it if it is still running.
class AgentProcess {
public:
    // Starts bin_dir()/meshlink-agent with `args` and waits (up to a minute) for the line that names its
    // HTTP address. Errors carry what it printed. A `launcher` (a program and its arguments, e.g. setpriv
    // with a capability set) runs the agent in its place, which then execs it.
    static util::Result<AgentProcess> start(const std::vector<std::string>& args,
                                            const std::vector<std::string>& launcher = {});

    AgentProcess(AgentProcess&&) noexcept;
    AgentProcess& operator=(AgentProcess&&) = delete;
    ~AgentProcess();

    [[nodiscard]] int port() const { return m_state->port; }
    [[nodiscard]] pid_t pid() const { return m_state->child.pid(); }
    void signal(int signo) const;
    // Waits for the exit; the raw wait status, or nullopt when it is still running at the deadline.
    std::optional<int> wait_exit(std::chrono::seconds timeout);
    [[nodiscard]] std::string log() const;

private:
    struct State {
        util::ChildProcess child;
        util::Fd stderr_pipe;
        std::thread drainer;
        mutable std::mutex mutex;
        std::string text;
        int port = 0;
        ~State();
    };
    explicit AgentProcess(std::unique_ptr<State> state) : m_state(std::move(state)) {}
    std::unique_ptr<State> m_state;
};

// `meshlink-agent serve` arguments for Node `node` on the centos7 fixture root (kernel 3.10, no live BPF
// probes), against the API server of `kubeconfig`, HTTP on a free loopback port, logs on stderr.
std::vector<std::string> fixture_serve_args(const std::filesystem::path& kubeconfig, const std::string& node);

struct HttpAnswer {
    int status = 0;
    std::string content_type;
    std::string body;
};

// GET http://127.0.0.1:port/path with a fresh connection.
util::Result<HttpAnswer> http_get(int port, const std::string& path);

// Polls `condition` every 100 ms until it holds or `timeout` passes; returns whether it held.
bool wait_for(const std::function<bool()>& condition,
              std::chrono::seconds timeout = std::chrono::seconds(60));

// fakekube's request counters: {"GET":n,"LIST":n,"POST":n,"PUT":n,"PATCH":n,"DELETE":n,...}.
json fakekube_stats(kube::Client& client);
void reset_fakekube_stats(kube::Client& client);
// POST + PUT + PATCH + DELETE.
int write_count(const json& stats);

// A kubectl YAML stream read as JSON objects, scalars typed as kubectl types them.
std::vector<json> yaml_stream_to_json(const std::string& text);

// kind/namespace/name -> object.
std::map<std::string, json> by_identity(const std::vector<json>& objects);

// A copy of `server`'s admin kubeconfig whose current context authenticates with the bearer `token` instead;
// `label` names the file and the kubeconfig user ("" = the token itself, for short static tokens).
util::Result<std::filesystem::path> token_kubeconfig(const FakekubeProcess& server, const TempDirectory& dir,
                                                     const std::string& token, const std::string& label = "");

// What the DaemonSet does on Node `node`, by hand (fakekube runs no DaemonSet Pods): the agent's Pod
// `meshlink-agent-<node>` in meshlink-system with the meshlink-agent ServiceAccount, bound to `node`; then
// the ServiceAccount token the kubelet would project into it, from real `kubectl create token
// --bound-object-kind Pod`. The ServiceAccount must exist (agent install). Errors carry kubectl's output.
util::Result<std::string> agent_pod_token(const FakekubeProcess& server, const TempDirectory& dir,
                                          const std::string& node);

// The metrics text as (name{labels} -> value), label sets written sorted and without escapes.
std::map<std::string, double> parse_metrics(const std::string& text);

} // namespace meshlink::test
