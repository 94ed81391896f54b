#include "plugin/mesh/session.hpp"

#include "kube/redact.hpp"
#include "plugin/defaults.hpp"
#include "util/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace meshlink::plugin::mesh {

void Session::say(const std::string& line) {
    const std::lock_guard lock(m_mutex);
    if (m_progress) {
        m_progress(line);
    }
}

void Session::warn(const std::string& cluster, const std::string& message) {
    const std::lock_guard lock(m_mutex);
    if (m_progress) {
        m_progress(fmt::format("{}: warning: {}", cluster, message));
    } else {
        util::log::warn(fmt::format("{}: {}", cluster, message));
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
                                const std::function<util::Result<void>()>& step,
                                const RetryClassifier& retryable) {
    std::chrono::milliseconds delay = defaults::k_step_retry_delay;
    for (int attempt = 1;; ++attempt) {
        util::log::write(4, fmt::format("{}: attempt {}/{}", what, attempt, defaults::k_step_attempts));
        auto result = step();
        if (result || !retryable(result.error()) || attempt >= defaults::k_step_attempts) {
            return result;
        }
        session.say(fmt::format("{}: {} (attempt {}/{}; retrying)", what, result.error().message, attempt,
                                defaults::k_step_attempts));
        session.host().sleep(delay);
        delay = std::min<std::chrono::milliseconds>(delay * 2, defaults::k_step_retry_delay_max);
    }
}

util::Result<void> for_each_parallel(std::size_t n,
                                     const std::function<util::Result<void>(std::size_t)>& fn) {
    std::vector<util::Result<void>> results(n);
    for (std::size_t start = 0; start < n; start += defaults::k_parallel_width) {
        const std::size_t end = std::min(n, start + defaults::k_parallel_width);
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

util::Result<void> for_each_cluster(Session& session, std::vector<Cluster*>& clusters,
                                    const std::string& what,
                                    const std::function<util::Result<void>(Cluster&)>& step) {
    return for_each_parallel(clusters.size(), [&](std::size_t i) {
        Cluster& c = *clusters[i];
        return with_retries(session, fmt::format("{}: {}", c.name.empty() ? c.context : c.name, what),
                            [&] { return step(c); });
    });
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
