#pragma once
// The agent's manifests (manifests/kustomization.yaml and the files it lists) and the kernel rollout's
// privileged workload (manifests/kernel/), embedded in the plugin at build time by embed_manifests.cpp, and
// what `agent install` and `kernel upgrade` make of them: the same objects `kubectl kustomize` renders, with
// the image, the Cilium release and the planned nodes applied by one rendering code.

#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::plugin::agent {

// One object of one manifest file, as JSON text (generated code).
struct EmbeddedDocument {
    std::string_view source; // "manifests/agent/daemonset.yaml"
    std::string_view json;
};

// In kustomization order. Defined in the generated manifests_embedded.cpp (manifests/); the kernel rollout's
// and the demo's are in plugin/kernel/manifests.hpp and plugin/demo/manifests.hpp.
const std::vector<EmbeddedDocument>& embedded_documents();

struct RenderOptions {
    std::optional<std::string> image;          // replaces every container image of the DaemonSet
    std::optional<std::string> cilium_version; // "1.16": passed to the agent as --cilium-version=1.16
};

// The objects to apply, in kustomization order (namespace first, DaemonSet last).
std::vector<nlohmann::json> render_objects(const RenderOptions& options = {});

struct KernelRenderOptions {
    std::optional<std::string> image; // the agent's image (the same binary runs `kernel run`)
    std::vector<std::string> nodes;   // the planned nodes: the DaemonSet's node affinity lists exactly these
};

// The kernel rollout's workload (ServiceAccount, RBAC, DaemonSet), in kustomization order. With no nodes the
// DaemonSet's affinity list stays empty, which the API server refuses: callers render with the plan's nodes.
std::vector<nlohmann::json> render_kernel_objects(const KernelRenderOptions& options);

// "DaemonSet meshlink-system/meshlink-agent", for messages.
std::string describe(const nlohmann::json& object);

// The objects as a YAML stream ("---" between documents), as `kubectl kustomize` prints them.
std::string to_yaml(const std::vector<nlohmann::json>& objects);

// The Cilium release an image runs, from its tag: "quay.io/cilium/cilium:v1.16.5@sha256:..." -> "1.16".
// nullopt when the tag is missing or is not a version (e.g. "latest").
std::optional<std::string> cilium_version_from_image(std::string_view image);

// True when `text` is a Cilium release X.Y (v prefix and a patch level accepted); `normalized` gets "X.Y".
bool parse_cilium_release(std::string_view text, std::string& normalized);

} // namespace meshlink::plugin::agent
