#pragma once
// The kubectl-style global flags. kubectl does not forward its own flags to plugins, so the plugin parses
// them itself, anywhere after "meshlink" (README "Global flags").

#include "util/error.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::cli {

struct GlobalFlags {
    std::optional<std::string> kubeconfig;     // --kubeconfig: this file alone, must exist
    std::optional<std::string> context;        // --context
    std::optional<std::string> cluster;        // --cluster
    std::optional<std::string> user;           // --user
    std::optional<std::string> namespace_name; // -n, --namespace
    // --request-timeout: "30" (seconds) or a Go duration, parsed here; zero = no timeout.
    std::optional<std::chrono::nanoseconds> request_timeout;
    int verbosity = 0;                 // -v, --v
    std::optional<std::string> output; // -o, --output
};

struct SplitArgs {
    GlobalFlags flags;
    std::vector<std::string> rest; // everything that is not a global flag, in order
};

// Removes the global flags from `args` (forms: --flag value, --flag=value, -n value, -nvalue, -n=value).
// Stops at "--": what follows is passed through untouched. Fails (ErrorKind::usage) on a global flag without
// a value, a -v that is not a number and a --request-timeout that is not a duration.
util::Result<SplitArgs> split_global_flags(const std::vector<std::string>& args);

} // namespace meshlink::plugin::cli
