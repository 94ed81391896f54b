#include "plugin/cli/command.hpp"
#include "plugin/defaults.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/main.hpp"
#include "util/verbs.hpp"

#include <fmt/format.h>

#include <algorithm>
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

std::string output_format(const Invocation& invocation, std::string_view fallback,
                          std::initializer_list<std::string_view> allowed) {
    const std::string format = invocation.flags.output.value_or(std::string(fallback));
    if (std::find(allowed.begin(), allowed.end(), format) == allowed.end()) {
        std::string list;
        for (auto item : allowed) {
            list += (list.empty() ? "" : "|") + std::string(item);
        }
        throw util::UsageError(fmt::format("unknown output format \"{}\": use {}", format, list));
    }
    return format;
}

} // namespace meshlink::plugin::cli
