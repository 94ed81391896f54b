#pragma once
// A verb's own flags, parsed with cxxopts, for both executables. Adds -h/--help and turns parse errors
// into UsageError (exit code 2).

#include <cxxopts.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::util {

// One flag as a verb declares it, for shell completion (plugin/completion/).
struct FlagInfo {
    std::string long_name;  // "context"
    std::string short_name; // "n", or ""
    std::string description;
    bool takes_value = false;
};

class VerbOptions {
public:
    // While an observer is installed, parse() hands it the verb's flags and returns nullopt, as for --help,
    // without printing: the handler returns before doing anything. Shell completion runs the real handlers
    // this way, so the flags it offers are the ones they declare (no second list to drift). Not thread-safe:
    // install it around one handler call on one thread.
    using Observer = std::function<void(const std::vector<FlagInfo>&)>;
    static void set_observer(Observer observer);

    // `program` is how the user ran us ("kubectl meshlink"); `usage` the line after it, e.g.
    // "version [--server]"; `description` a short paragraph.
    VerbOptions(std::string program, std::string usage, std::string description);

    cxxopts::OptionAdder add() { return m_options.add_options(); }

    // Parses `args` (the verb's arguments). Returns nullopt after printing help on stdout for -h/--help.
    std::optional<cxxopts::ParseResult> parse(const std::vector<std::string>& args);

    // Positional arguments left after the flags.
    static std::vector<std::string> positionals(const cxxopts::ParseResult& result);

    // The directory flag --`name`, which must name an existing directory (else a UsageError saying why), or
    // `fallback` when the flag is absent.
    static std::filesystem::path directory(const cxxopts::ParseResult& result, const std::string& name,
                                           std::string_view fallback);

    [[nodiscard]] std::string help() const;

private:
    cxxopts::Options m_options;
    std::string m_program;
    std::string m_usage;
};

} // namespace meshlink::util
