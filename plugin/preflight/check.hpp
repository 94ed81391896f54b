#pragma once
// The preflight check model: every reason a mesh would fail is a check with a stable ID, a scope, the
// cluster it is about, a status, what was found and what to do. The IDs are a contract (README
// "Preflight"); the JSON document built from them is `kubectl meshlink preflight -o json`.

#include "probe/checks.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::plugin::preflight {

enum class Scope { kubeconfig, cluster, mesh, node };
enum class Status { pass, warn, fail, unknown };

std::string_view to_string(Scope scope);   // "kubeconfig", "cluster", "mesh", "node"
std::string_view to_string(Status status); // "pass", "warn", "fail", "unknown"

// How bad a status is, for "the worst status" of several: pass < unknown < warn < fail.
int severity(Status status);
Status worst(Status a, Status b);

// Per-node counts of a node check aggregated over a cluster. pass+warn+fail+unknown+missing == total.
struct NodeCounts {
    int total = 0;
    int pass = 0;
    int warn = 0;
    int fail = 0;
    int unknown = 0;
    int missing = 0;                  // nodes without a (readable) report
    std::vector<std::string> failing; // names of the nodes whose status is fail
};

struct Check {
    std::string id; // "mesh.pod-cidr.overlap"
    Scope scope = Scope::cluster;
    // The context the check is about; mesh checks name both contexts of the pair ("a,b"); --local checks
    // name the machine.
    std::string cluster;
    Status status = Status::unknown;
    std::string message; // what was found
    std::string hint;    // what to do; empty when nothing is needed
    std::optional<NodeCounts> nodes;
};

// Stable IDs of the checks preflight itself makes. Node checks also carry the probe's IDs
// (node.kernel.version, node.kernel.config, ..., probe/checks.hpp).
namespace check_id {
inline constexpr std::string_view context_exists = "kubeconfig.context.exists";
inline constexpr std::string_view server_reachable_from_peers = "kubeconfig.server.reachable-from-peers";
inline constexpr std::string_view auth_portable = "kubeconfig.auth.portable";
inline constexpr std::string_view cert_expiry = "kubeconfig.cert.expiry";

inline constexpr std::string_view api_reachable = "cluster.api.reachable";
inline constexpr std::string_view rbac_sufficient = "cluster.rbac.sufficient";
inline constexpr std::string_view cilium_installed = "cluster.cilium.installed";
inline constexpr std::string_view cluster_name = "cluster.cilium.cluster-name";
inline constexpr std::string_view cluster_id = "cluster.cilium.cluster-id";
inline constexpr std::string_view identity_mode = "cluster.cilium.identity-mode";
inline constexpr std::string_view clustermesh_apiserver = "cluster.clustermesh.apiserver";

inline constexpr std::string_view name_unique = "mesh.cluster-name.unique";
inline constexpr std::string_view id_unique = "mesh.cluster-id.unique";
inline constexpr std::string_view pod_cidr_overlap = "mesh.pod-cidr.overlap";
inline constexpr std::string_view service_cidr_overlap = "mesh.service-cidr.overlap";
inline constexpr std::string_view datapath_match = "mesh.datapath.match";
inline constexpr std::string_view max_connected_match = "mesh.max-connected-clusters.match";
inline constexpr std::string_view native_routing_covers = "mesh.native-routing-cidr.covers";
inline constexpr std::string_view nodeport_distinct = "mesh.clustermesh-nodeport.distinct";
inline constexpr std::string_view ca_match = "mesh.ca.match";

inline constexpr std::string_view report_present = "node.report.present";
} // namespace check_id

// A probe verdict (probe/checks.hpp) as a node check about `cluster`: the one place the probe's checks become
// preflight's, for agents' reports and for --local alike. Same ID, status, message and hint; no counts.
Check from_probe(probe::Check verdict, std::string cluster);

// True when some check failed (exit code 1; join stops).
bool any_failed(const std::vector<Check>& checks);

inline constexpr int k_schema_version = 1;

// {"schemaVersion":1, "result":"pass|fail", "checks":[{"id","scope","cluster","status","message","hint",
// "nodes"?}]}; "hint" is null when there is none, "nodes" only on aggregated node checks.
nlohmann::ordered_json to_json(const std::vector<Check>& checks);

} // namespace meshlink::plugin::preflight
