#pragma once
// The kernel rollout's privileged workload: manifests/kernel/ (kustomization order), embedded in the plugin
// at build time by plugin/agent/embed_manifests.cpp; plugin/agent/manifests.cpp renders it
// (render_kernel_objects) with the agent's own rules.

#include "plugin/agent/manifests.hpp"

#include <vector>

namespace meshlink::plugin::kernel {

using EmbeddedDocument = agent::EmbeddedDocument;

// In kustomization order. Defined in the generated kernel_manifests_embedded.cpp.
const std::vector<EmbeddedDocument>& embedded_documents();

} // namespace meshlink::plugin::kernel
