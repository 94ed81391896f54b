#include "util/duration.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace meshlink::util {
namespace {

// Nanoseconds per unit, longest unit names first so "ms" is not read as "m".
struct Unit {
    std::string_view name;
    double nanos;
};
constexpr Unit k_units[] = {{"ns", 1.0}, {"us", 1e3}, {"µs", 1e3}, {"μs", 1e3},
                            {"ms", 1e6}, {"s", 1e9},  {"m", 60e9}, {"h", 3600e9}};

} // namespace

Result<std::chrono::nanoseconds> parse_go_duration(std::string_view text) {
    const std::string quoted = "\"" + std::string(text) + "\"";
    if (text == "0") {
        return std::chrono::nanoseconds{0};
    }
    if (text.empty()) {
        return fail(ErrorKind::usage, "invalid duration \"\": empty");
    }
    if (text.front() == '-') {
        return fail(ErrorKind::usage, "invalid duration " + quoted + ": must not be negative");
    }
    if (text.front() == '+') {
        text.remove_prefix(1);
    }
    double total = 0;
    while (!text.empty()) {
        std::size_t digits = 0;
        while (digits < text.size() &&
               (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
            ++digits;
        }
        if (digits == 0) {
            return fail(ErrorKind::usage, "invalid duration " + quoted + ": expected a number");
        }
        double value = 0;
        try {
            std::size_t used = 0;
            value = std::stod(std::string(text.substr(0, digits)), &used);
            if (used != digits) {
                return fail(ErrorKind::usage, "invalid duration " + quoted + ": malformed number");
            }
        } catch (const std::exception&) {
            return fail(ErrorKind::usage, "invalid duration " + quoted + ": malformed number");
        }
        text.remove_prefix(digits);
        const Unit* unit = nullptr;
        for (const auto& candidate : k_units) {
            if (text.starts_with(candidate.name) &&
                (unit == nullptr || candidate.name.size() > unit->name.size())) {
                unit = &candidate;
            }
        }
        if (unit == nullptr) {
            return fail(ErrorKind::usage,
                        "invalid duration " + quoted + ": missing or unknown unit (use ns, us, ms, s, m, h)");
        }
        text.remove_prefix(unit->name.size());
        total += value * unit->nanos;
    }
    if (total > 9.2e18) {
        return fail(ErrorKind::usage, "invalid duration " + quoted + ": too large");
    }
    return std::chrono::nanoseconds{static_cast<std::int64_t>(std::llround(total))};
}

Result<std::chrono::nanoseconds> parse_request_timeout(std::string_view text) {
    if (!text.empty() && std::all_of(text.begin(), text.end(),
                                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        if (text.size() > 12) {
            return fail(ErrorKind::usage, "invalid timeout value \"" + std::string(text) + "\": too large");
        }
        return std::chrono::nanoseconds{std::chrono::seconds{std::stoll(std::string(text))}};
    }
    auto parsed = parse_go_duration(text);
    if (!parsed) {
        // client-go's wording, so users recognise it.
        return fail(ErrorKind::usage,
                    "invalid timeout value. Timeout must be a single integer in seconds, or an "
                    "integer followed by a corresponding time unit (e.g. 1s | 2m | 3h): " +
                        parsed.error().message);
    }
    return parsed;
}

std::string format_duration(std::chrono::nanoseconds duration) {
    using namespace std::chrono;
    const auto ms = duration_cast<milliseconds>(duration).count();
    if (ms < 1000) {
        return fmt::format("{}ms", ms);
    }
    const auto hours = ms / 3'600'000;
    const auto minutes = ms / 60'000 % 60;
    const double seconds = static_cast<double>(ms % 60'000) / 1000.0;
    std::string secs = fmt::format("{:g}s", seconds);
    if (hours > 0) {
        return fmt::format("{}h{}m{}", hours, minutes, secs);
    }
    if (minutes > 0) {
        return fmt::format("{}m{}", minutes, secs);
    }
    return secs;
}

} // namespace meshlink::util
