#include "plugin/preflight/preflight.hpp"

#include "plugin/preflight/checks.hpp"
#include "plugin/preflight/kube_api.hpp"

#include <fmt/format.h>

#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

namespace meshlink::plugin::preflight {
namespace {

ClusterFacts gather_target(ClusterTarget& target, const RunOptions& options) {
    if (!target.kubeconfig || !target.api) {
        ClusterFacts facts;
        facts.context = target.context;
        facts.kubeconfig = target.kubeconfig;
        facts.connect_error = target.connect_error;
        choose_node_cilium(facts, options.gather.cilium_override);
        return facts;
    }
    ClusterFacts facts;
    try {
        facts = gather(*target.api, target.context, options.gather);
    } catch (const std::exception& e) {
        // A bug must not take the other clusters' results with it; report it where it happened.
        facts = ClusterFacts{};
        facts.context = target.context;
        facts.version = util::fail(util::ErrorKind::generic, fmt::format("preflight failed: {}", e.what()));
        choose_node_cilium(facts, options.gather.cilium_override);
    }
    facts.kubeconfig = target.kubeconfig;
    return facts;
}

} // namespace

ClusterTarget make_target(std::string name, std::optional<kubeconfig::ContextSummary> summary,
                          const util::Result<std::shared_ptr<kube::Client>>& client) {
    ClusterTarget target;
    target.context = std::move(name);
    target.kubeconfig = std::move(summary);
    if (client) {
        target.api = make_kube_api(*client);
    } else {
        target.connect_error = client.error().message;
    }
    return target;
}

std::vector<Check> judge(const std::vector<ClusterFacts>& clusters, bool node_reports) {
    std::vector<Check> out;
    const auto append = [&](std::vector<Check> checks) {
        for (auto& check : checks) {
            out.push_back(std::move(check));
        }
    };
    for (const auto& facts : clusters) {
        append(kubeconfig_checks(facts));
    }
    for (const auto& facts : clusters) {
        append(cluster_checks(facts));
    }
    for (std::size_t i = 0; i < clusters.size(); ++i) {
        for (std::size_t j = i + 1; j < clusters.size(); ++j) {
            append(mesh_checks(clusters[i], clusters[j]));
        }
    }
    if (node_reports) {
        for (const auto& facts : clusters) {
            append(node_checks(facts));
        }
    }
    return out;
}

Outcome run_preflight(std::vector<ClusterTarget>& targets, const RunOptions& options) {
    Outcome outcome;
    outcome.clusters.resize(targets.size());
    std::mutex progress_mutex;
    const auto progress = [&](const std::string& line) {
        if (options.progress) {
            const std::lock_guard lock(progress_mutex);
            options.progress(line);
        }
    };
    {
        std::vector<std::jthread> workers;
        for (std::size_t i = 0; i < targets.size(); ++i) {
            workers.emplace_back([&, i] {
                const auto start = std::chrono::steady_clock::now();
                progress(fmt::format("reading {} ...", targets[i].context));
                outcome.clusters[i] = gather_target(targets[i], options);
                const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - start);
                const auto& facts = outcome.clusters[i];
                std::string nodes;
                if (facts.nodes && facts.nodes->has_value()) {
                    nodes = fmt::format(", {} nodes", facts.nodes->value().total);
                }
                progress(fmt::format("read {}{} in {:.1f}s", targets[i].context, nodes, ms.count() / 1000.0));
            });
        }
    }
    outcome.checks = judge(outcome.clusters, options.gather.read_node_reports);
    return outcome;
}

} // namespace meshlink::plugin::preflight
