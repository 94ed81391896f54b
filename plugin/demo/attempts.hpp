#pragma once
// Reads what the Job's client (client.sh) printed: one JSON line per attempt, then a "done" line. The log is
// the cluster's data, not ours: every line is checked (version, types, lengths) and anything else is counted
// as noise, never trusted.

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::plugin::demo {

// Why an attempt got no answer, from curl's exit code and message.
enum class Outcome {
    reply,       // an HTTP 2xx answer
    http_error,  // an HTTP answer other than 2xx
    dns,         // curl 6: the name did not resolve
    refused,     // curl 7 "Connection refused" (newer curl: "Couldn't connect to server")
    unreachable, // curl 7 "Host is unreachable", "No route to host"
    timeout,     // curl 28
    reset,       // curl 52 (empty reply), 56 (reset)
    other,
};
std::string_view to_string(Outcome outcome);

struct Attempt {
    std::string kind;   // service | pod
    std::string target; // the Service name or the pod IP
    int index = 0;
    int curl_exit = 0;
    int http = 0;
    std::string cluster; // who answered ("" = nobody said)
    std::string error;   // curl's message
    Outcome outcome = Outcome::other;
};

struct ClientRun {
    std::vector<Attempt> attempts;
    bool complete = false; // the "done" line was there
    int noise = 0;         // lines that were not the client's
};

// The line protocol both Job scripts speak (client.sh, plugin/verify/tcp_probe.sh): one JSON object per line
// with "v": 1 and a "kind", the last one {"kind": "done"}. `take` gets every other version-1 line and says
// whether it was well-formed; blank lines are skipped, everything else (longer than 4 KiB, not JSON, another
// version, refused by `take`) is counted as noise.
struct JsonLines {
    bool complete = false;
    int noise = 0;
};
JsonLines scan_json_lines(std::string_view log, const std::function<bool(const nlohmann::json&)>& take);
// A string field of at most `limit` characters; nullopt when absent, of another type or longer.
std::optional<std::string> string_field(const nlohmann::json& line, const char* key, std::size_t limit = 256);
// An integer field in 0..100000; nullopt otherwise.
std::optional<int> int_field(const nlohmann::json& line, const char* key);

// Parses the whole log. Lines longer than 4 KiB, of another version or with fields of the wrong type are
// noise; a cluster name that is not [a-z0-9.-]{1,63} is dropped.
ClientRun parse_client_log(std::string_view log);

// The outcome for one curl run.
Outcome classify(int curl_exit, int http, std::string_view error);

} // namespace meshlink::plugin::demo
