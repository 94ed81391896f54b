#pragma once
// What the Cilium agents say about their peers (`cilium-dbg status -o json`, read through kubectl exec), for
// join's wait step and status.

#include "plugin/mesh/model.hpp"
#include "util/error.hpp"

#include <map>
#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

struct RemoteStatus {
    bool ready = false;
    bool connected = false;
    std::string status;
    std::string last_failure;
};

struct AgentStatus {
    std::string pod;
    std::string node;
    bool answered = false;
    std::string error;                           // why it did not answer
    std::map<std::string, RemoteStatus> remotes; // .cluster-mesh.clusters[] by name
};

// kubectl [--kubeconfig F] --context C: the same kubeconfig and context join uses for `c`.
std::vector<std::string> kubectl_base(const Session& session, const Cluster& c);

// One command's answer in one agent pod.
struct AgentExec {
    std::string pod;
    std::string node;
    bool answered = false; // the command ran and exited 0
    std::string output;    // its stdout (the agent's data: validate before use)
    std::string error;     // why it did not answer
};

// Runs `command` in the cilium-agent container of every agent pod of `c` (kubectl exec), concurrently.
util::Result<std::vector<AgentExec>> exec_in_agents(Session& session, Cluster& c,
                                                    const std::vector<std::string>& command);

// Every agent pod's view, asked concurrently.
util::Result<std::vector<AgentStatus>> agent_statuses(Session& session, Cluster& c);

// Why `c`'s agents do not reach `peer`: identical NodePorts, certificate SAN, CA mismatch, endpoint
// unreachable (each checked), else what the agents report. Lines starting "\n  - ".
std::string diagnose(Session& session, const Cluster& c, const Cluster& peer,
                     const std::vector<AgentStatus>& agents, const std::vector<Cluster*>& clusters);

} // namespace meshlink::plugin::mesh
