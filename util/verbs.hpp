#pragma once
// Verb tables: `kubectl meshlink <verb>`, `kubectl meshlink agent <verb>`, `meshlink-agent <verb>`, ... are
// each a table of rows, and one function picks the row an argument list names, with "did you mean" for a
// typo.

#include "util/error.hpp"

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshlink::util {

// One row: the verb's word, its one-line summary in the help listing, and what runs it.
template <typename Handler>
struct Verb {
    std::string_view name;
    std::string_view summary;
    Handler handler;
};

// How the messages about a table name it.
struct VerbTableText {
    std::string command;      // the words before the verb: "kubectl meshlink agent"
    std::string help_command; // what shows the table's help: "kubectl meshlink agent --help"
};

// A flag spelling that stands for a verb, e.g. {"--version", "version"}.
using VerbAlias = std::pair<std::string_view, std::string_view>;

// Removes and returns the word that names the verb: the first argument, or "help" when there is none or it
// is -h/--help; an alias's verb for an alias.
std::string take_verb_word(std::vector<std::string>& args, std::initializer_list<VerbAlias> aliases = {});

// Throws UsageError for a word no row has:
//   unknown command "<word>" for "<command>"
//
//   Did you mean this?
//   	<the closest name, when one is close>
//   Run '<help_command>' for usage.
[[noreturn]] void throw_unknown_verb(std::string_view word, const std::vector<std::string_view>& names,
                                     const VerbTableText& text);

// Takes the verb word off `args` (take_verb_word) and returns its row. Returns nullptr when help was asked of
// a table that has no "help" row (no argument, -h, --help or "help"): the caller prints the table's help.
// Any other word no row has throws UsageError (throw_unknown_verb).
template <typename Rows>
const auto* pick_verb(const Rows& rows, std::vector<std::string>& args, const VerbTableText& text,
                      std::initializer_list<VerbAlias> aliases = {}) {
    const std::string word = take_verb_word(args, aliases);
    std::vector<std::string_view> names;
    for (const auto& row : rows) {
        if (row.name == word) {
            return &row;
        }
        names.push_back(row.name);
    }
    if (word == "help") {
        return static_cast<decltype(&*std::begin(rows))>(nullptr);
    }
    throw_unknown_verb(word, names, text);
}

// The help listing: "  <name><summary>\n" a row, names padded to `column` characters and followed by at
// least two spaces.
template <typename Rows>
std::string verb_list(const Rows& rows, std::size_t column) {
    std::string out;
    for (const auto& row : rows) {
        std::string name(row.name);
        name.resize(std::max(name.size() + 2, column), ' ');
        out += "  " + name + std::string(row.summary) + "\n";
    }
    return out;
}

} // namespace meshlink::util
