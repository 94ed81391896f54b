#include "plugin/cli/mesh_targets.hpp"

#include "plugin/cli/connect.hpp"
#include "plugin/mesh/kube_api.hpp"
#include "plugin/mesh/output.hpp"

namespace meshlink::plugin::cli {

std::unique_ptr<MeshTargets> open_mesh_targets(const Invocation& invocation,
                                               const std::vector<std::string>& peers,
                                               const std::string& verb) {
    auto out = std::make_unique<MeshTargets>();
    mesh::prepare_options(out->options, invocation.flags.kubeconfig);
    out->clusters = util::value_or_throw(
        mesh::open_clusters(loading_rules(invocation.flags), config_overrides(invocation.flags), peers, {}));
    out->host = mesh::make_system_host();
    out->session =
        std::make_unique<mesh::Session>(out->options, *out->host, mesh::stderr_progress(verb), nullptr);
    out->members = util::value_or_throw(mesh::open_members(*out->session, out->clusters, !peers.empty()));
    for (auto& member : out->members) {
        auto client = kube::Client::from_config(member->access.rest);
        if (!client) {
            throw util::Fatal(client.error().with_context(member->cluster.context));
        }
        out->apis.push_back(demo::make_demo_api(std::move(*client)));
        out->targets.push_back({member.get(), out->apis.back().get()});
    }
    return out;
}

} // namespace meshlink::plugin::cli
