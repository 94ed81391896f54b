#pragma once
// Where `meshlink-agent serve` logs: the node's journal (journald's native protocol on its socket, with
// priority and fields) when its socket is mounted into the pod, else stderr with a timestamp and the
// severity. Installed as the kube::log sink, so the client's own messages (-v 6 requests, retries) go to the
// same place.

#include <filesystem>
#include <string>
#include <string_view>

namespace meshlink::agent::serve {

enum class LogTarget {
    automatic, // the journal when `journal_socket` exists, else stderr
    journal,
    stderr_stream,
};

// Parses --log-target: "auto", "journal" or "stderr".
bool parse_log_target(std::string_view text, LogTarget& target);

// Installs the sink and returns where logs now go ("journal" or "stderr"). A journal request without the
// socket falls back to stderr and says so there (as does "auto" when the socket exists but cannot be used).
// `node` becomes the journal field MESHLINK_NODE on every entry.
std::string install_log_sink(LogTarget target, const std::filesystem::path& journal_socket,
                             const std::string& node);

} // namespace meshlink::agent::serve
