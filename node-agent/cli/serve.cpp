// `meshlink-agent serve`: flags, the API client and the probe setup; the loop is in serve/, publishing in
// publish/.

#include "node-agent/serve/serve.hpp"

#include "build_info.hpp"
#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "kube/rest_config.hpp"
#include "node-agent/cli/api_flags.hpp"
#include "node-agent/cli/probe_flags.hpp"
#include "node-agent/cli/verb_handlers.hpp"
#include "node-agent/defaults.hpp"
#include "node-agent/publish/publisher.hpp"
#include "node-agent/serve/logging.hpp"
#include "node-agent/serve/signals.hpp"
#include "probe/defaults.hpp"
#include "probe/report.hpp"
#include "util/cli_options.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <system_error>

namespace meshlink::agent::cli {

int run_serve(Invocation& invocation) {
    util::VerbOptions options(
        invocation.program,
        "serve [--node-name NAME] [--kubeconfig FILE] [--interval 10m] [--listen-address ADDR] [--port 9473] "
        "[--root DIR] [--proc DIR] [--sys DIR] [--skip-bpf] [--cilium-version X.Y] [--keep-capabilities] "
        "[--log-target "
        "auto|journal|"
        "stderr] [-v N]",
        "Run as the DaemonSet does: probe this node at start, every --interval and on SIGHUP, and publish "
        "the report on this node's Node object (annotation meshlink.io/node-report, labels "
        "meshlink.io/kernel-ready and meshlink.io/kernel-version), writing only when something changed; "
        "liveness is the Lease meshlink-agent-<node> in meshlink-system, renewed every --interval. Serves "
        "/healthz, /readyz and /metrics. SIGTERM or SIGINT stops it (exit 0).");
    options.add()("node-name", "The Node to publish on (default $NODE_NAME, set by the Downward API)",
                  cxxopts::value<std::string>())(
        "kubeconfig", "Use this kubeconfig instead of the pod's service account (tests, debugging)",
        cxxopts::value<std::string>())(
        "interval", "How often to probe and renew the Lease, a duration like 10m or 90s (1s to 168h)",
        cxxopts::value<std::string>()->default_value(
            util::format_duration(probe::defaults::k_report_interval)))(
        "listen-address", "Address of the HTTP endpoints",
        cxxopts::value<std::string>()->default_value(std::string(defaults::k_listen_address)))(
        "port", "Port of the HTTP endpoints (0: any free port)",
        cxxopts::value<int>()->default_value(std::to_string(defaults::k_http_port)))(
        "root",
        "Where the host's /boot, /etc, /lib/modules and /usr/lib/modules are (the DaemonSet uses /host)",
        cxxopts::value<std::string>())("proc", "The host's procfs (default /proc)",
                                       cxxopts::value<std::string>())(
        "sys", "The host's sysfs (default /sys)", cxxopts::value<std::string>())(
        "mountinfo", "The host's mount table, its /proc/1/mountinfo (default <proc>/1/mountinfo)",
        cxxopts::value<std::string>())(
        "skip-bpf", "Leave out the live-kernel BPF probes (for a --root that is not the running node)")(
        "cilium-version",
        "Judge against this Cilium release, X.Y (default: the newest known, " +
            probe::to_string(probe::newest_cilium()) + ")",
        cxxopts::value<std::string>())(
        "log-target", "auto (the journal when its socket is mounted, else stderr), journal or stderr",
        cxxopts::value<std::string>()->default_value("auto"))(
        "v,verbosity",
        "Log verbosity: 2 the capabilities dropped at start, 4 debug, 6 API requests, 8 bodies (credentials "
        "redacted)",
        cxxopts::value<int>()->default_value("0"));
    add_capabilities_flag(options.add());
    auto flags = options.parse(invocation.args);
    if (!flags) {
        return 0;
    }
    if (auto extra = util::VerbOptions::positionals(*flags); !extra.empty() && !extra.front().empty()) {
        throw util::UsageError("serve takes no arguments, got \"" + extra.front() + "\"\nRun '" +
                               invocation.program + " serve --help' for usage.");
    }

    serve::ServeOptions serve_options;
    serve_options.node_name = node_name_flag(*flags);
    const std::string interval_text = (*flags)["interval"].as<std::string>();
    const auto interval = util::parse_go_duration(interval_text);
    // Readers refuse a report whose intervalSeconds is outside these bounds (probe/node_report.hpp).
    if (!interval || *interval < probe::defaults::k_min_report_interval ||
        *interval > probe::defaults::k_max_report_interval) {
        throw util::UsageError(
            fmt::format("invalid --interval \"{}\": want a duration from {} to {}, e.g. 10m", interval_text,
                        util::format_duration(probe::defaults::k_min_report_interval),
                        util::format_duration(probe::defaults::k_max_report_interval)));
    }
    serve_options.interval = std::chrono::duration_cast<std::chrono::seconds>(*interval);
    serve_options.listen_address = (*flags)["listen-address"].as<std::string>();
    serve_options.port = (*flags)["port"].as<int>();
    if (serve_options.port < 0 || serve_options.port > 65535) {
        throw util::UsageError(fmt::format("invalid --port {}: want 0..65535", serve_options.port));
    }
    serve::LogTarget log_target = serve::LogTarget::automatic;
    if (!serve::parse_log_target((*flags)["log-target"].as<std::string>(), log_target)) {
        throw util::UsageError("invalid --log-target \"" + (*flags)["log-target"].as<std::string>() +
                               "\": use auto, journal or stderr");
    }
    const probe::CiliumVersion cilium = cilium_version_flag(*flags);
    serve_options.cilium_version = probe::to_string(cilium);
    serve_options.agent_version = build_info::k_version;

    probe::ProbeOptions probe_options;
    probe_options.host = host_flags(*flags);
    probe_options.node_name = serve_options.node_name;

    // Before any thread exists (HTTP workers, libcurl's resolver), so every thread inherits the blocked mask.
    auto signals = util::value_or_throw(serve::SignalEvents::open(), "cannot set up signal handling");
    util::log::set_verbosity((*flags)["verbosity"].as<int>());
    serve::install_log_sink(log_target, std::filesystem::path(defaults::k_journal_socket),
                            serve_options.node_name);
    // After the log sink (the line goes to the journal), before the API client and any thread.
    drop_capabilities_unless_kept(*flags);

    auto client =
        util::value_or_throw(kube::Client::from_config(api_config(*flags), serve::client_options(signals)),
                             "unable to create Kubernetes client");
    auto api = publish::make_node_api(client);

    std::unique_ptr<probe::BpfKernel> kernel;
    std::optional<probe::BpfFeatures> features;
    if (flags->count("skip-bpf") == 0) {
        kernel = probe::make_libbpf_kernel();
        features.emplace(*kernel);
        probe_options.bpf = &*features;
    }
    bool extrapolated = false;
    const auto& row = probe::requirements_for(cilium, &extrapolated);
    if (extrapolated) {
        util::log::warn(
            fmt::format("Cilium {} is newer than the requirements this agent knows; judging by those of "
                        "Cilium {}",
                        probe::to_string(cilium), probe::to_string(row.last)));
    }
    const serve::ProbeFunction probe_node = [&probe_options, cilium] {
        return probe::make_report(probe_options, cilium);
    };
    util::value_or_throw(serve::run(serve_options, probe_node, *api, signals));
    return 0;
}

} // namespace meshlink::agent::cli
