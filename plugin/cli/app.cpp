#include "plugin/cli/command.hpp"
#include "plugin/defaults.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/main.hpp"
#include "util/verbs.hpp"

#include <filesystem>

namespace meshlink::plugin::cli {
namespace {

// kubectl runs plugins with argv[0] = the full path of kubectl-meshlink; usage then reads "kubectl meshlink".
std::string program_name(const char* argv0) {
    std::string base = std::filesystem::path(argv0 ? argv0 : "kubectl-meshlink").filename().string();
    if (base.starts_with(defaults::k_binary_prefix)) {
        return "kubectl " + base.substr(defaults::k_binary_prefix.size());
    }
    return base;
}

} // namespace

int run(int argc, char** argv) {
    Invocation invocation;
    invocation.program = program_name(argc > 0 ? argv[0] : nullptr);
    return util::run_main(invocation.program, [&] {
        std::vector<std::string> args(argv + 1, argv + argc);
        auto split = split_global_flags(args);
        if (!split) {
            throw util::UsageError(split.error().message);
        }
        invocation.flags = split->flags;
        util::log::set_verbosity(invocation.flags.verbosity);
        const Verb* verb =
            util::pick_verb(verbs(), split->rest, {invocation.program, invocation.program + " help"},
                            {{"--version", "version"}});
        invocation.args = std::move(split->rest);
        return verb->handler(invocation);
    });
}

} // namespace meshlink::plugin::cli
