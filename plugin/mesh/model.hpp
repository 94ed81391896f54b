#pragma once
// What join knows about each cluster (read by resolve.cpp), the options it runs with, and the session the
// steps share: progress on stderr, the dry-run plan, each cluster's journal.

#include "kube/rest_config.hpp"
#include "plugin/mesh/api.hpp"
#include "plugin/mesh/journal.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

enum class Backend { automatic, native, cilium_cli, helm };
std::string_view to_string(Backend backend);

// How a cluster's Cilium is driven: written natively, or through the tool that owns it.
enum class Driver { native, cilium_cli, helm };
std::string_view to_string(Driver driver);

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
};

// One cluster as join sees it.
struct Cluster {
    // Access. `context` is the kubeconfig context used to reach it; `tool_context` the one given to
    // kubectl/cilium/helm (the same, unless the cluster came from --peer-kubeconfig).
    std::string context;
    std::string tool_context;
    std::optional<std::string>
        kubeconfig_file; // --kubeconfig / --peer-kubeconfig for the tools, else $KUBECONFIG
    kube::RestConfig rest;
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

struct JoinOptions {
    Backend backend = Backend::automatic;
    std::string service_type = "NodePort"; // NodePort | LoadBalancer (clustermesh-apiserver, when enabled)
    bool dry_run = false;
    bool yes = false;         // answer every confirmation
    bool interactive = false; // stdin and stderr are a terminal: ask
    bool skip_preflight = false;
    bool keep_kubeconfig = false; // leave
    std::chrono::milliseconds timeout = std::chrono::minutes(10);
    std::chrono::milliseconds poll = std::chrono::seconds(2);
    std::string ns = "kube-system";
    std::string kubectl = "kubectl"; // $KUBECTL_PATH, else kubectl on PATH
    // Where join merges the kubeconfig entries, and the loading rules of the user's kubeconfig.
    std::optional<std::string> kubeconfig_explicit;
};

// One thing a dry run would do.
struct PlannedAction {
    std::string cluster;
    std::string step;
    std::string summary;              // "create Service kube-system/meshlink-apiserver"
    std::optional<json> object;       // the object or patch, Secret data redacted
    std::vector<std::string> command; // a command, secret arguments redacted
};

class Session {
public:
    Session(JoinOptions options, MeshHost& host, std::function<void(const std::string&)> progress,
            std::function<bool(const std::string&)> confirm)
        : m_options(std::move(options)), m_host(&host), m_progress(std::move(progress)),
          m_confirm(std::move(confirm)) {}

    [[nodiscard]] const JoinOptions& options() const { return m_options; }
    [[nodiscard]] MeshHost& host() const { return *m_host; }
    [[nodiscard]] bool dry_run() const { return m_options.dry_run; }

    // One progress line on stderr ("join: ..."), serialised across threads.
    void say(const std::string& line);
    // Asks before something disruptive: --yes answers yes; a terminal asks; otherwise no.
    bool confirm(const std::string& question);

    void plan(PlannedAction action);
    [[nodiscard]] std::vector<PlannedAction> planned() const;

private:
    JoinOptions m_options;
    MeshHost* m_host;
    std::function<void(const std::string&)> m_progress;
    std::function<bool(const std::string&)> m_confirm;
    mutable std::mutex m_mutex;
    std::vector<PlannedAction> m_planned;
};

// Runs `step` until it succeeds, fails for good, or k_step_attempts transient failures in a row; each
// attempt is a full check -> apply -> verify, so repeating it is safe.
util::Result<void> with_retries(Session& session, const std::string& what,
                                const std::function<util::Result<void>()>& step);

// Runs fn(i) for i in [0, n) on n threads and returns the first error (all run to completion).
util::Result<void> for_each_parallel(std::size_t n, const std::function<util::Result<void>(std::size_t)>& fn);

// A JSON copy of `object` with Secret data replaced by "<redacted>" (keys kept), for plans and logs.
json redact_object(const json& object);

} // namespace meshlink::plugin::mesh
