#include "node-agent/cli/command.hpp"
#include "util/error.hpp"
#include "util/suggest.hpp"

#include <filesystem>
#include <iostream>

namespace meshlink::agent::cli {

int run(int argc, char** argv) {
    Invocation invocation;
    invocation.program = std::filesystem::path(argc > 0 ? argv[0] : "meshlink-agent").filename().string();
    try {
        std::vector<std::string> args(argv + 1, argv + argc);
        std::string name = "help";
        if (!args.empty() && args.front() != "-h" && args.front() != "--help") {
            name = args.front() == "--version" ? "version" : args.front();
        }
        if (!args.empty()) {
            args.erase(args.begin());
        }
        for (const auto& verb : verbs()) {
            if (verb.name == name) {
                invocation.args = std::move(args);
                return verb.handler(invocation);
            }
        }
        std::vector<std::string_view> names;
        for (const auto& verb : verbs()) {
            names.push_back(verb.name);
        }
        std::string message = "unknown command \"" + name + "\" for \"" + invocation.program + "\"";
        if (auto suggestion = util::closest_match(name, names)) {
            message += "\n\nDid you mean this?\n\t" + *suggestion;
        }
        throw util::UsageError(message + "\nRun '" + invocation.program + " help' for usage.");
    } catch (const util::Fatal& error) {
        std::cout.flush();
        std::cerr << invocation.program << ": error: " << error.what() << "\n";
        return error.exit_code();
    } catch (const std::exception& error) {
        std::cout.flush();
        std::cerr << invocation.program << ": internal error: " << error.what() << "\n";
        return 2;
    }
}

} // namespace meshlink::agent::cli
