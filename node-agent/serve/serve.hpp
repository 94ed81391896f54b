#pragma once
// `meshlink-agent serve`: the DaemonSet's loop. Probe the node at start, every interval and on SIGHUP;
// publish the report on the agent's own Node and renew its Lease (publish/); serve /healthz, /readyz and
// /metrics; stop cleanly on SIGTERM or SIGINT, never in the middle of a write.

#include "kube/client.hpp"
#include "node-agent/publish/publisher.hpp"
#include "node-agent/serve/signals.hpp"
#include "node-agent/serve/status.hpp"
#include "probe/defaults.hpp"
#include "probe/report.hpp"
#include "util/error.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace meshlink::agent::serve {

struct ServeOptions {
    std::string node_name;
    std::chrono::seconds interval = probe::defaults::k_report_interval;
    std::string listen_address = "0.0.0.0";
    int port = 9473; // 0: any free port (tests)
    std::string agent_version;
    std::string cilium_version; // for the log and the info metric
};

// Runs one probe; the loop measures it and publishes what it returns.
using ProbeFunction = std::function<probe::Report()>;

// The loop, with everything it talks to passed in. `signals` must have been opened before any thread
// started. Returns after SIGTERM/SIGINT once the HTTP server has stopped; an error only when the HTTP
// server cannot start (API failures are retried, never fatal).
util::Result<void> run(const ServeOptions& options, const ProbeFunction& probe, publish::NodeApi& api,
                       SignalEvents& signals);

// The API client settings of the agent: the given request timeout when the config has none, a retry policy
// that keeps a publish within seconds, and backoff waits that end early on SIGTERM.
kube::ClientOptions client_options(const SignalEvents& signals);

} // namespace meshlink::agent::serve
