#include "plugin/cli/command.hpp"
#include "plugin/defaults.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/suggest.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>

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

const Verb* find_verb(std::string_view name) {
    for (const auto& verb : verbs()) {
        if (verb.name == name) {
            return &verb;
        }
    }
    return nullptr;
}

int dispatch(Invocation& invocation, std::vector<std::string> rest) {
    std::string name = "help";
    if (!rest.empty() && (rest.front() == "-h" || rest.front() == "--help")) {
        rest.erase(rest.begin());
    } else if (!rest.empty()) {
        name = rest.front();
        rest.erase(rest.begin());
    }
    if (name == "--version") {
        name = "version";
    }
    const Verb* verb = find_verb(name);
    if (verb == nullptr) {
        std::vector<std::string_view> names;
        for (const auto& v : verbs()) {
            names.push_back(v.name);
        }
        std::string message = "unknown command \"" + name + "\" for \"" + invocation.program + "\"";
        if (auto suggestion = util::closest_match(name, names)) {
            message += "\n\nDid you mean this?\n\t" + *suggestion;
        }
        message += "\nRun '" + invocation.program + " help' for usage.";
        throw util::UsageError(message);
    }
    invocation.args = std::move(rest);
    return verb->handler(invocation);
}

} // namespace

int run(int argc, char** argv) {
    Invocation invocation;
    invocation.program = program_name(argc > 0 ? argv[0] : nullptr);
    try {
        std::vector<std::string> args(argv + 1, argv + argc);
        auto split = split_global_flags(args);
        if (!split) {
            throw util::UsageError(split.error().message);
        }
        invocation.flags = split->flags;
        util::log::set_verbosity(invocation.flags.verbosity);
        return dispatch(invocation, std::move(split->rest));
    } catch (const util::Fatal& error) {
        std::cout.flush();
        std::cerr << invocation.program << ": error: " << error.what() << "\n";
        return error.exit_code();
    } catch (const std::exception& error) {
        // Anything else is a bug; still exit with the documented runtime-error code.
        std::cout.flush();
        std::cerr << invocation.program << ": internal error: " << error.what() << "\n";
        return 2;
    }
}

} // namespace meshlink::plugin::cli
