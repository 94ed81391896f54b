#pragma once
// JSON text that came from elsewhere (an API server's answer, a ConfigMap's data, a node's annotation, a
// pod's output), parsed so that its shape cannot end the process: too deep a document is refused before it is
// built (util/json_depth.hpp says why).

#include "util/error.hpp"
#include "util/json_depth.hpp"

#include <nlohmann/json.hpp>

#include <string_view>

namespace meshlink::util {

// Kubernetes objects nest a few dozen levels; yaml/ refuses YAML nested deeper than the same bound.
inline constexpr int k_max_json_depth = 1000;

// `text` as a document, or an error of kind parse: "not valid JSON (syntax error at byte N)" or "nested more
// than N levels deep". The caller's message says whose text it was.
Result<nlohmann::json> parse_json(std::string_view text, int max_depth = k_max_json_depth);

} // namespace meshlink::util
