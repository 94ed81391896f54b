#pragma once
// `kubectl meshlink agent install | uninstall`: create-or-update the agent's objects, idempotently, and
// delete exactly those objects again.

#include "plugin/agent/cluster_api.hpp"
#include "plugin/defaults.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::agent {

// The REST paths of an object of a kind in resources.hpp: its collection (for POST) and itself.
struct ObjectPaths {
    std::string collection;
    std::string object;
};
util::Result<ObjectPaths> paths_of(const nlohmann::json& object);

// True when every field `desired` sets has the same value in `actual` (maps: each key of desired,
// recursively; lists: same length, element by element; scalars: equal). Fields only the server set (defaults,
// status, uid, annotations of controllers) do not count, so an applied object compares equal to its manifest.
bool covers(const nlohmann::json& actual, const nlohmann::json& desired);

enum class ApplyAction { created, updated, unchanged };
std::string_view to_string(ApplyAction action);

struct ApplyStep {
    std::string object; // "DaemonSet meshlink-system/meshlink-agent"
    ApplyAction action = ApplyAction::unchanged;
};

struct ApplyOptions {
    // A namespace that is still terminating (a recent uninstall) is waited for this long before creating it.
    std::chrono::seconds terminating_namespace_timeout = defaults::k_terminating_namespace_timeout;
    std::function<void(std::chrono::milliseconds)> sleep;     // default std::this_thread::sleep_for
    std::function<void(const std::string& message)> progress; // "waiting for ..." lines; may be empty
};

// For each object in order: GET; absent -> POST; present and covering the object -> nothing; else a JSON
// merge patch of the object carrying the current resourceVersion (a 409 Conflict re-reads and tries again, 3
// times). Stops at the first failure, whose message names the object.
util::Result<std::vector<ApplyStep>>
apply_objects(ClusterApi& api, const std::vector<nlohmann::json>& objects, const ApplyOptions& options = {});

// `objects` split by what this API server serves: every object of an optional kind (resources.hpp, e.g. the
// ValidatingAdmissionPolicy, GA in Kubernetes 1.30) is kept only when discovery of its group version
// (GET /apis/GROUP/VERSION) lists its resource; the others go to `unserved`. Other kinds are not looked up.
struct ServedSplit {
    std::vector<nlohmann::json> served; // in the order given
    std::vector<nlohmann::json> unserved;
};
util::Result<ServedSplit> split_served(ClusterApi& api, std::vector<nlohmann::json> objects);

enum class DeleteAction { deleted, absent };
std::string_view to_string(DeleteAction action);

struct DeleteStep {
    std::string object;
    DeleteAction action = DeleteAction::absent;
};

// Deletes `objects` in reverse order (the DaemonSet first, the namespace last); absent ones are fine.
util::Result<std::vector<DeleteStep>> delete_objects(ClusterApi& api,
                                                     const std::vector<nlohmann::json>& objects);

// Removes the report annotation and both labels from every Node carrying any of them. Returns how many Nodes
// were patched.
util::Result<int> purge_reports(ClusterApi& api);

// The Cilium release of the cluster's `cilium` DaemonSet in kube-system, from its agent image tag; nullopt
// when there is no such DaemonSet or its tag is not a version.
util::Result<std::optional<std::string>> detect_cilium_version(ClusterApi& api);

} // namespace meshlink::plugin::agent
