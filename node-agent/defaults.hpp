#pragma once
// Every path, name, annotation key, port and interval meshlink-agent uses, written once.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace meshlink::agent::defaults {

inline constexpr std::string_view k_agent_name = "meshlink-agent";

// probe: where the host's files are when nothing else is said (the DaemonSet passes --root /host).
inline constexpr std::string_view k_host_root = "/";
inline constexpr std::string_view k_host_proc = "/proc";
inline constexpr std::string_view k_host_sys = "/sys";
// probe: the node name comes from the Downward API (spec.nodeName) when set, else from the host name.
inline constexpr std::string_view k_node_name_env = "NODE_NAME";

// publish: what the agent writes on its own Node (and nothing else). `kubectl meshlink` reads the same keys
// (plugin/defaults.hpp); the annotation's document is the probe's JSON plus observedAt and intervalSeconds.
inline constexpr std::string_view k_report_annotation = "meshlink.io/node-report";
inline constexpr std::string_view k_kernel_ready_label = "meshlink.io/kernel-ready";
inline constexpr std::string_view k_kernel_version_label = "meshlink.io/kernel-version";

// serve: probe period (a Go duration), HTTP endpoints, and how a failed publish is retried before the next
// tick (exponential backoff with full jitter between these bounds).
inline constexpr std::string_view k_probe_interval = "10m";
inline constexpr std::uint16_t k_http_port = 9473;
inline constexpr std::string_view k_listen_address = "0.0.0.0";
inline constexpr std::chrono::seconds k_publish_retry_min{1};
inline constexpr std::chrono::seconds k_publish_retry_max{120};
// serve: a client must send its whole request head within the first timeout and take the response within
// the second, so a slow or stalled client cannot hold a connection (and memory) for long.
inline constexpr std::chrono::seconds k_http_head_timeout{5};
inline constexpr std::chrono::seconds k_http_write_timeout{5};
// serve: the endpoints take no parameters (kubelet's and Prometheus' request heads are a few hundred bytes);
// at most this many connections are served at once, further clients wait in the kernel's accept queue.
inline constexpr std::size_t k_max_head_bytes = 8 * 1024;
inline constexpr std::size_t k_max_connections = 64;
// serve: after the response, whatever the client still sends (an unread body) is read and dropped, this long
// and this much at most, before closing: closing with unread data resets the connection, which can destroy
// the response before the client has read it.
inline constexpr std::chrono::seconds k_linger_timeout{1};
inline constexpr std::size_t k_max_linger_bytes = 64 * 1024;
// serve: how long requests in progress may take to finish when the server stops, and the pause before
// accept() is tried again after running out of descriptors (EMFILE), instead of spinning.
inline constexpr std::chrono::seconds k_stop_grace{1};
inline constexpr std::chrono::milliseconds k_accept_pause{100};
// serve: the probe period may not be shorter than this.
inline constexpr std::chrono::seconds k_probe_interval_min{1};
// serve: a publish is two requests; with these retry bounds a flaky server costs seconds, and what still
// fails is retried by the loop's own backoff instead of holding the loop (and a SIGTERM) for minutes.
inline constexpr int k_api_attempts = 5;
inline constexpr int k_api_connect_attempts = 3;
inline constexpr std::chrono::milliseconds k_api_retry_delay{200};
inline constexpr std::chrono::seconds k_api_retry_delay_max{5};
inline constexpr std::chrono::seconds k_api_retry_after_max{10};
// serve: each API request gets this long per attempt, so a hung server cannot stall a shutdown for long.
inline constexpr std::chrono::seconds k_api_request_timeout{15};
// serve: logs go to the node's journal when this socket is mounted, else to stderr.
inline constexpr std::string_view k_journal_socket = "/run/systemd/journal/socket";

} // namespace meshlink::agent::defaults
