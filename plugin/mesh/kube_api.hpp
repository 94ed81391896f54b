#pragma once
// MeshApi on a kube::Client, and MeshHost on this machine (processes, TLS, clock).

#include "kube/client.hpp"
#include "plugin/mesh/api.hpp"

#include <memory>

namespace meshlink::plugin::mesh {

// Reads and writes through `client` (shared: the invocation's one client of that cluster).
std::unique_ptr<MeshApi> make_kube_api(std::shared_ptr<kube::Client> client);

std::unique_ptr<MeshHost> make_system_host();

} // namespace meshlink::plugin::mesh
