#pragma once
// What `meshlink-agent serve` knows about itself, shared between the probe loop (the only writer) and the
// HTTP threads (readers of /readyz and /metrics), plus the Prometheus text those endpoints serve.

#include "probe/checks.hpp"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace meshlink::agent::serve {

// One consistent picture, copied out under the lock.
struct AgentStatus {
    std::string node;
    std::string cilium_version; // "1.18": what checks are judged against
    std::string agent_version;

    std::uint64_t probes = 0;      // probes run since start
    double last_probe_seconds = 0; // wall time of the last probe
    std::optional<std::chrono::system_clock::time_point> last_probe_at;
    std::vector<std::pair<std::string, probe::Status>> checks; // the last probe's verdicts, in report order
    bool kernel_ready = false;

    std::uint64_t publish_attempts = 0;
    std::uint64_t publish_errors = 0;
    std::uint64_t writes = 0; // Node patches sent (report changes)
    std::optional<std::chrono::system_clock::time_point> last_publish_success;
    bool last_publish_ok = false; // the most recent publish attempt succeeded
    bool api_answered = false;    // the API server answered the most recent request (any HTTP status)
    std::string last_error;       // of the most recent failed publish, for /readyz
};

// Ready when at least one probe is done and either the last publish succeeded or the API server at least
// answered it (a 403 or 500 is the cluster's problem, not a reason to restart or hold a rollout, and the
// next tick retries). Not ready before the first probe, and while the API server cannot be reached.
bool is_ready(const AgentStatus& status);

// The Prometheus text exposition format 0.0.4, every family with HELP and TYPE (see README "Metrics").
std::string render_metrics(const AgentStatus& status);

// The Content-Type of render_metrics' output.
inline constexpr const char* k_metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

// A mutex around AgentStatus: the loop updates it through `update`, HTTP handlers take snapshots.
class StatusBoard {
public:
    explicit StatusBoard(AgentStatus initial) : m_status(std::move(initial)) {}

    [[nodiscard]] AgentStatus snapshot() const {
        std::lock_guard lock(m_mutex);
        return m_status;
    }

    template <typename F>
    void update(F&& change) {
        std::lock_guard lock(m_mutex);
        change(m_status);
    }

private:
    mutable std::mutex m_mutex;
    AgentStatus m_status;
};

} // namespace meshlink::agent::serve
