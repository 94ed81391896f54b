#pragma once
// What join, leave and status know about each cluster: how it is reached, what step 1 (step_resolve.hpp)
// read from it, and what the steps decided for it.

#include "kube/kubeconfig.hpp"
#include "plugin/mesh/api.hpp"
#include "plugin/mesh/journal.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

// --backend: how Cilium is changed.
enum class Backend { automatic, native, cilium_cli, helm };
std::string_view to_string(Backend backend); // the flag's value: "auto", "native", "cilium-cli", "helm"
std::optional<Backend> parse_backend(std::string_view text);

// How a cluster's Cilium is driven: written natively, or through the tool that owns it.
enum class Driver { native, cilium_cli, helm };
std::string_view to_string(Driver driver);

// The kubeconfig entries (a context, its cluster and its user) that reach one cluster, as written in the file
// that defines the context: step 3 copies them under the cluster's Cilium name.
struct KubeconfigSource {
    std::string context;
    kube::Named<kube::Cluster> cluster;
    kube::Named<kube::AuthInfo> user;
    std::filesystem::path file; // the file that defines the context
};

struct HelmRelease {
    std::string name;
    std::string ns;
    int revision = 0;
    std::string chart_version;
    json values = json::object(); // the user-supplied values of the deployed revision (release.config)
};

struct NodeAddress {
    std::string name;
    std::string internal_ip;
    bool control_plane = false;
    bool ready = false;
};

struct Apiserver {
    bool deployed = false; // Deployment clustermesh-apiserver exists
    bool ready = false;
    bool kvstoremesh = false; // it has a container named kvstoremesh (KVStoreMesh on)
    bool helm_owned = false;
    std::string service_type; // "" = no Service
    std::optional<int> node_port;
    std::vector<std::string> ingress;
    bool service_helm_owned = false;
};

struct Secretish {
    bool exists = false;
    bool helm_owned = false;
    std::map<std::string, std::string> data; // decoded; secret material, never printed

    [[nodiscard]] std::string value(std::string_view key) const; // data[key], "" when absent
};

// One cluster as join sees it.
struct Cluster {
    // Access. `context` is the kubeconfig context used to reach it; `tool_context` the one given to
    // kubectl/cilium/helm (the same, unless the cluster came from --peer-kubeconfig).
    std::string context;
    std::string tool_context;
    std::optional<std::string>
        kubeconfig_file;     // --kubeconfig / --peer-kubeconfig for the tools, else $KUBECONFIG
    std::string server;      // the API server URL the kubeconfig names
    KubeconfigSource source; // the kubeconfig entries that reach it (step 3 copies them)
    MeshApi* api = nullptr;
    std::unique_ptr<Journal> journal;

    // Read by resolve.
    std::string name; // cilium-config cluster-name
    std::string id;
    std::string cilium_version;
    std::optional<HelmRelease> helm;
    bool daemonset_helm_owned = false;
    Apiserver apiserver;
    Secretish ca;          // cilium-ca
    Secretish remote_cert; // clustermesh-apiserver-remote-cert
    Secretish server_cert; // clustermesh-apiserver-server-cert
    Secretish clustermesh; // cilium-clustermesh
    Secretish kvstoremesh; // cilium-kvstoremesh
    std::vector<NodeAddress> nodes;

    // Decided by the steps.
    Driver driver = Driver::native;
    std::string exposed_server;  // https://<ip>:<nodePort> of meshlink-apiserver
    std::string tls_server_name; // set when the IP is not among the certificate's SANs
    std::string ca_note;         // what the CA step did, for the summary

    // The IPs peers resolve <name>.mesh.cilium.io to: Ready control-plane nodes' InternalIPs, else the first
    // Ready node's; never ExternalIPs (docs/cilium-clustermesh.md, "Which node address peers dial").
    [[nodiscard]] std::vector<std::string> mesh_ips() const;
    // The port peers reach the clustermesh-apiserver on: its NodePort (or 2379 behind a LoadBalancer).
    [[nodiscard]] std::optional<int> mesh_port() const;
    [[nodiscard]] std::string display() const; // "cluster1 (context kind-a)"
};

// The clusters of the mesh other than `c`, and their Cilium names: whom a change in `c` serves.
std::vector<Cluster*> others(const std::vector<Cluster*>& clusters, const Cluster* c);
std::vector<std::string> other_names(const std::vector<Cluster*>& clusters, const Cluster* c);

} // namespace meshlink::plugin::mesh
