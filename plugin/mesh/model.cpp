#include "plugin/mesh/model.hpp"

#include "kube/redact.hpp"
#include "plugin/defaults.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace meshlink::plugin::mesh {

std::string_view to_string(Backend backend) {
    switch (backend) {
    case Backend::automatic:
        return "auto";
    case Backend::native:
        return "native";
    case Backend::cilium_cli:
        return "cilium-cli";
    case Backend::helm:
        return "helm";
    }
    return "auto";
}

std::string_view to_string(Driver driver) {
    switch (driver) {
    case Driver::native:
        return "native";
    case Driver::cilium_cli:
        return "cilium CLI";
    case Driver::helm:
        return "helm";
    }
    return "native";
}

std::vector<std::string> Cluster::mesh_ips() const {
    std::vector<std::string> control;
    std::vector<std::string> workers;
    for (const auto& node : nodes) {
        if (!node.ready || node.internal_ip.empty()) {
            continue;
        }
        (node.control_plane ? control : workers).push_back(node.internal_ip);
    }
    if (!control.empty()) {
        return control;
    }
    if (!workers.empty()) {
        return {workers.front()};
    }
    return {};
}

std::optional<int> Cluster::mesh_port() const {
    if (apiserver.service_type == "LoadBalancer" && !apiserver.ingress.empty()) {
        return defaults::k_clustermesh_port;
    }
    return apiserver.node_port;
}

std::string Cluster::display() const {
    if (name.empty() || name == context) {
        return context;
    }
    return fmt::format("{} (context {})", name, context);
}

void Session::say(const std::string& line) {
    const std::lock_guard lock(m_mutex);
    if (m_progress) {
        m_progress(line);
    }
}

bool Session::confirm(const std::string& question) {
    if (m_options.yes) {
        return true;
    }
    if (!m_options.interactive || !m_confirm) {
        return false;
    }
    const std::lock_guard lock(m_mutex);
    return m_confirm(question);
}

void Session::plan(PlannedAction action) {
    const std::lock_guard lock(m_mutex);
    if (m_progress) {
        m_progress(fmt::format("[dry-run] {}: {}", action.cluster, action.summary));
    }
    m_planned.push_back(std::move(action));
}

std::vector<PlannedAction> Session::planned() const {
    const std::lock_guard lock(m_mutex);
    return m_planned;
}

util::Result<void> with_retries(Session& session, const std::string& what,
                                const std::function<util::Result<void>()>& step) {
    std::chrono::milliseconds delay(200);
    for (int attempt = 1;; ++attempt) {
        auto result = step();
        if (result || !transient(result.error()) || attempt >= defaults::k_step_attempts) {
            return result;
        }
        session.say(fmt::format("{}: {} (attempt {}/{}; retrying)", what, result.error().message, attempt,
                                defaults::k_step_attempts));
        session.host().sleep(delay);
        delay = std::min(delay * 2, std::chrono::milliseconds(3000));
    }
}

util::Result<void> for_each_parallel(std::size_t n,
                                     const std::function<util::Result<void>(std::size_t)>& fn) {
    // At most this many at once: clusters are few, agent pods can be many.
    constexpr std::size_t k_width = 8;
    std::vector<util::Result<void>> results(n);
    for (std::size_t start = 0; start < n; start += k_width) {
        const std::size_t end = std::min(n, start + k_width);
        if (end - start == 1) {
            results[start] = fn(start);
            continue;
        }
        std::vector<std::thread> threads;
        for (std::size_t i = start; i < end; ++i) {
            threads.emplace_back([&, i] { results[i] = fn(i); });
        }
        for (auto& thread : threads) {
            thread.join();
        }
    }
    for (auto& result : results) {
        if (!result) {
            return result;
        }
    }
    return {};
}

json redact_object(const json& object) {
    json out = object;
    if (out.is_object() && out.value("kind", "") == "Secret") {
        for (const char* field : {"data", "stringData"}) {
            if (out.contains(field) && out[field].is_object()) {
                for (auto& [key, value] : out[field].items()) {
                    value = std::string(kube::k_redacted);
                }
            }
        }
    }
    return out;
}

} // namespace meshlink::plugin::mesh
