#pragma once
// Validation and typed reading of one kubeconfig document, shared by kubeconfig.cpp's reader and merger.
// Internal to the kubeconfig implementation: use kube/kubeconfig.hpp.

#include "kube/kubeconfig.hpp"
#include "util/error.hpp"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace meshlink::kube::detail {

// Refuses what is not YAML text: control characters and invalid UTF-8 ("<name>:<line>: binary data ...").
std::optional<util::Error> check_text(std::string_view text, const std::string& name);

// Checks the document as a whole: a mapping, no duplicate or merge keys, the top-level fields' types
// (apiVersion v1, kind Config, current-context, preferences, extensions).
// `keys_checked`: yaml::load already refused duplicate and merge keys, skip that walk.
std::optional<util::Error> check_document(const YAML::Node& root, const std::string& name,
                                          bool keys_checked = false);

// Calls the visitors for each cluster, user and context entry of `file` (in file order), with the typed
// value (paths resolved against the file's directory), the inner mapping and the entry's line; checks every
// entry's shape, name, uniqueness and field types on the way. `name` is how errors name the file.
struct EntryVisitors {
    std::function<void(const std::string&, Cluster, const YAML::Node&, int)> cluster;
    std::function<void(const std::string&, AuthInfo, const YAML::Node&, int)> user;
    std::function<void(const std::string&, Context, const YAML::Node&, int)> context;
};
std::optional<util::Error> walk_entries(const KubeconfigFile& file, const std::string& name,
                                        const EntryVisitors& visit);

} // namespace meshlink::kube::detail
