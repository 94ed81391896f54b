#pragma once
// A mesh of fakekube clusters seeded as Cilium 1.16 installs (tests/integration/support/cilium_cluster.hpp),
// one kubeconfig holding all their contexts in a private $HOME, and the real `kubectl meshlink` found through
// kubectl's plugin discovery.

#include "tests/integration/support/cilium_cluster.hpp"
#include "tests/integration/support/fakekube_process.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace meshlink::test {

using nlohmann::json;

// Cluster `index` (1..) as join sees it: context "kind-cluster<index>", Cilium cluster-name "cluster<index>",
// nodes on loopback InternalIPs 127.0.<index>.10-12 (fakekube serves an exposed API server there) plus an
// ExternalIP join must never use, agents that report `peers` connected, no Helm release or Helm marks
// (native), a clustermesh- apiserver on NodePort 32378+index with certificates from its own CA.
CiliumClusterSpec mesh_cluster(int index, int clusters);

struct MeshOptions {
    std::string faults; // fakekube --faults for every cluster
    int latency_ms = 0; // fakekube --latency-ms
    // A bearer token every cluster also accepts, for an admin (group system:masters); "" = none.
    std::string admin_token;
};

class Mesh {
public:
    explicit Mesh(std::vector<CiliumClusterSpec> specs, const MeshOptions& options = {});

    [[nodiscard]] std::size_t size() const { return m_servers.size(); }
    [[nodiscard]] const CiliumClusterSpec& spec(std::size_t i) const { return m_specs[i]; }
    [[nodiscard]] const FakekubeProcess& server(std::size_t i) const { return m_servers[i]; }
    [[nodiscard]] const TempDirectory& dir() const { return m_dir; }
    [[nodiscard]] std::filesystem::path kubeconfig() const { return m_home / ".kube/config"; }
    [[nodiscard]] std::filesystem::path standin_log() const { return m_dir.path() / "standin.log"; }

    // The environment for kubectl and kubectl-meshlink: HOME, KUBECONFIG, PATH with the build's bin dir (and
    // the stand-in cilium when `standin`).
    [[nodiscard]] std::vector<std::string> env(bool standin = false,
                                               const std::vector<std::string>& extra = {}) const;

    // `kubectl meshlink <args...>` (with --context of cluster `local`, unless args name one).
    CommandResult meshlink(const std::vector<std::string>& args, bool standin = false,
                           const std::vector<std::string>& extra_env = {}) const;
    // Real kubectl with the mesh's kubeconfig.
    CommandResult kubectl(const std::vector<std::string>& args) const;

    // One object (null when absent), through the admin credentials.
    [[nodiscard]] json get(std::size_t i, const std::string& path) const;
    // Every object of the kinds join touches, without server-managed fields: for before/after comparisons.
    [[nodiscard]] json dump(std::size_t i) const;
    // POST+PUT+PATCH+DELETE counted by fakekube so far.
    [[nodiscard]] long writes(std::size_t i) const;
    [[nodiscard]] json stats(std::size_t i) const;

private:
    TempDirectory m_dir;
    std::filesystem::path m_home;
    std::vector<CiliumClusterSpec> m_specs;
    std::vector<FakekubeProcess> m_servers;
};

// A Secret's data value, decoded ("" when absent).
std::string secret_value(const json& secret, const std::string& key);

// True when `text` (any output) contains a line of `pem`'s base64 body or the base64 of the whole PEM.
bool leaks(const std::string& text, const std::string& pem);

} // namespace meshlink::test
