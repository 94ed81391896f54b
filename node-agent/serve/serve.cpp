#include "node-agent/serve/serve.hpp"

#include "node-agent/defaults.hpp"
#include "node-agent/serve/http_server.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <random>

namespace meshlink::agent::serve {
namespace {

using Steady = std::chrono::steady_clock;
using System = std::chrono::system_clock;

void info(const std::string& message) {
    util::log::write(0, message);
}
void warning(const std::string& message) {
    util::log::warn(message);
}

// Full jitter: a random wait in [ceiling/2, ceiling], so agents on many nodes that lost the API server at
// the same moment do not come back in lockstep.
std::chrono::milliseconds jittered(std::chrono::milliseconds ceiling, std::mt19937_64& random) {
    std::uniform_int_distribution<std::int64_t> pick(ceiling.count() / 2, ceiling.count());
    return std::chrono::milliseconds(pick(random));
}

std::string_view signal_name(int signo) {
    switch (signo) {
    case SIGTERM:
        return "SIGTERM";
    case SIGINT:
        return "SIGINT";
    case SIGHUP:
        return "SIGHUP";
    default:
        return "a signal";
    }
}

} // namespace

kube::ClientOptions client_options(const SignalEvents& signals) {
    kube::ClientOptions options;
    options.retry.max_attempts = defaults::k_api_attempts;
    options.retry.max_connect_attempts = defaults::k_api_connect_attempts;
    options.retry.base_delay = defaults::k_api_retry_delay;
    options.retry.max_delay = defaults::k_api_retry_delay_max;
    options.retry.max_retry_after = defaults::k_api_retry_after_max;
    options.sleep = [&signals](std::chrono::milliseconds delay) { signals.sleep_unless_terminating(delay); };
    return options;
}

util::Result<void> run(const ServeOptions& options, const ProbeFunction& probe_node, publish::NodeApi& api,
                       SignalEvents& signals) {
    AgentStatus initial;
    initial.node = options.node_name;
    initial.agent_version = options.agent_version;
    initial.cilium_version = options.cilium_version;
    StatusBoard board(std::move(initial));

    auto server = HttpServer::start(options.listen_address, options.port, board);
    if (!server) {
        return std::unexpected(server.error());
    }
    info(fmt::format(
        "meshlink-agent {} on node \"{}\": judging for Cilium {}, probing every {}; serving /healthz, "
        "/readyz and /metrics on http://{}:{}",
        options.agent_version, options.node_name, options.cilium_version,
        util::format_duration(options.interval), options.listen_address, server->port()));

    std::mt19937_64 random(std::random_device{}());
    Steady::time_point next_probe = Steady::now();
    std::optional<probe::NodeReport> pending; // probed, not yet published
    publish::LeaseKeeper lease(options.node_name, options.interval);
    // When to publish `pending` again; max() = not scheduled (a plain time point: GCC 12 warns falsely about
    // an optional one here).
    Steady::time_point retry_at = Steady::time_point::max();
    std::chrono::milliseconds backoff = defaults::k_publish_retry_min;

    for (;;) {
        const Steady::time_point wake = pending ? std::min(next_probe, retry_at) : next_probe;
        if (auto signo = signals.wait_until(wake)) {
            if (*signo == SIGTERM || *signo == SIGINT) {
                info(fmt::format("{}: shutting down", signal_name(*signo)));
                break;
            }
            info("SIGHUP: probing now");
            next_probe = Steady::now();
        }

        if (Steady::now() >= next_probe) {
            const auto started = Steady::now();
            const probe::Report report = probe_node();
            const auto finished = Steady::now();
            const auto observed_at = System::now();
            pending = probe::make_node_report(report, options.interval, observed_at);
            const double seconds = std::chrono::duration<double>(finished - started).count();
            board.update([&](AgentStatus& status) {
                ++status.probes;
                status.last_probe_seconds = seconds;
                status.last_probe_at = observed_at;
                status.kernel_ready = pending->kernel_ready;
                status.checks.clear();
                for (const auto& check : report.checks) {
                    status.checks.emplace_back(check.id, check.status);
                }
            });
            util::log::write(4, fmt::format("probe took {:.3f}s; kernel-ready={}", seconds,
                                            pending->kernel_ready ? "true" : "false"));
            // The next tick counts from this probe's start, so probes stay on a fixed cadence.
            next_probe = started + options.interval;
            retry_at = Steady::now();
            backoff = defaults::k_publish_retry_min;
        }

        if (pending && Steady::now() >= retry_at) {
            auto published = publish::publish(api, options.node_name, *pending, lease, System::now());
            board.update([&](AgentStatus& status) {
                ++status.publish_attempts;
                if (published) {
                    status.last_publish_ok = true;
                    status.api_answered = true;
                    status.last_publish_success = System::now();
                    status.last_error.clear();
                    if (published->change != publish::Change::none) {
                        ++status.writes;
                    }
                } else {
                    ++status.publish_errors;
                    status.last_publish_ok = false;
                    status.api_answered = published.error().http_status != 0;
                    status.last_error = published.error().message;
                }
            });
            if (published) {
                if (published->change == publish::Change::none) {
                    util::log::write(4, fmt::format("node \"{}\" already carries this report; Lease renewed",
                                                    options.node_name));
                } else {
                    info(fmt::format("published the report on node \"{}\" ({}: {})", options.node_name,
                                     publish::to_string(published->change), published->reason));
                }
                pending.reset();
                retry_at = Steady::time_point::max();
            } else {
                const auto delay = jittered(backoff, random);
                warning(fmt::format("publishing the report on node \"{}\" failed, retrying in {}: {}",
                                    options.node_name, util::format_duration(delay),
                                    published.error().message));
                retry_at = Steady::now() + delay;
                backoff = std::min<std::chrono::milliseconds>(backoff * 2, defaults::k_publish_retry_max);
            }
        }
    }
    server->stop();
    info("stopped");
    return {};
}

} // namespace meshlink::agent::serve
