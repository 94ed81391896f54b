#pragma once
// Server-side printing: the meta.k8s.io/v1 Table kubectl asks for in `kubectl get`, with the columns
// kube-apiserver's printers use for the common kinds (NAME ... AGE) and name/age for the rest.

#include "tests/fakekube/http.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace meshlink::fakekube {

struct ResourceInfo;

// `include` is the includeObject parameter: "None", "Metadata" (default) or "Object".
json make_table(const ResourceInfo& resource, const std::vector<json>& objects, const json& list_metadata,
                const std::string& include);

// Go's duration.HumanDuration, as the AGE column prints it.
std::string human_duration(std::chrono::seconds age);

// Metadata-only view of an object (PartialObjectMetadata).
json partial_metadata(const json& object);

} // namespace meshlink::fakekube
