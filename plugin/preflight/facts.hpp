#pragma once
// What preflight reads from one cluster, before judging anything: gather() makes every read through a
// PreflightApi and records each answer or the reason there is none, so the checks (checks.hpp) are pure
// functions of these facts.

#include "plugin/defaults.hpp"
#include "plugin/kubeconfig/list.hpp"
#include "plugin/preflight/api.hpp"
#include "plugin/preflight/cidr.hpp"
#include "plugin/preflight/node_reports.hpp"
#include "probe/requirements.hpp"
#include "util/error.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::preflight {

// A read's outcome: nullopt when it was not made (the API server was unreachable, or it was not needed).
template <typename T>
using Reading = std::optional<util::Result<T>>;

using CiliumConfig = std::map<std::string, std::string, std::less<>>;

struct CiliumDaemonSet {
    int desired = 0; // status.desiredNumberScheduled
    int ready = 0;   // status.numberReady
    std::string image;
    std::optional<probe::CiliumVersion> version; // from the image tag
    std::string version_text;                    // the tag without "v": "1.16.12"; "" when none
};

struct ClusterMeshService {
    std::string type;                 // NodePort, LoadBalancer, ClusterIP
    int port = 0;                     // spec.ports[0].port
    std::optional<int> node_port;     // spec.ports[0].nodePort
    std::vector<std::string> ingress; // status.loadBalancer.ingress ip or hostname
};

struct CaCertificate {
    std::string subject;
    std::string subject_key_id; // lower-case hex; "" when the certificate has none
    std::string pem;            // the certificate only (public), for a byte comparison without SKIDs
};

struct Cidrs {
    std::vector<Prefix> prefixes;
    std::string source;             // where they come from, for messages
    bool address_only = false;      // only one address of the range is known (the kubernetes Service)
    std::vector<std::string> notes; // fallbacks taken and why
};

struct AccessReport {
    int asked = 0;
    std::vector<defaults::AccessRule> denied;
};

struct ClusterFacts {
    std::string context;
    std::optional<kubeconfig::ContextSummary> kubeconfig; // nullopt: the context does not exist
    std::string connect_error; // why no client could be built for the context ("" when one was)

    Reading<kube::ServerVersion> version;
    Reading<AccessReport> access;
    Reading<std::optional<CiliumConfig>> config; // nullopt inside: no cilium-config
    Reading<std::optional<CiliumDaemonSet>> cilium;
    Reading<std::optional<ClusterMeshService>> clustermesh;
    Reading<std::optional<CaCertificate>> ca;
    Reading<Cidrs> pod_cidrs;
    Reading<Cidrs> service_cidrs;
    Reading<NodeReports> nodes;

    probe::CiliumVersion node_cilium; // what node reports were judged for
    std::string node_cilium_source;   // "the cluster's Cilium 1.16.12", "--cilium-version", ...

    // True when the API server answered GET /version.
    [[nodiscard]] bool reachable() const { return version && version->has_value(); }
    // cilium-config when it was read and exists.
    [[nodiscard]] const CiliumConfig* cilium_config() const;
    // A cilium-config value; nullopt when the key (or the ConfigMap) is absent.
    [[nodiscard]] std::optional<std::string> config_value(std::string_view key) const;
};

// Cilium's datapath as cilium-config sets it: routing-mode/tunnel-protocol (1.14+) or the legacy `tunnel`.
struct Datapath {
    std::string routing_mode;    // "tunnel" or "native"
    std::string tunnel_protocol; // "vxlan" or "geneve"; "" in native mode
    std::string source;          // the keys it came from
};
Datapath datapath(const CiliumConfig& config);

// kube-proxy-replacement "true" (or the pre-1.14 "strict").
bool kube_proxy_replacement(const CiliumConfig& config);

struct GatherOptions {
    std::optional<probe::CiliumVersion> cilium_override; // --cilium-version
    bool read_node_reports = true; // false with --local: the node checks come from this machine
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

// Reads everything preflight needs from one cluster. Never writes. Stops after GET /version fails (every
// other read would fail the same way, each after its own timeout).
ClusterFacts gather(PreflightApi& api, std::string context, const GatherOptions& options);

// The Cilium version node reports are judged for: --cilium-version, else the cluster's, else the newest
// the requirements table knows. Sets facts.node_cilium and node_cilium_source.
void choose_node_cilium(ClusterFacts& facts, const std::optional<probe::CiliumVersion>& override_version);

} // namespace meshlink::plugin::preflight
