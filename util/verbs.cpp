#include "util/verbs.hpp"

#include "util/suggest.hpp"

namespace meshlink::util {

std::string take_verb_word(std::vector<std::string>& args, std::initializer_list<VerbAlias> aliases) {
    if (args.empty()) {
        return "help";
    }
    std::string word = args.front();
    args.erase(args.begin());
    if (word == "-h" || word == "--help") {
        return "help";
    }
    for (const auto& [alias, verb] : aliases) {
        if (word == alias) {
            return std::string(verb);
        }
    }
    return word;
}

void throw_unknown_verb(std::string_view word, const std::vector<std::string_view>& names,
                        const VerbTableText& text) {
    std::string message = "unknown command \"" + std::string(word) + "\" for \"" + text.command + "\"";
    if (auto suggestion = closest_match(word, names)) {
        message += "\n\nDid you mean this?\n\t" + *suggestion;
    }
    throw UsageError(message + "\nRun '" + text.help_command + "' for usage.");
}

} // namespace meshlink::util
