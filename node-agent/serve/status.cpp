#include "node-agent/serve/status.hpp"

#include <fmt/format.h>

#include <array>

namespace meshlink::agent::serve {
namespace {

// Label values escape backslash, double quote and line feed; HELP text only backslash and line feed.
std::string escape(std::string_view text, bool quotes) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && quotes) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
    return out;
}

class Writer {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        m_text += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape(help, false), name, type);
    }

    // `labels` as (name, value) pairs, values escaped here.
    void sample(std::string_view name,
                std::initializer_list<std::pair<std::string_view, std::string_view>> labels, double value) {
        m_text += name;
        if (labels.size() > 0) {
            m_text += '{';
            bool first = true;
            for (const auto& [label, text] : labels) {
                m_text += fmt::format("{}{}=\"{}\"", first ? "" : ",", label, escape(text, true));
                first = false;
            }
            m_text += '}';
        }
        m_text += ' ';
        m_text += format_value(value);
        m_text += '\n';
    }

    void sample(std::string_view name, double value) { sample(name, {}, value); }

    std::string take() { return std::move(m_text); }

private:
    static std::string format_value(double value) {
        // Integers (counters, timestamps, 0/1 gauges) without an exponent or a fraction.
        if (value == static_cast<double>(static_cast<std::int64_t>(value)) && value < 1e15 && value > -1e15) {
            return fmt::format("{}", static_cast<std::int64_t>(value));
        }
        return fmt::format("{}", value);
    }

    std::string m_text;
};

double unix_seconds(std::optional<std::chrono::system_clock::time_point> time) {
    if (!time) {
        return 0;
    }
    return std::chrono::duration<double>(time->time_since_epoch()).count();
}

} // namespace

bool is_ready(const AgentStatus& status) {
    return status.probes > 0 && (status.last_publish_ok || status.api_answered);
}

std::string render_metrics(const AgentStatus& status) {
    Writer out;
    out.family("meshlink_agent_info", "gauge",
               "The agent's version, its node and the Cilium release its checks are judged for (always 1).");
    out.sample(
        "meshlink_agent_info",
        {{"node", status.node}, {"version", status.agent_version}, {"cilium_version", status.cilium_version}},
        1);

    out.family("meshlink_node_probes_total", "counter", "Node probes run since the agent started.");
    out.sample("meshlink_node_probes_total", static_cast<double>(status.probes));
    out.family("meshlink_node_probe_duration_seconds", "gauge", "Wall time of the most recent node probe.");
    out.sample("meshlink_node_probe_duration_seconds", status.last_probe_seconds);
    out.family("meshlink_node_last_probe_timestamp_seconds", "gauge",
               "Unix time the most recent node probe finished (0: none yet).");
    out.sample("meshlink_node_last_probe_timestamp_seconds", unix_seconds(status.last_probe_at));

    out.family(
        "meshlink_node_check_status", "gauge",
        "Verdict of each node check for the configured Cilium version: 1 for the check's current status, "
        "0 for the other three.");
    constexpr std::array k_statuses{probe::Status::pass, probe::Status::warn, probe::Status::fail,
                                    probe::Status::unknown};
    for (const auto& [id, current] : status.checks) {
        for (const auto candidate : k_statuses) {
            out.sample("meshlink_node_check_status", {{"check", id}, {"status", probe::to_string(candidate)}},
                       candidate == current ? 1 : 0);
        }
    }
    out.family(
        "meshlink_node_kernel_ready", "gauge",
        "1 when no node check fails for the configured Cilium version (the meshlink.io/kernel-ready label).");
    out.sample("meshlink_node_kernel_ready", status.probes > 0 && status.kernel_ready ? 1 : 0);

    out.family("meshlink_node_publish_attempts_total", "counter",
               "Attempts to publish the report (each reads the Node, patches it if the report changed, and "
               "renews the node's Lease).");
    out.sample("meshlink_node_publish_attempts_total", static_cast<double>(status.publish_attempts));
    out.family("meshlink_node_publish_errors_total", "counter", "Publish attempts that failed.");
    out.sample("meshlink_node_publish_errors_total", static_cast<double>(status.publish_errors));
    out.family("meshlink_node_publish_writes_total", "counter",
               "Patches sent to the Node: changed reports only (liveness is the Lease).");
    out.sample("meshlink_node_publish_writes_total", static_cast<double>(status.writes));
    out.family("meshlink_node_last_publish_success_timestamp_seconds", "gauge",
               "Unix time of the most recent successful publish (0: none yet).");
    out.sample("meshlink_node_last_publish_success_timestamp_seconds",
               unix_seconds(status.last_publish_success));
    return out.take();
}

} // namespace meshlink::agent::serve
