#pragma once
// meshlink-agent's verb table: one row per `meshlink-agent <verb>`.

#include "util/verbs.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace meshlink::agent::cli {

struct Invocation {
    std::string program;           // "meshlink-agent"
    std::vector<std::string> args; // the verb's arguments (verb name removed)
};

// Returns the exit code: 0 success, 1 checks failed, 2 usage or runtime error.
using Handler = int (*)(Invocation&);

using Verb = util::Verb<Handler>;

const std::vector<Verb>& verbs();

int run(int argc, char** argv);

} // namespace meshlink::agent::cli
