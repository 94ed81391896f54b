#include "plugin/verify/mesh_verify.hpp"

#include "plugin/defaults.hpp"
#include "plugin/demo/attempts.hpp"
#include "plugin/demo/jobs.hpp"
#include "plugin/mesh/step_wait.hpp"
#include "plugin/verify/record.hpp"
#include "plugin/verify/script.hpp"
#include "util/json_text.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace meshlink::plugin::verify {
namespace {

namespace df = defaults;
using mesh::child;
using mesh::text;
using nlohmann::json;

bool contains_lower(std::string text, std::string_view needle) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text.find(needle) != std::string::npos;
}

std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : std::string(separator)) + item;
    }
    return out;
}

// One probe target of a node: the result over its attempts.
struct TargetResult {
    std::string target;
    std::string address;
    bool open = false;
    std::map<std::string, int> outcomes;
    std::optional<std::string> invalid; // same NodePort: not a proof either way
};

struct NodeResult {
    std::string node;
    std::string job;
    bool ran = false;
    std::string failure;
    std::vector<TargetResult> targets;
};

struct AgentRemote {
    std::string agent;
    std::string node;
    std::string peer;
    bool answered = false;
    bool connected = false;
    bool ready = false;
    json synced = json::object();
    json counts = json::object();
    std::string status;
    std::string last_failure;
    std::string error;
};

struct ClusterResult {
    std::string name;
    bool host_network = true;
    std::vector<NodeResult> nodes;
    std::vector<AgentRemote> agents;
    std::vector<std::string> problems;
};

Endpoints endpoints_of(demo::DemoCluster& cluster, const std::string& ns) {
    const mesh::Cluster& c = cluster.member->cluster;
    Endpoints e;
    e.cluster = c.name;
    const auto ips = c.mesh_ips();
    if (c.apiserver.service_type == "LoadBalancer" && !c.apiserver.ingress.empty()) {
        e.clustermesh = fmt::format("{}:{}", c.apiserver.ingress.front(), df::k_clustermesh_port);
    } else if (c.apiserver.node_port && !ips.empty()) {
        e.clustermesh = fmt::format("{}:{}", ips.front(), *c.apiserver.node_port);
        e.node_port = c.apiserver.node_port;
    }
    if (auto service = cluster.api->get(demo::core_path("services", ns, df::k_mesh_apiserver_service));
        service && *service && !ips.empty()) {
        const json& ports = child(child(**service, "spec"), "ports");
        if (ports.is_array() && !ports.empty() && child(ports[0], "nodePort").is_number_integer()) {
            e.apiserver = fmt::format("{}:{}", ips.front(), ports[0]["nodePort"].get<int>());
        }
    }
    if (auto config = cluster.api->get(demo::core_path("configmaps", ns, df::k_cilium_config));
        config && *config) {
        const std::string kpr = text(child(**config, "data"), "kube-proxy-replacement");
        e.kube_proxy_replacement = kpr == "true" || kpr == "strict";
    }
    return e;
}

// The nodes that dial the peers, and whether from the host network.
util::Result<std::pair<std::vector<std::string>, bool>> dialing_nodes(demo::DemoCluster& cluster,
                                                                      const std::string& ns) {
    const mesh::Cluster& c = cluster.member->cluster;
    std::vector<std::string> nodes;
    if (c.apiserver.kvstoremesh) {
        auto pods =
            cluster.api->list(demo::core_path("pods", ns), std::string(df::k_clustermesh_apiserver_selector));
        if (!pods) {
            return std::unexpected(pods.error());
        }
        for (const auto& pod : *pods) {
            const std::string node = text(child(pod, "spec"), "nodeName");
            if (!node.empty() && std::find(nodes.begin(), nodes.end(), node) == nodes.end()) {
                nodes.push_back(node);
            }
        }
        return std::make_pair(nodes, false);
    }
    for (const auto& node : c.nodes) {
        if (node.ready) {
            nodes.push_back(node.name);
        }
    }
    return std::make_pair(nodes, true);
}

std::vector<AgentRemote> agent_remotes(mesh::Session& session, demo::DemoCluster& cluster,
                                       const std::vector<std::string>& peers) {
    std::vector<AgentRemote> out;
    auto answers = mesh::exec_in_agents(
        session, cluster.member->cluster,
        std::vector<std::string>(df::k_cilium_dbg_status.begin(), df::k_cilium_dbg_status.end()));
    if (!answers) {
        AgentRemote failed;
        failed.error = answers.error().message;
        out.push_back(failed);
        return out;
    }
    // An agent whose answer was not JSON is asked once more: a single exec can lose its output (a dropped
    // stream), which is not the agent's state.
    const auto is_json = [](const mesh::AgentExec& a) {
        return a.answered && util::parse_json(a.output).value_or(json()).is_object();
    };
    if (!std::all_of(answers->begin(), answers->end(), is_json)) {
        auto again = mesh::exec_in_agents(
            session, cluster.member->cluster,
            std::vector<std::string>(df::k_cilium_dbg_status.begin(), df::k_cilium_dbg_status.end()));
        for (auto& answer : *answers) {
            if (is_json(answer) || !again) {
                continue;
            }
            for (auto& retry : *again) {
                if (retry.pod == answer.pod && is_json(retry)) {
                    answer = std::move(retry);
                }
            }
        }
    }
    for (const auto& answer : *answers) {
        const json doc = answer.answered ? util::parse_json(answer.output).value_or(json()) : json();
        for (const auto& peer : peers) {
            AgentRemote r;
            r.agent = answer.pod;
            r.node = answer.node;
            r.peer = peer;
            if (!doc.is_object()) {
                r.error =
                    answer.answered ? "cilium-dbg status printed no JSON" : demo::one_line(answer.error);
                out.push_back(r);
                continue;
            }
            r.answered = true;
            const json& clusters = child(child(doc, "cluster-mesh"), "clusters");
            for (const auto& remote : clusters.is_array() ? clusters : json::array()) {
                if (text(remote, "name") != peer) {
                    continue;
                }
                // Every field is omitempty: absent means false or zero.
                r.connected = child(remote, "connected") == true;
                r.ready = child(remote, "ready") == true;
                r.status = demo::one_line(text(remote, "status"), 200);
                r.last_failure = demo::one_line(text(remote, "last-failure"), 40);
                for (const char* key : {"nodes", "endpoints", "identities", "services"}) {
                    r.synced[key] = child(child(remote, "synced"), key) == true;
                }
                for (const char* key : {"num-nodes", "num-endpoints", "num-identities", "num-shared-services",
                                        "num-failures"}) {
                    const json& value = child(remote, key);
                    r.counts[key] = value.is_number_integer() ? value.get<long long>() : 0;
                }
            }
            if (r.status.empty() && !r.connected) {
                r.status = "not listed by the agent";
            }
            out.push_back(r);
        }
    }
    return out;
}

json to_json(const ClusterResult& c) {
    json nodes = json::array();
    for (const auto& n : c.nodes) {
        json targets = json::array();
        for (const auto& t : n.targets) {
            targets.push_back({{"target", t.target},
                               {"address", t.address},
                               {"result", t.invalid ? "invalid"
                                          : t.open  ? "open"
                                                    : "closed"},
                               {"outcomes", t.outcomes},
                               {"invalid", t.invalid ? json(*t.invalid) : json()}});
        }
        nodes.push_back({{"node", n.node},
                         {"job", n.job},
                         {"ran", n.ran},
                         {"failure", n.failure.empty() ? json() : json(n.failure)},
                         {"targets", targets}});
    }
    json agents = json::array();
    for (const auto& a : c.agents) {
        agents.push_back({{"agent", a.agent},
                          {"node", a.node},
                          {"peer", a.peer},
                          {"answered", a.answered},
                          {"connected", a.connected},
                          {"ready", a.ready},
                          {"synced", a.synced},
                          {"counts", a.counts},
                          {"status", a.status},
                          {"lastFailure", a.last_failure},
                          {"error", a.error.empty() ? json() : json(a.error)}});
    }
    return {{"cluster", c.name},      {"hostNetwork", c.host_network},
            {"nodes", nodes},         {"agents", agents},
            {"problems", c.problems}, {"result", c.problems.empty() ? "pass" : "fail"}};
}

} // namespace

ProbeRun parse_probe_log(std::string_view log) {
    ProbeRun run;
    const demo::JsonLines scanned = demo::scan_json_lines(log, [&](const json& doc) {
        const auto target = demo::string_field(doc, "target", 80);
        const auto address = demo::string_field(doc, "address", 80);
        const auto rc = demo::int_field(doc, "rc");
        const auto connect = demo::string_field(doc, "connect", 16);
        const auto error = demo::string_field(doc, "error");
        if (demo::string_field(doc, "kind") != "tcp" || !target || !address || !rc || !connect || !error) {
            return false;
        }
        ProbeAttempt attempt;
        attempt.target = *target;
        attempt.address = *address;
        attempt.curl_exit = *rc;
        double seconds = 0;
        try {
            seconds = connect->empty() ? 0 : std::stod(*connect);
        } catch (const std::exception&) {
            seconds = 0;
        }
        // curl reports no timings for a failed transfer, so its exit code says whether TCP connected.
        attempt.connected = seconds > 0 || (*rc != 6 && *rc != 7 && *rc != 28) ||
                            (*rc == 28 && (contains_lower(*error, "ssl connection timeout") ||
                                           contains_lower(*error, "operation timed out")));
        attempt.error = demo::one_line(*error, 200);
        run.attempts.push_back(std::move(attempt));
        return true;
    });
    run.complete = scanned.complete;
    run.noise = scanned.noise;
    return run;
}

std::string probe_outcome(const ProbeAttempt& attempt) {
    if (attempt.connected) {
        return "open";
    }
    switch (attempt.curl_exit) {
    case 6:
        return "dns";
    case 7:
        return contains_lower(attempt.error, "unreachable") || contains_lower(attempt.error, "no route")
                   ? "unreachable"
                   : "refused";
    case 28:
        return "timeout";
    default:
        return fmt::format("other (curl {})", attempt.curl_exit);
    }
}

std::optional<std::string> same_node_port(const Endpoints& from, const Endpoints& peer) {
    if (!from.kube_proxy_replacement || !from.node_port || !peer.node_port ||
        *from.node_port != *peer.node_port) {
        return std::nullopt;
    }
    return fmt::format(
        "{} and {} expose the clustermesh-apiserver on the same NodePort {} and {} runs kube-proxy "
        "replacement: its own datapath answers {}'s NodePort, so a connection proves nothing; move "
        "one of them to another NodePort (`kubectl meshlink join` picks distinct ones)",
        from.cluster, peer.cluster, *from.node_port, from.cluster, peer.cluster);
}

demo::VerbOutcome run_mesh_verify(mesh::Session& session, std::vector<demo::DemoCluster>& clusters,
                                  const MeshVerifySettings& settings) {
    demo::VerbOutcome out;
    const std::string ns = session.options().ns;
    std::vector<Endpoints> endpoints(clusters.size());
    for (std::size_t i = 0; i < clusters.size(); ++i) {
        endpoints[i] = endpoints_of(clusters[i], ns);
    }
    std::vector<ClusterResult> results(clusters.size());
    session.say(
        "probing every peer's clustermesh and API server endpoints from the nodes that dial them, and "
        "asking every Cilium agent (cilium-dbg status)");
    auto ran = mesh::for_each_parallel(clusters.size(), [&](std::size_t i) -> util::Result<void> {
        ClusterResult& result = results[i];
        result.name = clusters[i].name();
        std::vector<std::string> peers;
        std::string targets;
        std::map<std::string, std::optional<std::string>> invalid; // target -> why
        for (std::size_t j = 0; j < clusters.size(); ++j) {
            if (j == i) {
                continue;
            }
            peers.push_back(endpoints[j].cluster);
            if (endpoints[j].clustermesh) {
                const std::string name = endpoints[j].cluster + "/clustermesh";
                targets +=
                    fmt::format("{}{}={}", targets.empty() ? "" : " ", name, *endpoints[j].clustermesh);
                invalid[name] = same_node_port(endpoints[i], endpoints[j]);
            } else {
                result.problems.push_back(
                    fmt::format("{} exposes no clustermesh-apiserver endpoint (no NodePort or "
                                "load balancer address): run `kubectl meshlink join`",
                                endpoints[j].cluster));
            }
            if (endpoints[j].apiserver) {
                const std::string name = endpoints[j].cluster + "/apiserver";
                targets += fmt::format(" {}={}", name, *endpoints[j].apiserver);
                invalid[name] = std::nullopt;
            }
        }
        result.agents = agent_remotes(session, clusters[i], peers);
        auto nodes = dialing_nodes(clusters[i], ns);
        if (!nodes) {
            return std::unexpected(nodes.error().with_context(result.name));
        }
        result.host_network = nodes->second;
        std::vector<demo::JobSpec> specs;
        for (const auto& node : nodes->first) {
            demo::JobSpec spec;
            spec.ns = ns;
            spec.role = std::string(df::k_role_mesh_verify);
            spec.labels = {{std::string(df::k_node_label), node}};
            spec.image = settings.probe_image;
            spec.script = std::string(tcp_probe_script());
            spec.env = {{"TARGETS", targets},
                        {"ATTEMPTS", std::to_string(df::k_tcp_probe_attempts)},
                        {"TIMEOUT", std::to_string(df::k_tcp_probe_timeout.count())}};
            spec.node = node;
            spec.host_network = nodes->second;
            spec.tolerate_everything = true;
            spec.pull_secrets = settings.pull_secrets;
            spec.deadline = std::chrono::seconds(60);
            specs.push_back(std::move(spec));
        }
        if (specs.empty() || targets.empty()) {
            result.problems.push_back(specs.empty() ? "no node to probe from" : "nothing to probe");
            return {};
        }
        demo::JobOptions options;
        options.keep = settings.keep;
        options.clock = &session.host();
        auto runs = demo::run_jobs(*clusters[i].api, specs, options);
        if (!runs) {
            return std::unexpected(runs.error().with_context(result.name));
        }
        for (std::size_t k = 0; k < runs->size(); ++k) {
            const demo::JobRun& run = (*runs)[k];
            NodeResult node;
            node.node = *specs[k].node;
            node.job = run.job;
            if (!run.finished) {
                node.failure = run.problem ? demo::describe(result.name, *run.problem) : run.error;
                result.problems.push_back(
                    fmt::format("node {}: the probe did not run: {}", node.node, node.failure));
                result.nodes.push_back(std::move(node));
                continue;
            }
            node.ran = true;
            const ProbeRun parsed = parse_probe_log(run.log);
            for (const auto& [name, why] : invalid) {
                TargetResult t;
                t.target = name;
                t.invalid = why;
                for (const auto& attempt : parsed.attempts) {
                    if (attempt.target == name) {
                        t.address = attempt.address;
                        t.open = t.open || attempt.connected;
                        ++t.outcomes[probe_outcome(attempt)];
                    }
                }
                if (t.invalid) {
                    result.problems.push_back(fmt::format("node {} -> {}: {}", node.node, name, *t.invalid));
                } else if (!t.open) {
                    std::vector<std::string> outcomes;
                    for (const auto& [what, count] : t.outcomes) {
                        outcomes.push_back(fmt::format("{} {}", count, what));
                    }
                    result.problems.push_back(fmt::format(
                        "node {} cannot connect to {} at {} ({}){}", node.node, name,
                        t.address.empty() ? "?" : t.address, outcomes.empty() ? "no attempt" : join(outcomes),
                        parsed.complete ? "" : "; the probe stopped early"));
                }
                node.targets.push_back(std::move(t));
            }
            result.nodes.push_back(std::move(node));
        }
        for (const auto& a : result.agents) {
            if (!a.error.empty()) {
                result.problems.push_back(
                    fmt::format("agent {}: {}", a.agent.empty() ? "?" : a.agent, a.error));
            } else if (!a.connected || !a.ready) {
                result.problems.push_back(fmt::format("agent {} ({}): {} {} ({})", a.agent, a.node, a.peer,
                                                      a.connected ? "connected, not ready" : "not connected",
                                                      a.status));
            }
        }
        return {};
    });
    if (!ran) {
        out.exit_code = 2;
        out.message = ran.error().message;
        return out;
    }
    const util::Terminal& term = settings.terminal;
    json document = {{"schemaVersion", 1}, {"clusters", json::array()}};
    bool pass = true;
    std::string table;
    for (const auto& r : results) {
        document["clusters"].push_back(to_json(r));
        pass = pass && r.problems.empty();
        table +=
            term.paint(util::Terminal::Tone::bold,
                       fmt::format("{} (probes from {})", r.name,
                                   r.host_network
                                       ? "every node, host network"
                                       : "the clustermesh-apiserver's nodes, pod network (KVStoreMesh)")) +
            "\n";
        for (const auto& n : r.nodes) {
            if (!n.ran) {
                table += fmt::format("  {}  {}  did not run\n", term.status_mark("fail"), n.node);
                continue;
            }
            for (const auto& t : n.targets) {
                std::vector<std::string> outcomes;
                for (const auto& [what, count] : t.outcomes) {
                    outcomes.push_back(fmt::format("{} {}", count, what));
                }
                table += fmt::format("  {}  {}  -> {} {}  {}\n",
                                     term.status_mark(t.invalid ? "unknown"
                                                      : t.open  ? "pass"
                                                                : "fail"),
                                     n.node, t.target, t.address,
                                     t.invalid ? "invalid (same NodePort)" : join(outcomes));
            }
        }
        for (const auto& a : r.agents) {
            if (a.error.empty()) {
                table += fmt::format("  {}  agent {} ({}) -> {}: {}, {}, synced nodes={} endpoints={} "
                                     "identities={} services={}, "
                                     "{} failures{}\n",
                                     term.status_mark(a.connected && a.ready ? "pass" : "fail"), a.agent,
                                     a.node, a.peer, a.connected ? "connected" : "not connected",
                                     a.ready ? "ready" : "not ready", a.synced.value("nodes", false),
                                     a.synced.value("endpoints", false), a.synced.value("identities", false),
                                     a.synced.value("services", false), a.counts.value("num-failures", 0LL),
                                     a.last_failure.empty() ? "" : " (last " + a.last_failure + ")");
            }
        }
        for (const auto& p : r.problems) {
            table += "  " + term.paint(util::Terminal::Tone::bad, "! ") + p + "\n";
        }
        table += "\n";
    }
    document["result"] = pass ? "pass" : "fail";
    std::string summary;
    for (const auto& r : results) {
        summary +=
            fmt::format("{}{}: {}", summary.empty() ? "" : "; ", r.name,
                        r.problems.empty() ? std::string("pass") : demo::one_line(r.problems.front(), 200));
    }
    const LastResult last{pass ? "pass" : "fail", util::format_rfc3339(std::chrono::system_clock::now()),
                          summary};
    for (auto& cluster : clusters) {
        if (auto recorded = record_result(*cluster.api, df::k_verify_result_mesh_key, last); !recorded) {
            session.say(fmt::format("{}: could not record the result for `status`: {}", cluster.name(),
                                    recorded.error().message));
        }
    }
    out.table =
        table + (pass ? term.paint(util::Terminal::Tone::good, "verified") +
                            ": every node reaches every peer's endpoints and every agent reports every peer "
                            "connected and ready\n"
                      : term.paint(util::Terminal::Tone::bad, "failed") + ": see the lines marked !\n");
    out.document = document;
    out.exit_code = pass ? 0 : 1;
    out.message = pass ? "verified" : "verify failed: " + summary;
    return out;
}

} // namespace meshlink::plugin::verify
