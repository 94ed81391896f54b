#pragma once
// PreflightApi on a kube::Client.

#include "kube/client.hpp"
#include "plugin/preflight/api.hpp"

#include <memory>

namespace meshlink::plugin::preflight {

// Reads through `client` (shared: the invocation's one client of that cluster); node and Lease lists are
// paginated (defaults::k_list_page_size).
std::unique_ptr<PreflightApi> make_kube_api(std::shared_ptr<kube::Client> client);

} // namespace meshlink::plugin::preflight
