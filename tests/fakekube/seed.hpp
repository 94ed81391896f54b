#pragma once
// Reading seeds: multi-document YAML (or JSON, which is YAML) into JSON objects, with YAML 1.2 core
// schema scalars (plain true/false/null/numbers typed, quoted scalars strings). `List` kinds are
// flattened into their items.

#include "tests/fakekube/http.hpp"
#include "util/error.hpp"

#include <string>
#include <vector>

namespace meshlink::fakekube {

// Every non-empty document of `text`; `origin` names the source in error messages.
util::Result<std::vector<json>> yaml_documents(const std::string& text, const std::string& origin);

// Reads a seed file and returns its objects, List items expanded.
util::Result<std::vector<json>> read_seed_file(const std::string& path);

} // namespace meshlink::fakekube
