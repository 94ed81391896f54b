#include "plugin/cli/mesh_targets.hpp"

#include "plugin/mesh/kube_api.hpp"
#include "plugin/mesh/output.hpp"

namespace meshlink::plugin::cli {

std::unique_ptr<MeshTargets> open_mesh_targets(const Invocation& invocation,
                                               const std::vector<std::string>& peers,
                                               const std::string& verb) {
    auto out = std::make_unique<MeshTargets>();
    out->access = std::make_unique<MeshAccess>(invocation, peers, std::nullopt);
    out->access->prepare(out->options);
    out->host = mesh::make_system_host();
    out->session =
        std::make_unique<mesh::Session>(out->options, *out->host, mesh::stderr_progress(verb), nullptr);
    out->members = util::value_or_throw(mesh::open_members(*out->session, out->access->clusters(),
                                                           out->access->open_context(), !peers.empty()));
    for (auto& member : out->members) {
        out->apis.push_back(demo::make_demo_api(member->access->client));
        out->targets.push_back({member.get(), out->apis.back().get()});
    }
    return out;
}

} // namespace meshlink::plugin::cli
