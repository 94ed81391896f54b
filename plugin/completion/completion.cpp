#include "plugin/completion/completion.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <streambuf>

namespace meshlink::plugin::completion {
namespace {

// Captures what `body` prints on std::cout.
std::string captured(const std::function<void()>& body) {
    std::ostringstream text;
    std::streambuf* previous = std::cout.rdbuf(text.rdbuf());
    try {
        body();
    } catch (...) {
        std::cout.rdbuf(previous);
        throw;
    }
    std::cout.rdbuf(previous);
    return text.str();
}

std::string trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    return std::string(text);
}

// "  name     summary" lines after "Commands:", up to the next blank line.
std::vector<std::pair<std::string, std::string>> commands_section(const std::string& help) {
    std::vector<std::pair<std::string, std::string>> out;
    std::istringstream lines(help);
    bool inside = false;
    for (std::string line; std::getline(lines, line);) {
        if (!inside) {
            inside = line == "Commands:";
            continue;
        }
        if (trim(line).empty()) {
            break;
        }
        const std::string entry = trim(line);
        const auto gap = entry.find(' ');
        out.emplace_back(entry.substr(0, gap), gap == std::string::npos ? "" : trim(entry.substr(gap)));
    }
    return out;
}

// The global flags as `help` lists them: "  -n, --namespace NAME   Namespace ..." or "      --user NAME ...".
std::vector<util::FlagInfo> global_flags_section(const std::string& help) {
    std::vector<util::FlagInfo> out;
    std::istringstream lines(help);
    bool inside = false;
    for (std::string line; std::getline(lines, line);) {
        if (!inside) {
            inside = line.starts_with("Global flags");
            continue;
        }
        const std::string text = trim(line);
        if (text.empty()) {
            break;
        }
        util::FlagInfo flag;
        std::string_view view(text);
        if (view.size() > 4 && view[0] == '-' && view[1] != '-' && view.substr(2, 2) == ", ") {
            flag.short_name = std::string(view.substr(1, 1));
            view.remove_prefix(4);
        }
        if (!view.starts_with("--")) {
            continue;
        }
        view.remove_prefix(2);
        const auto name_end = view.find(' ');
        flag.long_name = std::string(view.substr(0, name_end));
        view = name_end == std::string_view::npos ? std::string_view() : view.substr(name_end);
        const std::string after = trim(view);
        // A metavariable (FILE, NAME, DUR, LEVEL, FORMAT) before the two-space gap means the flag takes a
        // value.
        const auto gap = after.find("  ");
        const std::string first = after.substr(0, after.find(' '));
        flag.takes_value = !first.empty() && std::all_of(first.begin(), first.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || c == '_';
        });
        flag.description = trim(flag.takes_value && gap != std::string::npos ? after.substr(gap) : after);
        out.push_back(std::move(flag));
    }
    return out;
}

// "(table|json|yaml)" at the end of a description.
std::vector<std::string> alternatives(const std::string& description) {
    const auto open = description.rfind('(');
    const auto close = description.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open ||
        description.find('|', open) == std::string::npos) {
        return {};
    }
    std::vector<std::string> out;
    std::string_view inner(description);
    inner = inner.substr(open + 1, close - open - 1);
    while (!inner.empty()) {
        const auto bar = inner.find('|');
        out.emplace_back(inner.substr(0, bar));
        inner = bar == std::string_view::npos ? std::string_view() : inner.substr(bar + 1);
    }
    return out;
}

std::vector<util::FlagInfo> flags_of(const Source& source, const std::string& verb,
                                     const std::vector<std::string>& args, std::string* help) {
    std::vector<util::FlagInfo> flags;
    util::VerbOptions::set_observer([&](const std::vector<util::FlagInfo>& declared) { flags = declared; });
    try {
        std::string text = captured([&] { source.run(verb, args); });
        if (help != nullptr) {
            *help = std::move(text);
        }
    } catch (...) {
        // A handler that refuses these arguments declares nothing to complete.
    }
    util::VerbOptions::set_observer(nullptr);
    return flags;
}

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

const util::FlagInfo* find_flag(const std::vector<const std::vector<util::FlagInfo>*>& sets,
                                std::string_view name, bool is_short) {
    for (const auto* set : sets) {
        for (const auto& flag : *set) {
            if ((is_short ? flag.short_name : flag.long_name) == name) {
                return &flag;
            }
        }
    }
    return nullptr;
}

const Command* find_command(const std::vector<Command>& commands, std::string_view name) {
    for (const auto& command : commands) {
        const auto space = command.name.rfind(' ');
        const std::string_view last = space == std::string::npos
                                          ? std::string_view(command.name)
                                          : std::string_view(command.name).substr(space + 1);
        if (last == name) {
            return &command;
        }
    }
    return nullptr;
}

// What a flag's value is, by the flag's name; the same names mean the same thing in every verb.
enum class ValueKind { none, context, cluster, user, format, file, directory };

ValueKind flag_value_kind(std::string_view name) {
    if (name == "context" || name == "peer") {
        return ValueKind::context;
    }
    if (name == "cluster") {
        return ValueKind::cluster;
    }
    if (name == "user") {
        return ValueKind::user;
    }
    if (name == "output") {
        return ValueKind::format;
    }
    if (name == "kubeconfig" || name == "peer-kubeconfig" || name == "into") {
        return ValueKind::file;
    }
    if (name == "dir" || name == "root" || name == "proc" || name == "sys") {
        return ValueKind::directory;
    }
    return ValueKind::none;
}

// What a command's positional arguments are (its usage line says so: PEER, CONTEXT, FILE).
ValueKind positional_kind(std::string_view command) {
    if (command == "join" || command == "leave" || command == "kubeconfig export") {
        return ValueKind::context;
    }
    if (command == "kubeconfig merge") {
        return ValueKind::file;
    }
    return ValueKind::none;
}

} // namespace

Model describe(const Source& source) {
    Model model;
    const std::string help = captured(source.print_help);
    model.global_flags = global_flags_section(help);
    for (const auto& flag : model.global_flags) {
        if (flag.long_name == "output") {
            model.output_formats = alternatives(flag.description);
        }
    }
    for (const auto& verb : source.verbs) {
        if (verb.name == "help") {
            continue;
        }
        Command command{verb.name, verb.summary, {}, {}};
        std::string verb_help;
        command.flags = flags_of(source, verb.name, {"--help"}, &verb_help);
        for (const auto& [name, summary] : commands_section(verb_help)) {
            Command sub{
                verb.name + " " + name, summary, flags_of(source, verb.name, {name, "--help"}, nullptr), {}};
            command.subcommands.push_back(std::move(sub));
        }
        model.commands.push_back(std::move(command));
    }
    return model;
}

Completion complete(const Model& model, const std::vector<std::string>& words,
                    const std::function<Names(const std::string& kubeconfig)>& names) {
    Completion result;
    if (words.empty()) {
        return complete(model, {""}, names);
    }
    const std::string& partial = words.back();
    const Command* verb = nullptr;
    const Command* sub = nullptr;
    const util::FlagInfo* expecting = nullptr;
    std::string kubeconfig;
    bool only_positionals = false;
    std::size_t positionals = 0;
    const auto flag_sets = [&] {
        std::vector<const std::vector<util::FlagInfo>*> sets{&model.global_flags};
        if (sub != nullptr) {
            sets.push_back(&sub->flags);
        } else if (verb != nullptr) {
            sets.push_back(&verb->flags);
        }
        return sets;
    };
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
        const std::string& word = words[i];
        if (expecting != nullptr) {
            if (expecting->long_name == "kubeconfig") {
                kubeconfig = word;
            }
            expecting = nullptr;
            continue;
        }
        if (!only_positionals && word == "--") {
            only_positionals = true;
            continue;
        }
        if (!only_positionals && word.size() > 2 && starts_with(word, "--")) {
            const auto equals = word.find('=');
            const std::string name =
                word.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
            const util::FlagInfo* flag = find_flag(flag_sets(), name, false);
            if (flag != nullptr && flag->takes_value) {
                if (equals == std::string::npos) {
                    expecting = flag;
                } else if (name == "kubeconfig") {
                    kubeconfig = word.substr(equals + 1);
                }
            }
            continue;
        }
        if (!only_positionals && word.size() >= 2 && word[0] == '-') {
            const util::FlagInfo* flag = find_flag(flag_sets(), word.substr(1, 1), true);
            if (flag != nullptr && flag->takes_value && word.size() == 2) {
                expecting = flag;
            }
            continue;
        }
        if (verb == nullptr) {
            verb = find_command(model.commands, word);
            if (verb == nullptr) {
                return result; // an unknown verb: nothing to offer
            }
        } else if (!verb->subcommands.empty() && sub == nullptr) {
            sub = find_command(verb->subcommands, word);
            if (sub == nullptr) {
                return result;
            }
        } else {
            ++positionals;
        }
    }

    std::string value_prefix; // "--context=" when the value is completed inside the flag's word
    std::string_view typed = partial;
    ValueKind kind = ValueKind::none;
    bool want_value = false;
    if (expecting != nullptr) {
        kind = flag_value_kind(expecting->long_name);
        want_value = true;
    } else if (starts_with(partial, "--") && partial.find('=') != std::string::npos) {
        const auto equals = partial.find('=');
        const util::FlagInfo* flag = find_flag(flag_sets(), partial.substr(2, equals - 2), false);
        if (flag != nullptr && flag->takes_value) {
            kind = flag_value_kind(flag->long_name);
            want_value = true;
            value_prefix = partial.substr(0, equals + 1);
            typed = std::string_view(partial).substr(equals + 1);
        }
    }
    const auto offer = [&](const std::string& value, const std::string& description) {
        if (starts_with(value, typed)) {
            result.candidates.push_back({value_prefix + value, description});
        }
    };
    const auto offer_values = [&](ValueKind value_kind) {
        switch (value_kind) {
        case ValueKind::context:
        case ValueKind::cluster:
        case ValueKind::user: {
            const Names found = names(kubeconfig);
            const auto& list = value_kind == ValueKind::context   ? found.contexts
                               : value_kind == ValueKind::cluster ? found.clusters
                                                                  : found.users;
            for (const auto& name : list) {
                offer(name, "");
            }
            break;
        }
        case ValueKind::format:
            for (const auto& format : model.output_formats) {
                offer(format, "");
            }
            break;
        case ValueKind::file:
            result.directive = k_directive_default;
            break;
        case ValueKind::directory:
            result.directive = 16; // FilterDirs
            break;
        case ValueKind::none:
            break;
        }
    };

    if (want_value) {
        offer_values(kind);
        return result;
    }
    if (!only_positionals && starts_with(partial, "-")) {
        for (const auto* set : flag_sets()) {
            for (const auto& flag : *set) {
                if (flag.long_name == "help") {
                    continue;
                }
                offer("--" + flag.long_name, flag.description);
            }
        }
        return result;
    }
    if (verb == nullptr) {
        for (const auto& command : model.commands) {
            offer(command.name, command.summary);
        }
        return result;
    }
    if (!verb->subcommands.empty() && sub == nullptr) {
        for (const auto& command : verb->subcommands) {
            offer(command.name.substr(command.name.rfind(' ') + 1), command.summary);
        }
        return result;
    }
    (void)positionals;
    offer_values(positional_kind(sub != nullptr ? sub->name : verb->name));
    return result;
}

std::string format_cobra(const Completion& completion) {
    std::string out;
    for (const auto& candidate : completion.candidates) {
        out += candidate.value;
        if (!candidate.description.empty()) {
            out += '\t';
            out += candidate.description;
        }
        out += '\n';
    }
    out += fmt::format(":{}\n", completion.directive);
    return out;
}

// The words go after "--": kubectl-meshlink parses global flags anywhere before it, and would take
// "--context" "" of the line being completed for its own.
std::string helper_script() {
    return "#!/bin/sh\n"
           "# kubectl (1.26 or newer) runs this to complete \"kubectl meshlink ...\": it passes the words "
           "after\n"
           "# \"meshlink\" and prints kubectl-meshlink's candidates. Written by `kubectl meshlink completion "
           "install`.\n"
           "exec kubectl-meshlink completion __complete -- \"$@\"\n";
}

std::string script(std::string_view shell, std::string_view command) {
    std::string function = "_" + std::string(command);
    std::replace(function.begin(), function.end(), '-', '_');
    if (shell == "bash") {
        return fmt::format(R"(# bash completion for {0}; load with: source <({0} completion bash)
{1}() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} out directive line
    out=$("${{COMP_WORDS[0]}}" completion __complete -- "${{COMP_WORDS[@]:1:COMP_CWORD}}" 2>/dev/null) || return
    directive=${{out##*:}}
    out=${{out%:*}}
    COMPREPLY=()
    local IFS=$'\n'
    for line in $out; do
        COMPREPLY+=("${{line%%$'\t'*}}")
    done
    if (( ${{#COMPREPLY[@]}} == 0 )); then
        if (( directive & 16 )); then
            COMPREPLY=($(compgen -d -- "$cur"))
        elif (( (directive & 4) == 0 )); then
            COMPREPLY=($(compgen -f -- "$cur"))
        fi
    fi
    if (( directive & 2 )); then
        compopt -o nospace 2>/dev/null
    fi
}}
complete -F {1} {0}
)",
                           command, function);
    }
    if (shell == "zsh") {
        return fmt::format(R"(#compdef {0}
# zsh completion for {0}; load with: source <({0} completion zsh)
{1}() {{
    local out directive line
    local -a lines candidates
    out=$("${{words[1]}}" completion __complete -- "${{(@)words[2,CURRENT]}}" 2>/dev/null) || return 1
    lines=("${{(@f)out}}")
    directive=${{lines[-1]#:}}
    for line in "${{(@)lines[1,-2]}}"; do
        [[ -z $line ]] && continue
        if [[ $line == *$'\t'* ]]; then
            candidates+=("${{${{line%%$'\t'*}}//:/\\:}}:${{line#*$'\t'}}")
        else
            candidates+=("${{line//:/\\:}}")
        fi
    done
    if (( ${{#candidates}} > 0 )); then
        _describe -t values '{0}' candidates
    elif (( directive & 16 )); then
        _files -/
    elif (( (directive & 4) == 0 )); then
        _files
    fi
}}
compdef {1} {0}
)",
                           command, function);
    }
    return fmt::format(R"(# fish completion for {0}; load with: {0} completion fish | source
function _{1}
    set -l words (commandline -opc) (commandline -ct)
    {0} completion __complete -- $words[2..-1] 2>/dev/null | string match -v -r '^:'
end
complete -c {0} -f -a '(_{1})'
)",
                       command, function.substr(1));
}

} // namespace meshlink::plugin::completion
