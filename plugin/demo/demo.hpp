#pragma once
// `kubectl meshlink demo deploy | verify | delete`: Cilium's rebel-base / x-wing global-service example in
// every cluster of the mesh (this context and its peers, as join names them), and the proof that the mesh
// carries traffic between them.
//
//   deploy  create-or-update the example (manifests.hpp) in a namespace of its own, wait until its Pods are
//           Ready, naming what keeps them from running (pods.hpp);
//   verify  read-only checks (verdict.hpp), then in each cluster a Job (jobs.hpp) running client.sh: requests
//           to the global Service and to every remote rebel-base Pod, one JSON line each (attempts.hpp), read
//           through the pod log API; the verdict per direction with the likely cause and the ports to open;
//   delete  the namespace (and the last verify result), waiting until it is gone.
// images.hpp: which images run and how to point them at a mirror.

#include "plugin/defaults.hpp"
#include "plugin/demo/api.hpp"
#include "plugin/demo/images.hpp"
#include "plugin/mesh/members.hpp"
#include "util/terminal.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace meshlink::plugin::demo {

// One cluster of the mesh as the demo works on it.
struct DemoCluster {
    mesh::Member* member = nullptr; // resolved: name (Cilium cluster-name), context, agents
    DemoApi* api = nullptr;
    [[nodiscard]] const std::string& name() const { return member->cluster.name; }
};

struct DemoSettings {
    std::string ns = std::string(defaults::k_demo_namespace);
    Images images;
    // Secrets ([NAMESPACE/]NAME, NAMESPACE default "default") copied into the demo namespace and used as
    // imagePullSecrets.
    std::vector<std::string> pull_secrets;
    std::chrono::seconds timeout = defaults::k_demo_deploy_timeout; // deploy: Ready; delete: gone
    bool keep = false;                                              // verify: keep the Jobs
    int requests = defaults::k_demo_requests;
    int pod_requests = defaults::k_demo_pod_requests;
    std::chrono::seconds backend_wait = defaults::k_demo_backend_wait;
    util::Terminal terminal; // verify's table: colour and symbols
};

struct VerbOutcome {
    int exit_code = 0;       // 0 done, 1 not (see message), 2 runtime error
    std::string message;     // the last line (stdout on success, stderr otherwise)
    std::string table;       // verify: the human report
    nlohmann::json document; // verify: -o json
};

VerbOutcome deploy(mesh::Session& session, std::vector<DemoCluster>& clusters, const DemoSettings& settings);
VerbOutcome verify(mesh::Session& session, std::vector<DemoCluster>& clusters, const DemoSettings& settings);
VerbOutcome remove(mesh::Session& session, std::vector<DemoCluster>& clusters, const DemoSettings& settings);

// `--image-pull-secret [NAMESPACE/]NAME` split; a usage error when either part is not a DNS name.
util::Result<std::pair<std::string, std::string>> parse_pull_secret(const std::string& flag);

} // namespace meshlink::plugin::demo
