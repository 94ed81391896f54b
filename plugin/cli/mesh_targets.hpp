#pragma once
// The clusters `demo` and `verify` work on: this context and the peers its join journal records (or exactly
// the PEER contexts given), reached through MeshAccess (one client per cluster), resolved.

#include "plugin/cli/command.hpp"
#include "plugin/cli/mesh_access.hpp"
#include "plugin/demo/demo.hpp"
#include "plugin/mesh/members.hpp"

#include <memory>
#include <string>
#include <vector>

namespace meshlink::plugin::cli {

struct MeshTargets {
    std::unique_ptr<MeshAccess> access;
    mesh::JoinOptions options;
    std::unique_ptr<mesh::MeshHost> host;
    std::unique_ptr<mesh::Session> session;
    std::vector<std::unique_ptr<mesh::Member>> members;
    std::vector<std::unique_ptr<demo::DemoApi>> apis;
    std::vector<demo::DemoCluster> targets;
};

// Opens the clusters; `verb` prefixes the progress lines on stderr. Throws (Fatal, UsageError) on failure.
std::unique_ptr<MeshTargets> open_mesh_targets(const Invocation& invocation,
                                               const std::vector<std::string>& peers,
                                               const std::string& verb);

} // namespace meshlink::plugin::cli
