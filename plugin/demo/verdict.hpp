#pragma once
// `demo verify`'s judgement, from facts alone (no I/O, unit-tested): read-only checks on what every cluster
// holds, and per direction (the Job in one cluster) whether every other cluster answered through the global
// Service and on each of its rebel-base pod IPs; when not, the likely cause from the evidence and the ports
// to open.

#include "plugin/demo/attempts.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace meshlink::plugin::demo {

using nlohmann::json;

// What one cluster's Cilium agents say (kubectl exec); `error` when they could not be asked.
struct AgentView {
    int total = 0;
    std::map<std::string, int> ready; // peer -> agents reporting it ready
    // peer -> agents listing at least one of its rebel-base Pods as a backend of the Service; nullopt when
    // their service lists could not be read.
    std::optional<std::map<std::string, int>> backends;
    std::string error;
};

struct ClusterFacts {
    std::string name; // Cilium cluster-name
    std::string context;
    std::string cilium_version;                       // "1.16.12"
    std::map<std::string, std::string> cilium_config; // cilium-config data
    std::optional<json> ns;                           // the demo namespace; nullopt = absent
    std::optional<json> service;                      // Service rebel-base
    std::optional<json> server;                       // Deployment rebel-base
    std::vector<std::string> pod_ips;                 // Ready rebel-base Pods
    std::optional<AgentView> agents;
};

struct Finding {
    std::string id;      // demo.namespace.global, ...
    std::string cluster; // Cilium cluster-name
    std::string status;  // pass | fail | unknown
    std::string message;
};

// Where the demo is missing (namespace, Service or Deployment rebel-base), or nullopt when it is everywhere.
std::optional<std::string> missing_demo(const std::vector<ClusterFacts>& clusters, const std::string& ns);

// The read-only checks for every cluster: demo.namespace.global, demo.service.global, demo.service.shared,
// demo.service.affinity, demo.service.ports, demo.server.ready, demo.mesh.connected, demo.backends.known.
std::vector<Finding> check_clusters(const std::vector<ClusterFacts>& clusters);

// Whether a Service's annotations make it global / shared, as Cilium reads them.
bool service_global(const json& service);
bool service_shared(const json& service);

struct PodResult {
    std::string ip;
    std::string owner; // the cluster it belongs to
    int attempts = 0;
    std::map<std::string, int> answered_by; // cluster -> replies naming it
    std::map<std::string, int> errors;      // outcome -> count
    bool ok = false;                        // answered, and only by its owner
};

struct Cause {
    std::string
        kind; // job | incomplete | pod-cidr-overlap | control-plane | datapath | dns | refused | unknown
    std::string message;
    std::string hint;
};

struct DirectionResult {
    std::string from;
    std::string job;
    bool ran = false;      // the Job ran and its log was read
    bool complete = false; // ... to its last line
    int attempts = 0;
    std::map<std::string, int> replies; // Service replies by cluster ("?" = naming no cluster)
    std::map<std::string, int> errors;  // Service attempts without a reply, by outcome
    std::vector<PodResult> pods;
    bool pass = false;
    std::vector<Cause> causes;
};

struct DirectionInput {
    std::string from;
    std::string job;
    std::optional<ClientRun> run; // nullopt: the Job did not run, `failure` says why
    std::string failure;
};

DirectionResult judge(const DirectionInput& input, const std::vector<ClusterFacts>& clusters,
                      const std::vector<Finding>& findings);

// The ports and paths a datapath failure between `a` and `b` points at, from their cilium-config.
std::string datapath_hint(const ClusterFacts& a, const ClusterFacts& b);

json to_json(const Finding& finding);
json to_json(const DirectionResult& result);

} // namespace meshlink::plugin::demo
