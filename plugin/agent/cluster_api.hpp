#pragma once
// The calls `kubectl meshlink agent` makes, as a narrow interface: one implementation on kube::Client, and
// an in-memory one in the unit tests.

#include "kube/client.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace meshlink::plugin::agent {

class ClusterApi {
public:
    virtual ~ClusterApi() = default;
    // The object at `path`, or nullopt when it does not exist (404).
    virtual util::Result<std::optional<nlohmann::json>> get(const std::string& path) = 0;
    // POST to the collection; strict field validation.
    virtual util::Result<nlohmann::json> create(const std::string& collection,
                                                const nlohmann::json& object) = 0;
    // JSON merge patch; strict field validation. A metadata.resourceVersion in `patch` makes it conditional
    // (409 Conflict when the object changed meanwhile).
    virtual util::Result<nlohmann::json> merge_patch(const std::string& path,
                                                     const nlohmann::json& patch) = 0;
    // DELETE; false when the object was already gone (404).
    virtual util::Result<bool> remove(const std::string& path) = 0;
    // Every item of the collection at `path`, whole, page by page.
    virtual util::Result<void> list_each(const std::string& path,
                                         const std::function<void(const nlohmann::json& item)>& visit) = 0;
    // Every item's metadata (PartialObjectMetadata), page by page.
    virtual util::Result<void>
    list_metadata(const std::string& path, const std::string& label_selector,
                  const std::function<void(const nlohmann::json& item)>& visit) = 0;
};

std::unique_ptr<ClusterApi> make_cluster_api(kube::Client& client);

} // namespace meshlink::plugin::agent
