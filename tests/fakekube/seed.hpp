#pragma once
// Reading seeds: multi-document YAML (or JSON, which is YAML) into JSON objects, with YAML 1.2 core
// schema scalars (plain true/false/null/numbers typed, quoted scalars strings). `List` kinds are
// flattened into their items.

#include "kube/error.hpp"
#include "tests/fakekube/http.hpp"

#include <string>
#include <vector>

namespace meshlink::fakekube {

// Every non-empty document of `text`; `origin` names the source in error messages.
kube::Result<std::vector<json>> yaml_documents(const std::string& text, const std::string& origin);

// Reads a seed file and returns its objects, List items expanded.
kube::Result<std::vector<json>> read_seed_file(const std::string& path);

} // namespace meshlink::fakekube
