#include "util/cli_options.hpp"

#include "util/error.hpp"

#include <iostream>
#include <system_error>

namespace meshlink::util {
namespace {

VerbOptions::Observer& observer() {
    static VerbOptions::Observer installed;
    return installed;
}

} // namespace

void VerbOptions::set_observer(Observer installed) {
    observer() = std::move(installed);
}

VerbOptions::VerbOptions(std::string program, std::string usage, std::string description)
    : m_options(program, std::move(description)), m_program(std::move(program)), m_usage(std::move(usage)) {
    m_options.custom_help(m_usage);
    m_options.positional_help("");
    m_options.add_options()("h,help", "Show this help")("positional", "",
                                                        cxxopts::value<std::vector<std::string>>());
    m_options.parse_positional({"positional"});
}

std::string VerbOptions::help() const {
    std::string text = m_options.help({""});
    text += "\nExit codes: 0 success, 1 checks failed, 2 usage or runtime error.\n";
    return text;
}

std::optional<cxxopts::ParseResult> VerbOptions::parse(const std::vector<std::string>& args) {
    if (observer()) {
        std::vector<FlagInfo> flags;
        for (const auto& detail : m_options.group_help("").options) {
            if (detail.l.empty() || detail.l.front() == "positional") {
                continue;
            }
            flags.push_back({detail.l.front(), detail.s, detail.desc, !detail.is_boolean});
        }
        observer()(flags);
        return std::nullopt;
    }
    std::vector<const char*> argv;
    argv.push_back(m_program.c_str());
    for (const auto& arg : args) {
        argv.push_back(arg.c_str());
    }
    try {
        auto result = m_options.parse(static_cast<int>(argv.size()), argv.data());
        if (result.count("help") > 0) {
            std::cout << help();
            return std::nullopt;
        }
        return result;
    } catch (const cxxopts::exceptions::exception& error) {
        const std::string verb = m_usage.substr(0, m_usage.find(' '));
        throw UsageError(std::string(error.what()) + "\nRun '" + m_program + " " + verb +
                         " --help' for usage.");
    }
}

std::filesystem::path VerbOptions::directory(const cxxopts::ParseResult& result, const std::string& name,
                                             std::string_view fallback) {
    if (result.count(name) == 0) {
        return std::filesystem::path(fallback);
    }
    const std::filesystem::path path = result[name].as<std::string>();
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec)) {
        throw UsageError("--" + name + " " + path.string() + ": " +
                         (ec ? ec.message() : std::string("not a directory")));
    }
    return path;
}

std::vector<std::string> VerbOptions::positionals(const cxxopts::ParseResult& result) {
    // No default value: cxxopts would turn an empty default into one empty positional.
    if (result.count("positional") == 0) {
        return {};
    }
    return result["positional"].as<std::vector<std::string>>();
}

} // namespace meshlink::util
