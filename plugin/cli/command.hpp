#pragma once
// What every verb handler receives, and the verb table's row type.

#include "plugin/cli/global_flags.hpp"

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::plugin::cli {

struct Invocation {
    std::string program;           // "kubectl meshlink" when run as a kubectl plugin, else argv[0]'s name
    GlobalFlags flags;             // parsed global flags
    std::vector<std::string> args; // the verb's own arguments (verb name removed)
};

// A verb returns the process exit code: 0 success, 1 checks failed, 2 usage or runtime error.
// It throws kube::UsageError / kube::Fatal for errors that end the run.
using Handler = int (*)(Invocation&);

struct Verb {
    std::string_view name;
    std::string_view summary; // one line, shown by `help`
    Handler handler;
};

// The verb table, in the order `help` lists it.
const std::vector<Verb>& verbs();

// Entry point behind main(): parses global flags, dispatches, maps exceptions to exit codes.
int run(int argc, char** argv);

} // namespace meshlink::plugin::cli
