#include "node-agent/cli/command.hpp"
#include "util/main.hpp"
#include "util/verbs.hpp"

#include <filesystem>

namespace meshlink::agent::cli {

int run(int argc, char** argv) {
    Invocation invocation;
    invocation.program = std::filesystem::path(argc > 0 ? argv[0] : "meshlink-agent").filename().string();
    return util::run_main(invocation.program, [&] {
        std::vector<std::string> args(argv + 1, argv + argc);
        const Verb* verb = util::pick_verb(verbs(), args, {invocation.program, invocation.program + " help"},
                                           {{"--version", "version"}});
        invocation.args = std::move(args);
        return verb->handler(invocation);
    });
}

} // namespace meshlink::agent::cli
