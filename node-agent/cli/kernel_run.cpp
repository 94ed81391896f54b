// `meshlink-agent kernel run`: what the rollout's privileged DaemonSet runs on each planned node. Flags, the
// API client, the host and the reboot; the state machine is node-agent/rollout/runner.hpp.

#include "build_info.hpp"
#include "kube/client.hpp"
#include "node-agent/cli/api_flags.hpp"
#include "node-agent/cli/probe_flags.hpp"
#include "node-agent/cli/verb_handlers.hpp"
#include "node-agent/defaults.hpp"
#include "node-agent/kernel/host.hpp"
#include "node-agent/rollout/cluster.hpp"
#include "node-agent/rollout/reboot.hpp"
#include "node-agent/rollout/runner.hpp"
#include "node-agent/serve/logging.hpp"
#include "node-agent/serve/serve.hpp"
#include "node-agent/serve/signals.hpp"
#include "probe/bpf.hpp"
#include "util/cli_options.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <fmt/format.h>

#include <optional>

namespace meshlink::agent::cli {

int run_kernel_run(Invocation& invocation) {
    util::VerbOptions options(
        invocation.program,
        "kernel run [--node-name NAME] [--kubeconfig FILE] [--root DIR] [--proc DIR] [--sys DIR] "
        "[--host-commands nsenter|local] [--skip-bpf] [--poll-interval 5s] [--log-target "
        "auto|journal|stderr] "
        "[-v N]",
        "Run this node's part of the cluster kernel rollout (`kubectl meshlink kernel upgrade`): follow the "
        "plan in ConfigMap meshlink-system/meshlink-kernel-plan, take the lock (Lease "
        "meshlink-system/meshlink-kernel-rollout) when nothing blocks, stage the new kernel, cordon, drain "
        "through the Eviction API, reboot through logind, confirm the new kernel after the boot, wait for "
        "the "
        "node and its Cilium agent, uncordon and let go. Every step is recorded in the Node's annotation "
        "meshlink.io/kernel-upgrade first, so a restart continues where it stopped. A failure halts the "
        "rollout "
        "until `kubectl meshlink kernel resume` or `abort`. SIGTERM or SIGINT stops it between steps (exit "
        "0).");
    options.add()("node-name", "This node (default $NODE_NAME, set by the Downward API)",
                  cxxopts::value<std::string>())(
        "kubeconfig", "Use this kubeconfig instead of the pod's service account (tests, debugging)",
        cxxopts::value<std::string>())("root", "The host's / (the DaemonSet mounts it at /host)",
                                       cxxopts::value<std::string>())(
        "proc", "The host's procfs (default /proc)", cxxopts::value<std::string>())(
        "sys", "The host's sysfs (default /sys)", cxxopts::value<std::string>())(
        "host-commands",
        "How the host's tools run: nsenter (the host's own, in PID 1's namespaces) or local (this machine's "
        "against --root, for fixture roots)",
        cxxopts::value<std::string>()->default_value("nsenter"))(
        "skip-bpf", "Leave out the live BPF probes when confirming the new kernel (a --root that is not the "
                    "running node)")(
        "poll-interval", "How often to look at the plan, the lock and the node while nothing happens",
        cxxopts::value<std::string>()->default_value(std::string(defaults::k_rollout_poll_interval)))(
        "log-target", "auto (the journal when its socket is mounted, else stderr), journal or stderr",
        cxxopts::value<std::string>()->default_value("auto"))(
        "v,verbosity", "Log verbosity: 4 debug, 6 API requests, 8 bodies (credentials redacted)",
        cxxopts::value<int>()->default_value("0"));
    auto flags = options.parse(invocation.args);
    if (!flags) {
        return 0;
    }
    if (auto extra = util::VerbOptions::positionals(*flags); !extra.empty() && !extra.front().empty()) {
        throw util::UsageError("kernel run takes no arguments, got \"" + extra.front() + "\"\nRun '" +
                               invocation.program + " kernel run --help' for usage.");
    }
    const std::string node = node_name_flag(*flags);
    const std::string poll_text = (*flags)["poll-interval"].as<std::string>();
    const auto poll = util::parse_go_duration(poll_text);
    if (!poll || *poll < std::chrono::milliseconds(100) || *poll > std::chrono::minutes(10)) {
        throw util::UsageError("invalid --poll-interval \"" + poll_text +
                               "\": want a duration from 100ms to 10m");
    }
    serve::LogTarget log_target = serve::LogTarget::automatic;
    if (!serve::parse_log_target((*flags)["log-target"].as<std::string>(), log_target)) {
        throw util::UsageError("invalid --log-target \"" + (*flags)["log-target"].as<std::string>() +
                               "\": use auto, journal or stderr");
    }
    auto host = kernel::make_host((*flags)["host-commands"].as<std::string>(), host_flags(*flags));
    if (!host) {
        throw util::UsageError(host.error().message);
    }

    // Before any thread exists (libcurl's resolver), so every thread inherits the blocked mask.
    auto signals = util::value_or_throw(serve::SignalEvents::open(), "cannot set up signal handling");
    util::log::set_verbosity((*flags)["verbosity"].as<int>());
    serve::install_log_sink(log_target, std::filesystem::path(defaults::k_journal_socket), node);
    auto client =
        util::value_or_throw(kube::Client::from_config(api_config(*flags), serve::client_options(signals)),
                             "unable to create Kubernetes client");
    auto api = rollout::make_rollout_api(client);
    auto rebooter = rollout::make_rebooter(**host);

    std::unique_ptr<probe::BpfKernel> kernel;
    std::optional<probe::BpfFeatures> features;
    rollout::RunnerOptions runner_options;
    runner_options.node = node;
    runner_options.poll = std::chrono::duration_cast<std::chrono::milliseconds>(*poll);
    if (flags->count("skip-bpf") == 0) {
        kernel = probe::make_libbpf_kernel();
        features.emplace(*kernel);
        runner_options.bpf = &*features;
    }
    rollout::Runner runner(*api, **host, *rebooter, runner_options);
    util::log::info(fmt::format("meshlink-agent {} kernel run on node \"{}\" (host commands: {})",
                                build_info::k_version, node, (*host)->mode()));
    for (;;) {
        const auto wait = runner.tick();
        if (signals.termination_pending()) {
            break;
        }
        const auto signo = signals.wait_until(std::chrono::steady_clock::now() + wait);
        if (signo && (*signo == SIGTERM || *signo == SIGINT)) {
            break;
        }
    }
    util::log::info("stopping: a signal asked to");
    return 0;
}

} // namespace meshlink::agent::cli
