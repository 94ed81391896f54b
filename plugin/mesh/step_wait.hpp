#pragma once
// Step 7 of join, wait: until every Cilium agent of every cluster reports every peer ready (`cilium-dbg
// status -o json` in each agent pod, through kubectl exec), or, at --timeout, a diagnosis that names the
// cause (identical NodePorts, certificate SAN, CA mismatch, endpoint unreachable), since "context deadline
// exceeded" alone helps nobody. What the agents say is shared with status.

#include "plugin/mesh/session.hpp"
#include "util/error.hpp"

#include <map>
#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

// Waits for the agents (a dry run plans the exec only); fails with ErrorKind::timeout and the diagnosis at
// the timeout. Marks every pair joined in the journals once connected.
util::Result<void> step_wait(Session& session, std::vector<Cluster*>& clusters);

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

// How many of `agents` report `peer` ready.
int connected_agents(const std::vector<AgentStatus>& agents, const std::string& peer);

// kubectl [--kubeconfig F] --context C: the same kubeconfig and context join uses for `c`.
std::vector<std::string> kubectl_base(const Session& session, const Cluster& c);

// Every agent pod's view, asked concurrently.
util::Result<std::vector<AgentStatus>> agent_statuses(Session& session, Cluster& c);

// Why `c`'s agents do not reach `peer`: identical NodePorts, certificate SAN, CA mismatch, endpoint
// unreachable (each checked), else what the agents report. Lines starting "\n  - ".
std::string diagnose(Session& session, const Cluster& c, const Cluster& peer,
                     const std::vector<AgentStatus>& agents, const std::vector<Cluster*>& clusters);

} // namespace meshlink::plugin::mesh
