// `demo deploy`: the example in every cluster, create-or-update, then wait until its Pods are Ready.
#include "plugin/agent/install.hpp"
#include "plugin/defaults.hpp"
#include "plugin/demo/demo.hpp"
#include "plugin/demo/manifests.hpp"
#include "plugin/demo/pods.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshlink::plugin::demo {
namespace {

namespace df = defaults;
using mesh::child;
using mesh::text;

bool dns_label(const std::string& name) {
    return !name.empty() && name.size() <= 63 && std::isalnum(static_cast<unsigned char>(name.front())) &&
           std::isalnum(static_cast<unsigned char>(name.back())) &&
           std::all_of(name.begin(), name.end(), [](unsigned char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
           });
}

// The pull secrets copied into the demo namespace (kind, type and data only).
util::Result<std::vector<json>> pull_secret_copies(DemoApi& api, const DemoCluster& cluster,
                                                   const DemoSettings& settings) {
    std::vector<json> copies;
    for (const auto& flag : settings.pull_secrets) {
        auto parsed = parse_pull_secret(flag);
        if (!parsed) {
            return std::unexpected(parsed.error());
        }
        const auto& [ns, name] = *parsed;
        auto source = api.get(core_path("secrets", ns, name));
        if (!source) {
            return std::unexpected(
                source.error().with_context(cluster.name() + ": reading --image-pull-secret"));
        }
        if (!*source) {
            return util::fail(
                util::ErrorKind::not_found,
                fmt::format("{}: --image-pull-secret {}: Secret {}/{} not found; create it there "
                            "(`kubectl --context {} -n {} create secret docker-registry {} ...`)",
                            cluster.name(), flag, ns, name, cluster.member->cluster.context, ns, name));
        }
        const std::string type = text(**source, "type");
        if (type != "kubernetes.io/dockerconfigjson" && type != "kubernetes.io/dockercfg") {
            return util::fail(util::ErrorKind::invalid,
                              fmt::format("{}: --image-pull-secret {}: Secret {}/{} is of type \"{}\", not "
                                          "kubernetes.io/dockerconfigjson",
                                          cluster.name(), flag, ns, name, one_line(type, 80)));
        }
        copies.push_back({{"apiVersion", "v1"},
                          {"kind", "Secret"},
                          {"metadata",
                           {{"name", name},
                            {"namespace", settings.ns},
                            {"labels", {{df::k_managed_by_label, df::k_managed_by_meshlink}}}}},
                          {"type", type},
                          {"data", child(**source, "data")}});
    }
    return copies;
}

struct Readiness {
    bool ready = false;
    std::string line;                   // "rebel-base 2/2 ready, x-wing 1/2 ready"
    std::optional<std::string> problem; // why it will not become ready
};

util::Result<Readiness> readiness(DemoApi& api, const DemoCluster& cluster, const DemoSettings& settings) {
    Readiness out;
    out.ready = true;
    const std::pair<std::string_view, std::string_view> workloads[] = {
        {df::k_demo_server, df::k_demo_server_selector}, {df::k_demo_client, df::k_demo_client_selector}};
    for (const auto& [name, selector] : workloads) {
        auto deployment = api.get(apps_path("deployments", settings.ns, name));
        if (!deployment) {
            return std::unexpected(deployment.error());
        }
        if (!*deployment) {
            return util::fail(util::ErrorKind::not_found,
                              fmt::format("{}: Deployment {}/{} disappeared while waiting for it",
                                          cluster.name(), settings.ns, name));
        }
        const json& status = child(**deployment, "status");
        const auto want = child(child(**deployment, "spec"), "replicas").is_number_integer()
                              ? (**deployment)["spec"]["replicas"].get<long long>()
                              : 1;
        const auto ready =
            child(status, "readyReplicas").is_number_integer() ? status["readyReplicas"].get<long long>() : 0;
        const auto observed = child(status, "observedGeneration").is_number_integer()
                                  ? status["observedGeneration"].get<long long>()
                                  : 0;
        const auto generation = child(child(**deployment, "metadata"), "generation").is_number_integer()
                                    ? (**deployment)["metadata"]["generation"].get<long long>()
                                    : 1;
        // cilium-cli's test: the controller saw the latest spec and every replica is ready.
        const bool done = observed >= generation && ready == want;
        out.ready = out.ready && done;
        out.line += fmt::format("{}{} {}/{} ready", out.line.empty() ? "" : ", ", name, ready, want);
        if (done || out.problem) {
            continue;
        }
        if (auto problem = creation_problem(**deployment, {})) {
            out.problem = describe(cluster.name(), *problem);
            continue;
        }
        auto sets = api.list(apps_path("replicasets", settings.ns), std::string(selector));
        if (sets) {
            for (const auto& set : *sets) {
                if (auto problem = creation_problem(set, {})) {
                    out.problem = describe(cluster.name(), *problem);
                }
            }
        }
        auto pods = api.list(core_path("pods", settings.ns), std::string(selector));
        if (!pods) {
            return std::unexpected(pods.error());
        }
        for (const auto& pod : *pods) {
            if (auto problem = pod_problem(pod); problem && !out.problem) {
                out.problem = describe(cluster.name(), *problem);
            }
        }
    }
    return out;
}

} // namespace

util::Result<std::pair<std::string, std::string>> parse_pull_secret(const std::string& flag) {
    const auto slash = flag.find('/');
    std::string ns = slash == std::string::npos ? "default" : flag.substr(0, slash);
    std::string name = slash == std::string::npos ? flag : flag.substr(slash + 1);
    const bool name_ok =
        !name.empty() && name.size() <= 253 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        });
    if (!dns_label(ns) || !name_ok) {
        return util::fail(
            util::ErrorKind::usage,
            fmt::format("--image-pull-secret \"{}\" must be [NAMESPACE/]NAME of a Secret", flag));
    }
    return std::make_pair(std::move(ns), std::move(name));
}

VerbOutcome deploy(mesh::Session& session, std::vector<DemoCluster>& clusters, const DemoSettings& settings) {
    std::vector<std::string> problems(clusters.size());
    std::vector<int> codes(clusters.size(), 0);
    auto ran = mesh::for_each_parallel(clusters.size(), [&](std::size_t i) -> util::Result<void> {
        DemoCluster& cluster = clusters[i];
        DemoApi& api = *cluster.api;
        RenderInput input;
        input.ns = settings.ns;
        input.cluster = cluster.name();
        input.images = settings.images;
        for (const auto& flag : settings.pull_secrets) {
            if (auto parsed = parse_pull_secret(flag)) {
                input.pull_secrets.push_back(parsed->second);
            }
        }
        auto objects = render(input);
        auto secrets = pull_secret_copies(api, cluster, settings);
        if (!secrets) {
            return std::unexpected(secrets.error());
        }
        objects.insert(objects.begin() + 1, secrets->begin(), secrets->end()); // right after the Namespace
        agent::ApplyOptions apply;
        apply.terminating_namespace_timeout = settings.timeout;
        apply.progress = [&](const std::string& line) { session.say(cluster.name() + ": " + line); };
        auto steps = agent::apply_objects(api, objects, apply);
        if (!steps) {
            return std::unexpected(steps.error().with_context(cluster.name()));
        }
        int changed = 0;
        for (const auto& step : *steps) {
            if (step.action != agent::ApplyAction::unchanged) {
                session.say(
                    fmt::format("{}: {} {}", cluster.name(), agent::to_string(step.action), step.object));
                ++changed;
            }
        }
        if (changed == 0) {
            session.say(
                fmt::format("{}: every object of the demo is already as it should be", cluster.name()));
        }
        // Wait for the Pods, naming what keeps them from running as soon as kubelet or a controller says it.
        const auto deadline = session.host().now() + settings.timeout;
        std::chrono::milliseconds pause = df::k_demo_poll_first;
        std::string last;
        for (;;) {
            auto state = readiness(api, cluster, settings);
            if (!state) {
                return std::unexpected(state.error().with_context(cluster.name()));
            }
            if (state->line != last) {
                session.say(fmt::format("{}: {}", cluster.name(), state->line));
                last = state->line;
            }
            if (state->ready) {
                return {};
            }
            if (state->problem) {
                problems[i] = *state->problem;
                codes[i] = 1;
                return {};
            }
            if (session.host().now() >= deadline) {
                problems[i] =
                    fmt::format("{}: the demo's Pods are not Ready after {}s ({}); see `kubectl --context {} "
                                "-n {} get pods` and their events",
                                cluster.name(), settings.timeout.count(), state->line,
                                cluster.member->cluster.context, settings.ns);
                codes[i] = 1;
                return {};
            }
            session.host().sleep(pause);
            pause = std::min<std::chrono::milliseconds>(pause * 2, df::k_demo_poll_max);
        }
    });
    VerbOutcome out;
    if (!ran) {
        out.exit_code = 2;
        out.message = ran.error().message;
        return out;
    }
    std::string names;
    for (const auto& cluster : clusters) {
        names += (names.empty() ? "" : ", ") + cluster.name();
    }
    if (std::any_of(codes.begin(), codes.end(), [](int code) { return code != 0; })) {
        out.exit_code = 1;
        for (const auto& problem : problems) {
            if (!problem.empty()) {
                out.message += (out.message.empty() ? "" : "\n") + problem;
            }
        }
        return out;
    }
    out.message = fmt::format(
        "deployed: Cilium's rebel-base/x-wing demo runs in {} (namespace {}), Service rebel-base global in "
        "each; "
        "try `kubectl --context {} -n {} exec deploy/x-wing -- curl -s rebel-base` (replies name the cluster "
        "that answered), or `kubectl meshlink demo verify`",
        names, settings.ns, clusters.front().member->cluster.context, settings.ns);
    return out;
}

} // namespace meshlink::plugin::demo
