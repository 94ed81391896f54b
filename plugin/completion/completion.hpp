#pragma once
// Shell completion for kubectl-meshlink: what the command line accepts, learnt from the CLI itself (the verb
// table, each verb's declared flags, the sub-command lists its dispatchers print, the global flags `help`
// prints), then candidates for a partial command line, in cobra's __complete protocol that kubectl (1.26+)
// reads from a plugin's `kubectl_complete-<plugin>` helper. README "Shell completion".

#include "util/cli_options.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::plugin::completion {

struct Command {
    std::string name;    // "join", or "agent install" for a sub-command
    std::string summary; // one line
    std::vector<util::FlagInfo> flags;
    std::vector<Command> subcommands;
};

struct Model {
    std::vector<util::FlagInfo> global_flags;
    std::vector<std::string> output_formats; // from the global -o flag's help
    std::vector<Command> commands;
};

// Runs each handler of the verb table in describe mode (util::VerbOptions::set_observer) to collect the
// model. `help_text` and `describe` are the CLI's own: `help_text()` prints the top-level help,
// `describe(verb, args)` runs a verb handler with those arguments.
struct Source {
    struct Verb {
        std::string name;
        std::string summary;
    };
    std::vector<Verb> verbs;
    std::function<void()> print_help; // prints to std::cout
    std::function<void(const std::string& verb, const std::vector<std::string>& args)> run; // may print
};
Model describe(const Source& source);

// Values the model cannot know: the kubeconfig's names.
struct Names {
    std::vector<std::string> contexts;
    std::vector<std::string> clusters;
    std::vector<std::string> users;
};

struct Candidate {
    std::string value;
    std::string description;
};

// cobra's ShellCompDirective bits.
inline constexpr int k_directive_default = 0; // the shell may complete file names
inline constexpr int k_directive_no_space = 2;
inline constexpr int k_directive_no_file = 4;

struct Completion {
    std::vector<Candidate> candidates;
    int directive = k_directive_no_file;
};

// Candidates for the last word of `words` (the arguments after "meshlink"; the last may be "" for a new
// word). `names` is called only when a kubeconfig name is wanted, with the --kubeconfig given on the line (or
// "").
Completion complete(const Model& model, const std::vector<std::string>& words,
                    const std::function<Names(const std::string& kubeconfig)>& names);

// cobra's output: one "value\tdescription" per line, then ":<directive>".
std::string format_cobra(const Completion& completion);

// Scripts for `completion bash|zsh|fish` (the standalone kubectl-meshlink command; `kubectl meshlink`
// completes through kubectl and the helper), and the helper itself.
std::string script(std::string_view shell, std::string_view command);
std::string helper_script();

} // namespace meshlink::plugin::completion
