#pragma once
// The node's distribution from os-release(5): ID, ID_LIKE, VERSION_ID, PLATFORM_ID and the names.

#include "probe/host.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::probe {

struct OsRelease {
    std::map<std::string, std::string> fields; // every well-formed KEY=value line, quotes and escapes removed
    std::vector<std::string> problems;         // "line 3: unterminated quote" (at most a few)
    std::string source;                        // the file read; empty when none could be read
    std::string error;                         // why nothing could be read

    // The value of `key`, or "" when absent.
    [[nodiscard]] std::string get(std::string_view key) const;
    // ID_LIKE split on spaces ("rhel centos fedora").
    [[nodiscard]] std::vector<std::string> id_like() const;
    // True when ID or ID_LIKE names `id`.
    [[nodiscard]] bool is_like(std::string_view id) const;
};

// Parses os-release text with the shell-like quoting the format allows. Malformed lines are skipped and
// listed in `problems`; a later valid assignment of the same key wins, as in the shell.
OsRelease parse_os_release(std::string_view text);

// Reads <root>/etc/os-release, else <root>/usr/lib/os-release (the fallback os-release(5) defines).
OsRelease read_os_release(const Host& host);

} // namespace meshlink::probe
