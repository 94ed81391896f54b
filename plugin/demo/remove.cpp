// `demo delete`: the demo namespace (everything deploy and verify created is in it) and the last demo verify
// result, in every cluster; waits until the namespace is gone and says what holds it when it does not go.
#include "plugin/defaults.hpp"
#include "plugin/demo/demo.hpp"
#include "plugin/demo/pods.hpp"
#include "plugin/verify/record.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshlink::plugin::demo {
namespace {

namespace df = defaults;
using mesh::child;
using mesh::text;

// What the namespace controller says keeps a namespace: its conditions' messages and finalizers.
std::string stuck_reason(const json& ns) {
    std::vector<std::string> parts;
    const json& conditions = child(child(ns, "status"), "conditions");
    if (conditions.is_array()) {
        for (const auto& c : conditions) {
            if (text(c, "status") == "True") {
                parts.push_back(
                    fmt::format("{}: {}", one_line(text(c, "reason"), 60), one_line(text(c, "message"))));
            }
        }
    }
    const json& finalizers = child(child(ns, "spec"), "finalizers");
    if (finalizers.is_array() && !finalizers.empty()) {
        parts.push_back("finalizers " + one_line(finalizers.dump(), 200));
    }
    std::string out;
    for (const auto& part : parts) {
        out += (out.empty() ? "" : "; ") + part;
    }
    return out.empty() ? "no reason given" : out;
}

} // namespace

VerbOutcome remove(mesh::Session& session, std::vector<DemoCluster>& clusters, const DemoSettings& settings) {
    std::vector<std::string> problems(clusters.size());
    std::vector<int> codes(clusters.size(), 0);
    auto ran = mesh::for_each_parallel(clusters.size(), [&](std::size_t i) -> util::Result<void> {
        DemoCluster& cluster = clusters[i];
        DemoApi& api = *cluster.api;
        const std::string path = namespace_path(settings.ns);
        auto ns = api.get(path);
        if (!ns) {
            return std::unexpected(ns.error().with_context(cluster.name()));
        }
        if (*ns) {
            const json& labels = child(child(**ns, "metadata"), "labels");
            if (text(labels, df::k_managed_by_label) != df::k_managed_by_meshlink) {
                problems[i] = fmt::format(
                    "{}: namespace {} was not created by meshlink (no label {}={}): not "
                    "deleting it",
                    cluster.name(), settings.ns, df::k_managed_by_label, df::k_managed_by_meshlink);
                codes[i] = 1;
                return {};
            }
            if (!child(**ns, "metadata").contains("deletionTimestamp")) {
                auto removed = api.remove_propagating(path, "Background");
                if (!removed) {
                    return std::unexpected(
                        removed.error().with_context(cluster.name() + ": deleting namespace " + settings.ns));
                }
                session.say(fmt::format("{}: deleting namespace {}", cluster.name(), settings.ns));
            }
            const auto deadline = session.host().now() + settings.timeout;
            std::chrono::milliseconds pause = df::k_demo_poll_first;
            for (;;) {
                auto again = api.get(path);
                if (!again) {
                    return std::unexpected(again.error().with_context(cluster.name()));
                }
                if (!*again) {
                    session.say(fmt::format("{}: namespace {} is gone", cluster.name(), settings.ns));
                    break;
                }
                if (session.host().now() >= deadline) {
                    problems[i] =
                        fmt::format("{}: namespace {} is still terminating after {}s: {}; see `kubectl "
                                    "--context {} get namespace {} -o yaml`",
                                    cluster.name(), settings.ns, settings.timeout.count(),
                                    stuck_reason(**again), cluster.member->cluster.context, settings.ns);
                    codes[i] = 1;
                    return {};
                }
                session.host().sleep(pause);
                pause = std::min<std::chrono::milliseconds>(pause * 2, df::k_demo_poll_max);
            }
        } else {
            session.say(fmt::format("{}: no namespace {}", cluster.name(), settings.ns));
        }
        if (auto forgot = verify::forget_result(api, df::k_verify_result_demo_key); !forgot) {
            return std::unexpected(
                forgot.error().with_context(cluster.name() + ": removing the last demo verify result"));
        }
        return {};
    });
    VerbOutcome out;
    if (!ran) {
        out.exit_code = 2;
        out.message = ran.error().message;
        return out;
    }
    for (std::size_t i = 0; i < clusters.size(); ++i) {
        if (codes[i] != 0) {
            out.exit_code = 1;
            out.message += (out.message.empty() ? "" : "\n") + problems[i];
        }
    }
    if (out.exit_code == 0) {
        std::string names;
        for (const auto& cluster : clusters) {
            names += (names.empty() ? "" : ", ") + cluster.name();
        }
        out.message = fmt::format("deleted: the demo is gone from {} (namespace {})", names, settings.ns);
    }
    return out;
}

} // namespace meshlink::plugin::demo
