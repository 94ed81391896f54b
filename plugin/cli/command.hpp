#pragma once
// What every verb handler receives, and the verb table's row type.

#include "plugin/cli/global_flags.hpp"
#include "util/verbs.hpp"

#include <cstdio>
#include <initializer_list>
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
// It throws util::UsageError / util::Fatal for errors that end the run (util/main.hpp prints them).
using Handler = int (*)(Invocation&);

using Verb = util::Verb<Handler>;

// The global -o value, or `fallback` when none was given; a value not in `allowed` is a usage error that
// lists them.
std::string output_format(const Invocation& invocation, std::string_view fallback,
                          std::initializer_list<std::string_view> allowed);

// The verb table, in the order `help` lists it.
const std::vector<Verb>& verbs();

// Entry point behind main(): parses global flags, dispatches, maps exceptions to exit codes.
int run(int argc, char** argv);

} // namespace meshlink::plugin::cli
