#include "util/rfc3339.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <ctime>
#include <limits>

namespace meshlink::util {
namespace {

using Clock = std::chrono::system_clock;

bool parse_digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
    if (pos + count > text.size()) {
        return false;
    }
    int value = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
        value = value * 10 + (text[i] - '0');
    }
    out = value;
    return true;
}

std::tm utc_of(std::chrono::sys_seconds time) {
    const std::time_t seconds = time.time_since_epoch().count();
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    return tm;
}

// Whole seconds since the epoch that Clock can hold with room for a fraction (its range is about
// 1678..2261 with nanosecond ticks).
constexpr std::int64_t k_clock_seconds =
    std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max()).count() - 1;

} // namespace

std::optional<Clock::time_point> parse_rfc3339_time(std::string_view text) {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (text.size() < 20 || !parse_digits(text, 0, 4, year) || text[4] != '-' ||
        !parse_digits(text, 5, 2, month) || text[7] != '-' || !parse_digits(text, 8, 2, day) ||
        (text[10] != 'T' && text[10] != 't') || !parse_digits(text, 11, 2, hour) || text[13] != ':' ||
        !parse_digits(text, 14, 2, minute) || text[16] != ':' || !parse_digits(text, 17, 2, second)) {
        return std::nullopt;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    std::chrono::nanoseconds fraction{0};
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        std::int64_t scale = 100'000'000;
        const std::size_t start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            fraction += std::chrono::nanoseconds((text[pos] - '0') * scale);
            scale /= 10;
            ++pos;
        }
        if (pos == start) {
            return std::nullopt;
        }
    }
    std::int64_t offset = 0; // seconds east of UTC
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
        ++pos;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        int off_hour = 0, off_minute = 0;
        if (!parse_digits(text, pos + 1, 2, off_hour) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
            !parse_digits(text, pos + 4, 2, off_minute) || off_hour > 23 || off_minute > 59) {
            return std::nullopt;
        }
        offset = off_hour * 3600 + off_minute * 60;
        if (text[pos] == '-') {
            offset = -offset;
        }
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != text.size()) {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    const std::int64_t utc = static_cast<std::int64_t>(::timegm(&tm)) - offset;
    if (utc < -k_clock_seconds || utc > k_clock_seconds) {
        return std::nullopt;
    }
    return Clock::time_point(std::chrono::seconds(utc)) +
           std::chrono::duration_cast<Clock::duration>(fraction);
}

std::string format_rfc3339(Clock::time_point time) {
    const std::tm tm = utc_of(std::chrono::floor<std::chrono::seconds>(time));
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string format_rfc3339_micro(Clock::time_point time) {
    const auto seconds = std::chrono::floor<std::chrono::seconds>(time);
    const std::tm tm = utc_of(seconds);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(time - seconds).count();
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
}

std::string format_compact_utc(Clock::time_point time) {
    const auto seconds = std::chrono::floor<std::chrono::seconds>(time);
    const std::tm tm = utc_of(seconds);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(time - seconds).count();
    return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
}

} // namespace meshlink::util
