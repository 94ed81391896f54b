// `kubectl meshlink completion bash|zsh|fish|install`, and the hidden `completion __complete` that the
// shells' scripts and kubectl's helper call. The work is in plugin/completion/.

#include "plugin/completion/completion.hpp"

#include "kube/kubeconfig.hpp"
#include "plugin/cli/verb_handlers.hpp"
#include "plugin/defaults.hpp"
#include "util/cli_options.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <system_error>

namespace meshlink::plugin::cli {
namespace {

namespace fs = std::filesystem;
namespace comp = meshlink::plugin::completion;

constexpr std::string_view k_helper = "kubectl_complete-meshlink";
constexpr std::string_view k_binary = "kubectl-meshlink";

struct Shell {
    std::string_view name;
    std::string_view summary;
};
constexpr Shell k_shells[] = {
    {"bash", "Print the bash completion script for kubectl-meshlink"},
    {"zsh", "Print the zsh completion script for kubectl-meshlink"},
    {"fish", "Print the fish completion script for kubectl-meshlink"},
};

comp::Source cli_source(Invocation& invocation) {
    comp::Source source;
    for (const auto& verb : verbs()) {
        source.verbs.push_back({std::string(verb.name), std::string(verb.summary)});
    }
    source.print_help = [&invocation] {
        Invocation copy = invocation;
        copy.args.clear();
        (void)run_help(copy);
    };
    source.run = [&invocation](const std::string& name, const std::vector<std::string>& args) {
        for (const auto& verb : verbs()) {
            if (verb.name == name) {
                Invocation copy = invocation;
                copy.args = args;
                (void)verb.handler(copy);
            }
        }
    };
    return source;
}

comp::Names kubeconfig_names(const std::string& explicit_path, const GlobalFlags& flags) {
    std::optional<std::string> path = flags.kubeconfig;
    if (!explicit_path.empty()) {
        path = explicit_path;
    }
    comp::Names names;
    auto config = kube::load_kubeconfig(kube::LoadingRules::from_environment(path));
    if (!config) {
        return names; // nothing to offer from an unreadable kubeconfig; completion never prints errors
    }
    for (const auto& [name, entry] : config->contexts) {
        names.contexts.push_back(name);
    }
    for (const auto& [name, entry] : config->clusters) {
        names.clusters.push_back(name);
    }
    for (const auto& [name, entry] : config->users) {
        names.users.push_back(name);
    }
    return names;
}

int run_complete(Invocation& invocation, std::vector<std::string> words) {
    if (!words.empty() && words.front() == "--") {
        words.erase(words.begin());
    }
    const comp::Model model = comp::describe(cli_source(invocation));
    const auto result = comp::complete(model, words, [&](const std::string& kubeconfig) {
        return kubeconfig_names(kubeconfig, invocation.flags);
    });
    std::cout << comp::format_cobra(result);
    return 0;
}

bool on_path(const fs::path& directory) {
    const char* path = std::getenv("PATH");
    std::string_view rest = path != nullptr ? path : "";
    std::error_code error;
    while (!rest.empty()) {
        const auto colon = rest.find(':');
        const fs::path entry(std::string(rest.substr(0, colon)));
        if (!entry.empty() && fs::equivalent(entry, directory, error)) {
            return true;
        }
        rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
    return false;
}

int run_install(Invocation& invocation, const std::vector<std::string>& args) {
    util::VerbOptions options(
        invocation.program, "completion install [--dir DIR]",
        fmt::format(
            "Write the {0} helper that kubectl (1.26 or newer) runs to complete \"kubectl meshlink ...\": "
            "next to the kubectl-meshlink that PATH finds (with Krew, ~/.krew/bin), or into DIR, "
            "which must be on PATH.",
            k_helper));
    options.add()("dir", "Write the helper into this directory (it must be on PATH)",
                  cxxopts::value<std::string>());
    auto parsed = options.parse(args);
    if (!parsed) {
        return 0;
    }
    if (auto extra = util::VerbOptions::positionals(*parsed); !extra.empty()) {
        throw util::UsageError("completion install takes no arguments, got \"" + extra.front() + "\"");
    }
    fs::path directory;
    if (parsed->count("dir") > 0) {
        directory = util::VerbOptions::directory(*parsed, "dir", "");
        if (!on_path(directory)) {
            throw util::UsageError(fmt::format("--dir {}: not on PATH, so kubectl would never find {} there; "
                                               "add it to PATH or pick a directory that is",
                                               directory.string(), k_helper));
        }
    } else {
        // kubectl runs the plugin it finds on PATH: the helper goes beside it (for Krew, the ~/.krew/bin
        // symlink's directory, not the store the symlink points into).
        auto found = util::find_executable(std::string(k_binary));
        if (!found) {
            throw util::Fatal(
                util::Error{util::ErrorKind::not_found,
                            fmt::format("{} is not on PATH, so kubectl cannot run it; put it on PATH "
                                        "or pass --dir DIR (a directory on PATH)",
                                        k_binary)});
        }
        directory = found->parent_path();
    }
    const fs::path helper = directory / k_helper;
    const fs::path temporary = directory / (std::string(k_helper) + ".tmp");
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << comp::helper_script();
        if (!out.flush()) {
            throw util::Fatal(
                util::Error{util::ErrorKind::generic,
                            fmt::format("cannot write {}: {}", temporary.string(), std::strerror(errno))});
        }
    }
    std::error_code error;
    fs::permissions(temporary, fs::perms(0755), error);
    if (!error) {
        fs::rename(temporary, helper, error);
    }
    if (error) {
        fs::remove(temporary);
        throw util::Fatal(
            util::Error{util::ErrorKind::generic,
                        fmt::format("cannot install {}: {}", helper.string(), error.message())});
    }
    std::cout << fmt::format(
        "Wrote {}: \"kubectl meshlink <TAB>\" now completes (kubectl 1.26 or newer, with "
        "kubectl's own completion loaded in your shell).\n",
        helper.string());
    return 0;
}

} // namespace

int run_completion(Invocation& invocation) {
    std::vector<std::string> args = invocation.args;
    if (args.empty() || args.front() == "-h" || args.front() == "--help" || args.front() == "help") {
        std::cout << "Shell completion for kubectl-meshlink: verbs, flags, and values where known (contexts, "
                     "clusters and users of the kubeconfig, peers, output formats).\n\nUsage:\n  "
                  << invocation.program << " completion <bash|zsh|fish|install> [flags]\n\nCommands:\n";
        for (const auto& shell : k_shells) {
            std::cout << fmt::format("  {:<9}{}\n", shell.name, shell.summary);
        }
        std::cout << fmt::format("  {:<9}{}\n", "install",
                                 "Install the kubectl_complete-meshlink helper kubectl runs (kubectl 1.26+)");
        std::cout << "\nExit codes: 0 success, 2 usage or runtime error.\n";
        return 0;
    }
    const std::string name = args.front();
    args.erase(args.begin());
    if (name == "__complete") {
        return run_complete(invocation, std::move(args));
    }
    if (name == "install") {
        return run_install(invocation, args);
    }
    if (name == "helper-script") { // for scripts/package, which ships the helper in the release archive
        std::cout << comp::helper_script();
        return 0;
    }
    for (const auto& shell : k_shells) {
        if (shell.name == name) {
            util::VerbOptions options(invocation.program, "completion " + name,
                                      std::string(shell.summary) + ".");
            auto parsed = options.parse(args);
            if (!parsed) {
                return 0;
            }
            std::cout << comp::script(name, k_binary);
            return 0;
        }
    }
    throw util::UsageError(
        fmt::format("unknown shell \"{}\": use bash, zsh, fish or install\nRun '{} completion "
                    "--help' for usage.",
                    name, invocation.program));
}

} // namespace meshlink::plugin::cli
