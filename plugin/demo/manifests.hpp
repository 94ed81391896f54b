#pragma once
// The demo's objects: manifests/demo/ (kustomization order), embedded in the plugin at build time by
// plugin/agent/embed_manifests.cpp, and what `demo deploy` makes of them for one cluster.

#include "plugin/agent/manifests.hpp"
#include "plugin/demo/images.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace meshlink::plugin::demo {

using EmbeddedDocument = agent::EmbeddedDocument;

// In kustomization order. Defined in the generated demo_manifests_embedded.cpp.
const std::vector<EmbeddedDocument>& embedded_documents();

struct RenderInput {
    std::string ns;                        // the demo namespace
    std::string cluster;                   // the cluster's Cilium cluster-name, for the ConfigMap's message
    Images images;                         // rebel-base and x-wing images
    std::vector<std::string> pull_secrets; // imagePullSecrets of both Deployments
};

// The namespace, ConfigMap, Deployments and Service for one cluster, in kustomization order (the namespace
// first): every object moved to `ns`, the message naming `cluster`, the images and pull secrets set.
std::vector<nlohmann::json> render(const RenderInput& input);

// The ConfigMap message the rebel-base Pods of `cluster` answer with (upstream's format, cluster names need
// no escaping: Cilium allows [a-z0-9-] only).
std::string response_message(const std::string& cluster);

} // namespace meshlink::plugin::demo
