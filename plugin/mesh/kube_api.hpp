#pragma once
// MeshApi on a kube::Client, and MeshHost on this machine (processes, TLS, clock).

#include "kube/client.hpp"
#include "plugin/mesh/api.hpp"

#include <memory>

namespace meshlink::plugin::mesh {

std::unique_ptr<MeshApi> make_kube_api(kube::Client client);

std::unique_ptr<MeshHost> make_system_host();

} // namespace meshlink::plugin::mesh
