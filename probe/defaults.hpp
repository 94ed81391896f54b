#pragma once
// Every threshold the probe judges by, every key, name, interval and limit of the node report
// (node_report.hpp), and the names and limits of the kernel rollout's shared documents (kernel_rollout.hpp),
// written once: the agent writes by these and the plugin reads by them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace meshlink::probe::defaults {

// /boot space a kernel-ml install needs (vmlinuz, initramfs, System.map, and the rescue image some
// distributions add): below it node.boot warns (README "Preflight"); the stage itself asks rpm.
inline constexpr std::uint64_t k_min_boot_free_bytes = 200ull * 1024 * 1024;

// The node report: the annotation and labels on each Node, and the per-node Lease that says the agent is
// alive (in the agent's namespace, where `kubectl meshlink agent install` puts it).
inline constexpr std::string_view k_report_annotation = "meshlink.io/node-report";
inline constexpr std::string_view k_kernel_ready_label = "meshlink.io/kernel-ready";
inline constexpr std::string_view k_kernel_version_label = "meshlink.io/kernel-version";
inline constexpr std::string_view k_agent_namespace = "meshlink-system";
inline constexpr std::string_view k_lease_prefix = "meshlink-agent-"; // + the node name (or its digest)
inline constexpr std::string_view k_agent_name = "meshlink-agent";    // app.kubernetes.io/name of its objects

// The agent probes (and renews its Lease) every interval: this one unless --interval says otherwise, and
// readers assume it for a report without intervalSeconds. A report is stale once its agent has missed this
// many intervals: the Lease is held for that long, and a report without a Lease is judged by observedAt.
inline constexpr std::chrono::seconds k_report_interval{600};
inline constexpr std::chrono::seconds k_min_report_interval{1};
inline constexpr std::chrono::seconds k_max_report_interval{7 * 24 * 3600};
inline constexpr int k_stale_intervals = 3;

// What the reader accepts from a node before parsing (README "Node reports are data"): the API server keeps
// all annotations of an object within 256 KiB, so a larger report did not come through it; the document is
// 5 levels deep, and 32 leaves room for additions while keeping every recursive walk of it (compare,
// copy, serialize) shallow.
inline constexpr std::size_t k_max_report_bytes = 256 * 1024;
inline constexpr int k_max_report_depth = 32;
// The kernel rollout's plan and records nest a few levels: deeper is refused before a document is built.
inline constexpr int k_max_rollout_document_depth = 32;

// The kernel rollout (README "Kernel rollout across a cluster"): the plan, the lock, each node's progress,
// and the privileged workload that exists only while a rollout runs, all in the agent's namespace.
inline constexpr std::string_view k_rollout_namespace = k_agent_namespace;
inline constexpr std::string_view k_rollout_plan_configmap = "meshlink-kernel-plan";
inline constexpr std::string_view k_rollout_plan_key = "plan.json";
// Named apart from the agents' own per-node liveness Leases (meshlink-agent-<node>).
inline constexpr std::string_view k_rollout_lease = "meshlink-kernel-rollout";
inline constexpr std::string_view k_rollout_progress_annotation = "meshlink.io/kernel-upgrade";
inline constexpr std::string_view k_rollout_id_annotation = "meshlink.io/kernel-rollout"; // on the Lease
inline constexpr std::string_view k_rollout_pins_annotation = "meshlink.io/kernel-pins";  // on the Lease
inline constexpr std::string_view k_rollout_halt_annotation = "meshlink.io/kernel-halt";  // on the Lease
inline constexpr std::string_view k_kernel_workload = "meshlink-kernel"; // DaemonSet, ServiceAccount, RBAC
// The Lease's leaseDurationSeconds: how often holders renew it. A hold that was not renewed is reported by
// `kernel status`, never taken away.
inline constexpr std::chrono::seconds k_rollout_lease_duration{60};
// Defaults of `kernel upgrade`.
inline constexpr int k_rollout_max_unavailable = 1;
inline constexpr std::chrono::seconds k_rollout_drain_timeout{600};
inline constexpr std::chrono::seconds k_rollout_health_timeout{600};
// What a reader accepts from the cluster: a plan lists at most this many nodes (a ConfigMap holds 1 MiB), a
// message is cut to this length, a repository key (a public key, armored) is at most this large.
inline constexpr std::size_t k_rollout_max_nodes = 2000;
inline constexpr std::size_t k_rollout_max_message = 1024;
inline constexpr std::size_t k_rollout_max_key_bytes = 64 * 1024;
inline constexpr std::chrono::seconds k_rollout_max_timeout{7 * 24 * 3600};

} // namespace meshlink::probe::defaults
