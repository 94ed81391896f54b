#pragma once
// `kubectl meshlink verify [PEER...]`: the mesh without a demo. For each cluster and each peer, from each
// node that dials the peer (every node, on the host network, without KVStoreMesh; the clustermesh-apiserver's
// nodes, on the pod network, with it), a TCP connection to the peer's clustermesh endpoint (a node's
// InternalIP and the NodePort, or the load balancer) and to the API server endpoint join exposed
// (meshlink-apiserver), reported per node; a pair whose clustermesh NodePorts are equal while kube-proxy
// replacement is on is never called a pass (the local datapath answers the remote NodePort). Plus every
// agent's `cilium-dbg status -o json` clustermesh section.

#include "plugin/demo/demo.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::plugin::verify {

// One line of tcp_probe.sh.
struct ProbeAttempt {
    std::string target;  // NAME: "<peer>/clustermesh" or "<peer>/apiserver"
    std::string address; // HOST:PORT
    int curl_exit = 0;
    bool connected = false; // the TCP connection was established (tcp_probe.sh says how that is read)
    std::string error;
};

struct ProbeRun {
    std::vector<ProbeAttempt> attempts;
    bool complete = false;
    int noise = 0;
};

// Parses what tcp_probe.sh printed; anything that is not its format is counted as noise.
ProbeRun parse_probe_log(std::string_view log);

// "open", or why not: "refused", "timeout", "dns", "unreachable", "other (curl N)".
std::string probe_outcome(const ProbeAttempt& attempt);

// What one cluster exposes to its peers, as its peers see it.
struct Endpoints {
    std::string cluster;
    std::optional<std::string> clustermesh; // HOST:PORT
    std::optional<int> node_port;           // the clustermesh-apiserver's NodePort, when it is a NodePort
    std::optional<std::string> apiserver;   // HOST:PORT of meshlink-apiserver
    bool kube_proxy_replacement = false;
};

// Why a pair's probe result cannot be trusted: both clusters expose the clustermesh-apiserver on the same
// NodePort and `from` replaces kube-proxy, so `from`'s own datapath answers the peer's NodePort.
std::optional<std::string> same_node_port(const Endpoints& from, const Endpoints& peer);

struct MeshVerifySettings {
    std::string probe_image;
    std::vector<std::string> pull_secrets;
    bool keep = false;
    util::Terminal terminal;
};

demo::VerbOutcome run_mesh_verify(mesh::Session& session, std::vector<demo::DemoCluster>& clusters,
                                  const MeshVerifySettings& settings);

} // namespace meshlink::plugin::verify
