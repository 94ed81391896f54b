#include "plugin/cli/global_flags.hpp"

#include "util/duration.hpp"

#include <array>
#include <charconv>
#include <string_view>

namespace meshlink::plugin::cli {
namespace {

struct FlagSpec {
    std::string_view long_name;  // without "--"
    std::string_view short_name; // without "-", may be empty
};

constexpr std::array k_flags{
    FlagSpec{"kubeconfig", ""}, FlagSpec{"context", ""},    FlagSpec{"cluster", ""},
    FlagSpec{"user", ""},       FlagSpec{"namespace", "n"}, FlagSpec{"request-timeout", ""},
    FlagSpec{"v", "v"},         FlagSpec{"output", "o"},
};

util::Result<void> assign(GlobalFlags& flags, std::string_view name, const std::string& value) {
    if (name == "kubeconfig") {
        flags.kubeconfig = value;
    } else if (name == "context") {
        flags.context = value;
    } else if (name == "cluster") {
        flags.cluster = value;
    } else if (name == "user") {
        flags.user = value;
    } else if (name == "namespace") {
        flags.namespace_name = value;
    } else if (name == "request-timeout") {
        auto timeout = util::parse_request_timeout(value);
        if (!timeout) {
            return util::fail(util::ErrorKind::usage,
                              "invalid argument \"" + value +
                                  "\" for \"--request-timeout\": " + timeout.error().message);
        }
        flags.request_timeout = *timeout;
    } else if (name == "output") {
        flags.output = value;
    } else if (name == "v") {
        int level = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), level);
        if (ec != std::errc() || end != value.data() + value.size() || level < 0) {
            return util::fail(util::ErrorKind::usage,
                              "invalid argument \"" + value +
                                  "\" for \"-v, --v\": expected a non-negative integer");
        }
        flags.verbosity = level;
    }
    return {};
}

// Matches `arg` against the global flags. Returns the flag's long name and, when attached, its value.
std::optional<std::pair<std::string_view, std::optional<std::string>>> match(const std::string& arg) {
    if (arg.size() < 2 || arg[0] != '-') {
        return std::nullopt;
    }
    const bool is_long = arg[1] == '-';
    std::string_view body = std::string_view(arg).substr(is_long ? 2 : 1);
    for (const auto& spec : k_flags) {
        if (is_long) {
            // "--v" is accepted like kubectl's klog flag.
            if (body == spec.long_name) {
                return std::pair{spec.long_name, std::optional<std::string>{}};
            }
            if (body.starts_with(spec.long_name) && body.size() > spec.long_name.size() &&
                body[spec.long_name.size()] == '=') {
                return std::pair{spec.long_name,
                                 std::optional<std::string>(body.substr(spec.long_name.size() + 1))};
            }
        } else if (!spec.short_name.empty() && body.starts_with(spec.short_name)) {
            std::string_view rest = body.substr(spec.short_name.size());
            if (rest.empty()) {
                return std::pair{spec.long_name, std::optional<std::string>{}};
            }
            if (rest.front() == '=') {
                rest.remove_prefix(1);
            }
            return std::pair{spec.long_name, std::optional<std::string>(rest)};
        }
    }
    return std::nullopt;
}

} // namespace

util::Result<SplitArgs> split_global_flags(const std::vector<std::string>& args) {
    SplitArgs split;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            split.rest.insert(split.rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
            break;
        }
        auto matched = match(arg);
        if (!matched) {
            split.rest.push_back(arg);
            continue;
        }
        auto [name, value] = *matched;
        if (!value) {
            if (i + 1 >= args.size()) {
                return util::fail(util::ErrorKind::usage, "flag needs an argument: " + arg);
            }
            value = args[++i];
        }
        if (auto assigned = assign(split.flags, name, *value); !assigned) {
            return std::unexpected(assigned.error());
        }
    }
    return split;
}

} // namespace meshlink::plugin::cli
