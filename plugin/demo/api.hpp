#pragma once
// The calls `demo` and `verify` make in one cluster, as a narrow interface: agent::ClusterApi (get, create,
// merge patch, delete, metadata lists; what apply_objects needs) plus full lists, deletes with a propagation
// policy and pod logs. One implementation on kube::Client; unit tests use an in-memory one.

#include "kube/client.hpp"
#include "plugin/agent/cluster_api.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::plugin::demo {

using nlohmann::json;

class DemoApi : public agent::ClusterApi {
public:
    // Every item of the collection at `path` matching the selectors ("" = all).
    virtual util::Result<std::vector<json>> list(const std::string& path, const std::string& label_selector,
                                                 const std::string& field_selector = {}) = 0;
    // DELETE with propagationPolicy (Background, Foreground, Orphan); false when already gone.
    virtual util::Result<bool> remove_propagating(const std::string& path, std::string_view propagation) = 0;
    // GET .../pods/NAME/log?container=C&limitBytes=N: the text, at most `limit_bytes` of it.
    virtual util::Result<std::string> pod_log(const std::string& ns, const std::string& pod,
                                              const std::string& container, std::size_t limit_bytes) = 0;
};

// On the invocation's one client of the cluster.
std::unique_ptr<DemoApi> make_demo_api(std::shared_ptr<kube::Client> client);

// REST paths of the kinds the demo reads and writes.
std::string namespace_path(std::string_view name = {});
std::string core_path(std::string_view plural, std::string_view ns, std::string_view name = {});
std::string apps_path(std::string_view plural, std::string_view ns, std::string_view name = {});
std::string jobs_path(std::string_view ns, std::string_view name = {});

} // namespace meshlink::plugin::demo
