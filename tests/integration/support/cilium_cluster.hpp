#pragma once
// Seeds for fakekube that look like a real cluster running Cilium 1.16, installed by Helm: what preflight,
// join and the benchmarks read from a real one. Every mesh-relevant value is a parameter, so a test states
// only what it varies:
//
//   CiliumClusterSpec a = healthy_cluster(1), b = healthy_cluster(2);
//   b.pod_cidr = a.pod_cidr;                         // an overlapping pair
//   auto server = FakekubeProcess::start(fakekube_options(b, dir)).value();
//
// What the seed holds (kube-system unless said otherwise):
// - ConfigMap cilium-config with the keys Cilium's Helm chart 1.16 renders for its defaults, the
// mesh-relevant
//   ones from the spec (cluster-name, cluster-id, max-connected-clusters, identity-allocation-mode, ipam,
//   cluster-pool-ipv4-cidr, routing-mode, tunnel-protocol, ipv4-native-routing-cidr, kube-proxy-replacement,
//   enable-ipv4/6, ...);
// - DaemonSet cilium (quay.io/cilium/cilium:v<version>@sha256:..., all agents ready), Deployment
//   cilium-operator, one agent Pod per node (optional: the benchmark leaves them out);
// - a kube-apiserver static Pod per control-plane node (component=kube-apiserver, tier=control-plane) with
//   kubeadm's flags, --service-cluster-ip-range among them;
// - Nodes (control plane and workers, InternalIP, kind-style names, podCIDRs with ipam=kubernetes) carrying
//   the agent's report annotation, made by running the real probe library over a fixture root of
//   tests/fixtures/nodes/ (e.g. centos7 for a 3.10 kernel), with observedAt now or in the past;
// - optionally the clustermesh-apiserver Deployment and NodePort Service, the cilium-ca Secret (a CA made
//   with kube/pki, shareable between clusters), Helm's release Secret sh.helm.release.v1.cilium.v1, and a
//   read-only user with RBAC switched on.

#include "kube/pki.hpp"
#include "tests/integration/support/fakekube_process.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::test {

struct CiliumNodeSpec {
    std::string name;
    std::string fixture = "ubuntu22.04"; // tests/fixtures/nodes/<fixture>
    bool control_plane = false;
    bool report = true; // the agent published its report
    // What the agent's live BPF probes answered: true = a kernel that supports every program type, map type
    // and helper (a modern node); false = the probes did not run (their checks are unknown).
    bool bpf_supported = true;
    std::chrono::seconds report_age{30}; // observedAt = now - report_age
    int interval_seconds = 600;          // the agent's --interval, published as intervalSeconds
    std::string internal_ip;             // "" = <node_network>.<10 + index>
    std::string external_ip;             // "" = none; else also listed as ExternalIP (join must not use it)
};

struct CiliumClusterSpec {
    std::string context = "cluster1";       // fakekube --name: the kubeconfig context
    std::string cilium_version = "1.16.12"; // the image tag without "v"
    // cilium-config. An empty cluster_name/cluster_id renders Helm's defaults ("default", "0").
    std::string cluster_name = "cluster1";
    std::string cluster_id = "1";
    std::string max_connected_clusters = "255";
    std::string identity_allocation_mode = "crd";
    std::string ipam = "cluster-pool";
    std::string pod_cidr =
        "10.1.0.0/16";       // cluster-pool-ipv4-cidr, or the nodes' podCIDR pool (ipam=kubernetes)
    std::string pod_cidr_v6; // cluster-pool-ipv6-cidr when enable_ipv6
    int pod_mask_size = 24;
    std::string routing_mode = "tunnel"; // tunnel | native
    std::string tunnel_protocol = "vxlan";
    std::string native_routing_cidr;              // ipv4-native-routing-cidr (native mode)
    std::string kube_proxy_replacement = "false"; // "true" | "false"
    bool enable_ipv4 = true;
    bool enable_ipv6 = false;
    // The cluster.
    std::string service_cidr = "10.96.0.0/16"; // kube-apiserver --service-cluster-ip-range and fakekube's
    std::string kubernetes_version = "v1.30.4";
    std::string node_network = "192.168.1";   // InternalIPs: <node_network>.<10+i>
    std::vector<CiliumNodeSpec> nodes;        // empty = a control plane and two workers
    bool agent_pods = true;                   // one cilium agent Pod per node
    bool helm_release = true;                 // Secret sh.helm.release.v1.cilium.v1
    std::optional<int> clustermesh_node_port; // clustermesh-apiserver Deployment + NodePort Service
    std::optional<kube::pki::KeyPair> ca;     // Secret cilium-ca
    // RBAC on, with this user bound to a read-only ClusterRole (get/list/watch on everything); the test
    // gives fakekube a token for it (see readonly_token_line).
    std::optional<std::string> readonly_user;
    // Helm's labels and meta.helm.sh annotations on the Cilium objects. false = an install no Helm release
    // owns (e.g. rendered manifests applied with kubectl): set helm_release = false too.
    bool helm_owned_objects = true;
    // The clustermesh-apiserver runs KVStoreMesh (a container named kvstoremesh; the chart's default
    // from 1.16).
    bool kvstoremesh = false;
    // With clustermesh_node_port and ca: the certificate Secrets certgen makes (docs/cilium-clustermesh.md):
    // clustermesh-apiserver-{server,admin,remote}-cert, plus -local-cert with KVStoreMesh, signed by `ca`.
    bool clustermesh_certs = true;
    // What `cilium-dbg status -o json` prints in every agent pod (fakekube's exec-stdout annotation); nullopt
    // = no annotation.
    std::optional<nlohmann::json> agent_status;
};

// A `cilium-dbg status -o json` document whose cluster-mesh section lists `peers`, each ready (or not, with
// `failure` as last-failure).
nlohmann::json agent_status_document(const std::vector<std::string>& peers, bool ready = true,
                                     const std::string& failure = "");

// The certificate Secrets of a clustermesh-apiserver whose CA is `ca` (see clustermesh_certs).
std::vector<nlohmann::json> clustermesh_cert_secrets(const std::string& cluster_name,
                                                     const kube::pki::KeyPair& ca, bool kvstoremesh,
                                                     bool helm_owned = true);

// A healthy cluster number `index` (1, 2, ...): context/cluster-name "cluster<index>", cluster-id index,
// pods 10.<index>.0.0/16, services 10.<95+index>.0.0/16, nodes on 192.168.<index>.0/24, one control plane
// and two workers on Ubuntu 22.04 / Rocky 9 fixtures, all reporting, a clustermesh-apiserver on NodePort
// 32378+index and a CA of its own.
CiliumClusterSpec healthy_cluster(int index);

// A CA like the one Cilium's certgen makes ("Cilium CA").
kube::pki::KeyPair make_cilium_ca();

// The seed: one v1 List of every object above. `now` dates the node reports.
nlohmann::json
cilium_cluster_seed(const CiliumClusterSpec& spec,
                    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// Writes the seed to `dir`/<context>.seed.json and returns the fakekube options to start it with (name,
// seed, --service-cidr, and the token file when there is a read-only user).
FakekubeOptions
fakekube_options(const CiliumClusterSpec& spec, const TempDirectory& dir,
                 std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// The token fakekube accepts for spec.readonly_user: "<user>-token".
std::string readonly_token(const CiliumClusterSpec& spec);

// A kubeconfig with one context named spec.context for `server`, authenticating as spec.readonly_user with
// its token (instead of the admin certificate fakekube writes).
std::filesystem::path write_readonly_kubeconfig(const CiliumClusterSpec& spec, const FakekubeProcess& server,
                                                const TempDirectory& dir);

// fakekube's request counters (GET /fakekube/stats):
// {"GET":n,"LIST":n,"WATCH":n,"POST":n,"PUT":n,"PATCH":n,"DELETE":n}.
util::Result<nlohmann::json> fakekube_stats(const FakekubeProcess& server);

// The agent report annotation for a node on `fixture` (the probe's JSON document, compact, plus observedAt
// and intervalSeconds), judged for `cilium` (what the agent's --cilium-version said).
std::string node_report_annotation(const CiliumNodeSpec& node, const std::string& cilium,
                                   std::chrono::system_clock::time_point now);

} // namespace meshlink::test
