// `demo verify`: read-only checks, the agents' view, then a Job per cluster sending traffic across the mesh.
#include "plugin/defaults.hpp"
#include "plugin/demo/demo.hpp"
#include "plugin/demo/jobs.hpp"
#include "plugin/demo/report.hpp"
#include "plugin/demo/script.hpp"
#include "plugin/mesh/step_wait.hpp"
#include "plugin/verify/record.hpp"
#include "util/json_text.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace meshlink::plugin::demo {
namespace {

namespace df = defaults;
using mesh::child;
using mesh::text;

bool pod_ready(const json& pod) {
    if (child(pod, "metadata").contains("deletionTimestamp")) {
        return false;
    }
    const json& conditions = child(child(pod, "status"), "conditions");
    return conditions.is_array() && std::any_of(conditions.begin(), conditions.end(), [](const json& c) {
               return text(c, "type") == "Ready" && text(c, "status") == "True";
           });
}

util::Result<ClusterFacts> read_facts(DemoCluster& cluster, const DemoSettings& settings) {
    DemoApi& api = *cluster.api;
    ClusterFacts facts;
    facts.name = cluster.name();
    facts.context = cluster.member->cluster.context;
    facts.cilium_version = cluster.member->cluster.cilium_version;
    const std::pair<std::optional<json>*, std::string> reads[] = {
        {&facts.ns, namespace_path(settings.ns)},
        {&facts.service, core_path("services", settings.ns, df::k_demo_service)},
        {&facts.server, apps_path("deployments", settings.ns, df::k_demo_server)},
    };
    for (const auto& [target, path] : reads) {
        auto object = api.get(path);
        if (!object) {
            return std::unexpected(object.error().with_context(cluster.name()));
        }
        *target = std::move(*object);
    }
    auto config = api.get(core_path("configmaps", df::k_cilium_namespace, df::k_cilium_config));
    if (!config) {
        return std::unexpected(config.error().with_context(cluster.name()));
    }
    if (*config && child(**config, "data").is_object()) {
        for (const auto& [key, value] : (**config)["data"].items()) {
            if (value.is_string()) {
                facts.cilium_config[key] = value.get<std::string>();
            }
        }
    }
    if (facts.ns) {
        auto pods = api.list(core_path("pods", settings.ns), std::string(df::k_demo_server_selector));
        if (!pods) {
            return std::unexpected(pods.error().with_context(cluster.name()));
        }
        for (const auto& pod : *pods) {
            const std::string ip = text(child(pod, "status"), "podIP");
            if (pod_ready(pod) && !ip.empty() && ip.size() <= 45 &&
                ip.find_first_not_of("0123456789abcdefABCDEF.:") == std::string::npos) {
                facts.pod_ips.push_back(ip);
            }
        }
        std::sort(facts.pod_ips.begin(), facts.pod_ips.end());
    }
    return facts;
}

// Which peers every agent of a cluster reports ready (`cilium-dbg status -o json`).
AgentView agent_view(mesh::Session& session, DemoCluster& cluster) {
    AgentView view;
    auto answers = mesh::agent_statuses(session, cluster.member->cluster);
    if (!answers) {
        view.error = answers.error().message;
        return view;
    }
    view.total = static_cast<int>(answers->size());
    for (const auto& agent : *answers) {
        if (!agent.answered && view.error.empty()) {
            view.error = fmt::format("agent {}: {}", agent.pod, agent.error);
        }
        for (const auto& [peer, remote] : agent.remotes) {
            view.ready[peer] += remote.ready ? 1 : 0;
        }
    }
    if (view.total == 0) {
        view.error = "no Cilium agent pods found";
    }
    return view;
}

// The backends an agent's `cilium-dbg service list -o json` lists for ip:port; nullopt when the answer is not
// a service list.
std::optional<std::set<std::string>> backends_of(const std::string& output, const std::string& ip, int port) {
    const json doc = util::parse_json(output).value_or(json());
    if (!doc.is_array()) {
        return std::nullopt;
    }
    std::set<std::string> out;
    for (const auto& service : doc) {
        const json& spec = child(service, "spec");
        const json& frontend = child(spec, "frontend-address");
        if (text(frontend, "ip") != ip || child(frontend, "port") != port) {
            continue;
        }
        const json& backends = child(spec, "backend-addresses");
        if (!backends.is_array()) {
            continue;
        }
        for (const auto& backend : backends) {
            if (!text(backend, "ip").empty()) {
                out.insert(text(backend, "ip"));
            }
        }
    }
    return out;
}

// Waits (bounded) until every agent lists every peer's Ready rebel-base Pods as backends of the global
// Service; fills in AgentView::backends, or leaves it unknown when an agent's list cannot be read.
void wait_for_backends(mesh::Session& session, std::vector<DemoCluster>& clusters,
                       std::vector<ClusterFacts>& facts, const DemoSettings& settings) {
    const auto deadline = session.host().now() + settings.backend_wait;
    std::chrono::milliseconds pause = df::k_demo_poll_first;
    std::vector<bool> settled(clusters.size(), false);
    std::string last;
    const std::vector<std::string> command(df::k_cilium_dbg_service_list.begin(),
                                           df::k_cilium_dbg_service_list.end());
    for (;;) {
        (void)mesh::for_each_parallel(clusters.size(), [&](std::size_t i) -> util::Result<void> {
            ClusterFacts& f = facts[i];
            if (settled[i] || !f.agents || !f.service) {
                settled[i] = true;
                return {};
            }
            const std::string ip = text(child(*f.service, "spec"), "clusterIP");
            auto answers = mesh::exec_in_agents(session, clusters[i].member->cluster, command);
            if (!answers || answers->empty()) {
                settled[i] = true; // unknown
                return {};
            }
            std::map<std::string, int> known;
            for (const auto& answer : *answers) {
                auto backends =
                    answer.answered ? backends_of(answer.output, ip, df::k_demo_port) : std::nullopt;
                if (!backends) {
                    f.agents->backends.reset();
                    settled[i] = true;
                    return {};
                }
                for (const auto& peer : facts) {
                    if (peer.name != f.name &&
                        std::any_of(peer.pod_ips.begin(), peer.pod_ips.end(),
                                    [&](const std::string& pod) { return backends->contains(pod); })) {
                        ++known[peer.name];
                    }
                }
            }
            f.agents->backends = known;
            bool complete = true;
            for (const auto& peer : facts) {
                if (peer.name != f.name && !peer.pod_ips.empty()) {
                    complete = complete && known[peer.name] >= static_cast<int>(answers->size());
                }
            }
            settled[i] = complete;
            return {};
        });
        if (std::all_of(settled.begin(), settled.end(), [](bool s) { return s; })) {
            return;
        }
        std::string line;
        for (std::size_t i = 0; i < facts.size(); ++i) {
            if (!settled[i]) {
                line += (line.empty() ? "" : ", ") + facts[i].name;
            }
        }
        if (line != last) {
            session.say(
                fmt::format("waiting up to {}s for the agents of {} to list the remote rebel-base Pods",
                            settings.backend_wait.count(), line));
            last = line;
        }
        if (session.host().now() >= deadline) {
            return;
        }
        session.host().sleep(pause);
        pause = std::min<std::chrono::milliseconds>(pause * 2, df::k_demo_poll_max);
    }
}

JobSpec client_job(const std::vector<ClusterFacts>& facts, std::size_t from, const DemoSettings& settings) {
    std::string pod_ips;
    int pods = 0;
    for (std::size_t j = 0; j < facts.size(); ++j) {
        if (j == from) {
            continue;
        }
        for (const auto& ip : facts[j].pod_ips) {
            pod_ips += (pod_ips.empty() ? "" : " ") + ip;
            ++pods;
        }
    }
    const auto per_request =
        df::k_demo_request_timeout + std::chrono::duration_cast<std::chrono::seconds>(
                                         df::k_demo_request_pause + std::chrono::milliseconds(999));
    JobSpec spec;
    spec.ns = settings.ns;
    spec.role = std::string(df::k_role_demo_verify);
    spec.image = settings.images.probe;
    spec.script = std::string(client_script());
    spec.env = {
        {"SERVICE", fmt::format("{}.{}.svc", df::k_demo_service, settings.ns)},
        {"POD_IPS", pod_ips},
        {"PORT", std::to_string(df::k_demo_port)},
        {"REQUESTS", std::to_string(settings.requests)},
        {"POD_REQUESTS", std::to_string(settings.pod_requests)},
        {"CONNECT_TIMEOUT", std::to_string(df::k_demo_connect_timeout.count())},
        {"MAX_TIME", std::to_string(df::k_demo_request_timeout.count())},
        {"PAUSE", fmt::format("{:.1f}", std::chrono::duration<double>(df::k_demo_request_pause).count())}};
    for (const auto& flag : settings.pull_secrets) {
        if (auto parsed = parse_pull_secret(flag)) {
            spec.pull_secrets.push_back(parsed->second);
        }
    }
    spec.deadline =
        per_request * (settings.requests + pods * settings.pod_requests) + std::chrono::seconds(30);
    return spec;
}

} // namespace

VerbOutcome verify(mesh::Session& session, std::vector<DemoCluster>& clusters, const DemoSettings& settings) {
    VerbOutcome out;
    std::vector<ClusterFacts> facts(clusters.size());
    if (auto read = mesh::for_each_parallel(clusters.size(),
                                            [&](std::size_t i) -> util::Result<void> {
                                                auto f = read_facts(clusters[i], settings);
                                                if (!f) {
                                                    return std::unexpected(f.error());
                                                }
                                                facts[i] = std::move(*f);
                                                return {};
                                            });
        !read) {
        out.exit_code = 2;
        out.message = read.error().message;
        return out;
    }
    if (auto missing = missing_demo(facts, settings.ns)) {
        out.exit_code = 1;
        out.message = *missing;
        return out;
    }
    session.say("asking every Cilium agent about its peers (cilium-dbg status)");
    (void)mesh::for_each_parallel(clusters.size(), [&](std::size_t i) -> util::Result<void> {
        facts[i].agents = agent_view(session, clusters[i]);
        return {};
    });
    wait_for_backends(session, clusters, facts, settings);
    DemoReport report;
    report.ns = settings.ns;
    report.requests = settings.requests;
    report.pod_requests = settings.pod_requests;
    report.findings = check_clusters(facts);
    for (const auto& f : facts) {
        report.clusters.push_back(f.name);
    }

    session.say(fmt::format(
        "running a Job in each cluster: {} requests to Service {}, {} to each remote rebel-base Pod",
        settings.requests, df::k_demo_service, settings.pod_requests));
    std::vector<DirectionInput> inputs(clusters.size());
    auto ran = mesh::for_each_parallel(clusters.size(), [&](std::size_t i) -> util::Result<void> {
        DirectionInput& input = inputs[i];
        input.from = facts[i].name;
        JobOptions options;
        options.keep = settings.keep;
        options.clock = &session.host();
        auto runs = run_jobs(*clusters[i].api, {client_job(facts, i, settings)}, options);
        if (!runs) {
            return std::unexpected(runs.error().with_context(facts[i].name));
        }
        const JobRun& run = runs->front();
        input.job = run.job;
        if (run.finished) {
            input.run = parse_client_log(run.log);
            session.say(fmt::format("{}: Job {} done ({} attempts read)", facts[i].name, run.job,
                                    input.run->attempts.size()));
        } else if (run.problem) {
            input.failure = describe(facts[i].name, *run.problem);
        } else {
            input.failure = fmt::format("{}: {}", facts[i].name, run.error);
        }
        return {};
    });
    if (!ran) {
        out.exit_code = 2;
        out.message = ran.error().message;
        return out;
    }
    report.pass = true;
    for (const auto& input : inputs) {
        report.directions.push_back(judge(input, facts, report.findings));
        report.pass = report.pass && report.directions.back().pass;
    }
    out.table = render_table(report, settings.terminal);
    out.document = render_json(report);
    const verify::LastResult last{report.pass ? "pass" : "fail",
                                  util::format_rfc3339(std::chrono::system_clock::now()),
                                  summary_line(report)};
    for (auto& cluster : clusters) {
        if (auto recorded = verify::record_result(*cluster.api, df::k_verify_result_demo_key, last);
            !recorded) {
            session.say(fmt::format("{}: could not record the result for `status`: {}", cluster.name(),
                                    recorded.error().message));
        }
    }
    out.exit_code = report.pass ? 0 : 1;
    out.message =
        report.pass ? "verified" : fmt::format("demo verify failed: {}", one_line(summary_line(report), 600));
    return out;
}

} // namespace meshlink::plugin::demo
