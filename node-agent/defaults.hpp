#pragma once
// Every path, name, annotation key, port and interval meshlink-agent uses, written once.

#include "probe/defaults.hpp"

#include <chrono>
#include <cstdint>
#include <string_view>

namespace meshlink::agent::defaults {

inline constexpr std::string_view k_agent_name = probe::defaults::k_agent_name;

// probe: where the host's files are when nothing else is said (the DaemonSet passes --root /host).
inline constexpr std::string_view k_host_root = "/";
inline constexpr std::string_view k_host_proc = "/proc";
inline constexpr std::string_view k_host_sys = "/sys";
// probe: the node name comes from the Downward API (spec.nodeName) when set, else from the host name.
inline constexpr std::string_view k_node_name_env = "NODE_NAME";

// publish: what the agent writes (the report's annotation and labels on its own Node, its Lease) and the
// probe period are the node report's, in probe/defaults.hpp: the plugin reads by the same constants.

// serve: HTTP endpoints, and how a failed publish is retried before the next tick (exponential backoff with
// full jitter between these bounds).
inline constexpr std::uint16_t k_http_port = 9473;
inline constexpr std::string_view k_listen_address = "0.0.0.0";
inline constexpr std::chrono::seconds k_publish_retry_min{1};
inline constexpr std::chrono::seconds k_publish_retry_max{120};
// serve: a client must send its whole request head within the first timeout and take the response within
// the second, so a slow or stalled client cannot hold a connection (and memory) for long.
inline constexpr std::chrono::seconds k_http_head_timeout{5};
inline constexpr std::chrono::seconds k_http_write_timeout{5};
// serve: each API request gets this long per attempt, so a hung server cannot stall a shutdown for long.
inline constexpr std::chrono::seconds k_api_request_timeout{15};
// serve: logs go to the node's journal when this socket is mounted, else to stderr.
inline constexpr std::string_view k_journal_socket = "/run/systemd/journal/socket";

} // namespace meshlink::agent::defaults
