#pragma once
// The images the demo and the verify Jobs run, and how a user points them at a mirror: defaults are what
// Cilium's own example and cilium-cli use (plugin/defaults.hpp); --image-registry moves every default to one
// registry (keeping the repository path, tag and digest), the per-image flags replace one image outright, and
// --print-images lists exactly what would run, for mirroring.

#include "util/error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::plugin::demo {

struct ImageOptions {
    std::optional<std::string> registry; // --image-registry HOST[:PORT][/PREFIX]
    std::optional<std::string> server;   // --server-image (rebel-base)
    std::optional<std::string> client;   // --client-image (x-wing)
    std::optional<std::string> probe;    // --probe-image (the verify Jobs)
};

struct Images {
    std::string server;
    std::string client;
    std::string probe;
    bool from_registry = false; // --image-registry was given (hints then name it)
};

// Validates the flags and applies them to the defaults. A registry with a scheme, a tag or a digest, or an
// image reference with whitespace, is a usage error.
util::Result<Images> resolve_images(const ImageOptions& options);

// `image` with its registry host replaced by `registry` (its repository path, tag and digest kept):
// ("docker.io/nginx:1.27.1", "mirror.example:5000/hub") -> "mirror.example:5000/hub/nginx:1.27.1".
// A reference without a registry host ("nginx:1.27") gets `registry` put in front.
std::string with_registry(std::string_view image, std::string_view registry);

// The hint for an image a cluster cannot pull.
std::string pull_hint(std::string_view image);

} // namespace meshlink::plugin::demo
