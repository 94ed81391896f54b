#pragma once
// The calls `kubectl meshlink kernel` makes, as a narrow interface: one implementation on kube::Client, an
// in-memory one in the unit tests. The workload's objects go through agent::ClusterApi, so `kernel upgrade`
// and `finish` apply and delete them with the same code as `agent install` and `uninstall`.

#include "kube/client.hpp"
#include "plugin/agent/cluster_api.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace meshlink::plugin::kernel {

class KernelApi {
public:
    virtual ~KernelApi() = default;
    // get, create, merge_patch, remove of single objects.
    virtual agent::ClusterApi& objects() = 0;
    // Every item of a collection (full objects, paginated), filtered by a label selector.
    virtual util::Result<std::vector<nlohmann::json>> list(const std::string& path,
                                                           const std::string& label_selector) = 0;
    // PUT; the object's metadata.resourceVersion makes it conditional (ErrorKind::conflict on a 409).
    virtual util::Result<nlohmann::json> update(const std::string& path, const nlohmann::json& object) = 0;
};

std::unique_ptr<KernelApi> make_kernel_api(kube::Client& client);

} // namespace meshlink::plugin::kernel
