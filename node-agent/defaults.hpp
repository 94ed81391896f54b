#pragma once
// Every path, name, annotation key, port and interval meshlink-agent uses, written once.

#include "probe/defaults.hpp"
#include "probe/kernel_release.hpp"

#include <chrono>
#include <cstddef>
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
// serve: the endpoints take no parameters (kubelet's and Prometheus' request heads are a few hundred bytes).
inline constexpr std::size_t k_max_head_bytes = 8 * 1024;
// serve: at most this many connections are held at once (each costs a descriptor and up to a request head of
// memory). The server never leaves a client waiting in the kernel's accept queue because of the cap: when it
// is reached, the oldest connection that has not finished its request head (or is only lingering after its
// answer) is closed to make room, so idle or slow clients cannot starve kubelet's probes (README
// "Endpoints"). At most a batch of connections is accepted per round, so a connection just accepted is read
// at least once before newer ones can push it out.
inline constexpr std::size_t k_max_connections = 256;
inline constexpr std::size_t k_accept_batch = 64;
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

// capabilities: the one DaemonSet adds SYS_ADMIN and SYS_RESOURCE for the old kernels that need them;
// `probe` and `serve` drop them at start on kernels that do not (README "The DaemonSet",
// docs/kernel-requirements.md "Capabilities of the BPF probes"). From 5.8 the kernel has CAP_BPF and
// CAP_PERFMON, and BPF, PERFMON and NET_ADMIN cover every program type, map type and helper the probe asks
// about; from 5.11 BPF memory is charged to the memory cgroup, not RLIMIT_MEMLOCK, so raising that limit
// (SYS_RESOURCE) buys nothing. The kernel must also list CAP_BPF among its capabilities (cap_last_cap).
inline constexpr probe::KernelVersion k_no_sys_admin_from{5, 8, 0};
inline constexpr probe::KernelVersion k_no_sys_resource_from{5, 11, 0};
inline constexpr std::string_view k_cap_last_cap_file = "/proc/sys/kernel/cap_last_cap";
// The BPF JIT sysctls bpf_jit_harden, bpf_jit_kallsyms and bpf_jit_limit exist only in the host's network
// namespace and the kernel lets only SYS_ADMIN read them: where this process sees them (`probe` run on a
// host, never the DaemonSet's pod, which has no hostNetwork), SYS_ADMIN stays so that the report keeps them.
inline constexpr std::string_view k_jit_harden_sysctl_file = "/proc/sys/net/core/bpf_jit_harden";
// capabilities: tests compare the probe's report with and without the drop.
inline constexpr std::string_view k_keep_capabilities_flag = "keep-capabilities";

// kernel: ELRepo's RPM signing keys, trusted by full v4 fingerprint only (node-agent/kernel/keys/README.md).
// EL7 trusts only v1, EL10 only v2, EL8 and EL9 both, as ELRepo's elrepo-release lists them per release.
inline constexpr std::string_view k_elrepo_key_v1_fingerprint = "96C0104F631547311E0BB1AE309BC305BAADAE52";
inline constexpr std::string_view k_elrepo_key_v2_fingerprint = "B8A755874DA240C9DAC4E71551600989EAA31D4A";
// kernel: ELRepo's kernel repository for EL8+ ({} = the EL major version); plain http, as in ELRepo's own
// repo files, because integrity rests on the pinned keys. EL7 is archive-only: --repo-url is required.
inline constexpr std::string_view k_elrepo_kernel_url = "http://elrepo.org/linux/kernel/el{}/$basearch/";
// kernel: the repository exists only on dnf's command line (--repofrompath), under this id, for one command;
// nothing is written to /etc/yum.repos.d, so no later `dnf update` can pull ELRepo's perf or bpftool.
inline constexpr std::string_view k_kernel_repo_id = "meshlink-kernel";
// kernel: the trial record on the host, and where scratch directories go on the host (nsenter mode).
inline constexpr std::string_view k_kernel_trial_record = "/var/lib/meshlink/kernel-trial.json";
inline constexpr std::string_view k_kernel_scratch_parent = "/var/tmp";
// kernel: GRUB's files on EL (the grubenv may be a symlink into the ESP on EL8 UEFI; grub2-editenv follows
// it).
inline constexpr std::string_view k_grubenv = "/boot/grub2/grubenv";
inline constexpr std::string_view k_grub_cfg = "/boot/grub2/grub.cfg";
inline constexpr std::string_view k_default_grub = "/etc/default/grub";
inline constexpr std::string_view k_bls_entries = "/boot/loader/entries";
// kernel: added to the trial entry only. ELRepo kernels are built with CONFIG_PANIC_TIMEOUT=0 (a panic
// hangs forever), so panic=30 makes a panic reboot, which lands on the saved (previous) kernel because GRUB
// consumed the one-shot entry before booting; rd.shell=0 rd.emergency=reboot do the same for an initramfs
// that cannot find the root filesystem.
inline constexpr std::string_view k_kernel_trial_args = "panic=30 rd.shell=0 rd.emergency=reboot";
// kernel: the host guard, a systemd timer that reboots a trial kernel nobody confirmed. Written under
// /etc/systemd/system and enabled by a timers.target.wants symlink, so it needs the host's systemd only
// at the next boot.
inline constexpr std::string_view k_guard_unit = "meshlink-kernel-guard";
inline constexpr std::string_view k_systemd_unit_dir = "/etc/systemd/system";
inline constexpr std::string_view k_guard_deadline = "15m"; // a Go duration; `stage --guard-timeout`
// kernel: how long the host's tools may take: package transactions (kernel-install, dracut) and the rest.
inline constexpr std::chrono::seconds k_package_timeout{1800};
inline constexpr std::chrono::seconds k_tool_timeout{300};

// kernel run (the rollout's DaemonSet loop): how often it looks at the plan, its Lease and its Node; the
// Eviction API retried after a 429 (a PodDisruptionBudget said no) as kubectl drain does, every 5 s, while
// pods that were evicted are waited for every second; how long a requested reboot may take before the node
// is failed; which pods are the node's Cilium agent (the health gate after the boot); the host's system
// bus, where logind takes the reboot ($DBUS_SYSTEM_BUS_ADDRESS first, rollout/system_bus.hpp).
inline constexpr std::string_view k_rollout_poll_interval = "5s";
inline constexpr std::chrono::seconds k_eviction_retry{5};
inline constexpr std::chrono::seconds k_eviction_wait{1};
inline constexpr std::chrono::seconds k_reboot_timeout{600};
inline constexpr std::string_view k_cilium_namespace = "kube-system";
inline constexpr std::string_view k_cilium_agent_selector = "k8s-app=cilium";
inline constexpr std::string_view k_logind_service = "org.freedesktop.login1";
inline constexpr std::string_view k_logind_path = "/org/freedesktop/login1";
inline constexpr std::string_view k_logind_manager = "org.freedesktop.login1.Manager";
// kubectl drain's filters: a mirror Pod (kubelet's view of a static Pod) carries this annotation.
inline constexpr std::string_view k_mirror_pod_annotation = "kubernetes.io/config.mirror";

} // namespace meshlink::agent::defaults
