// Step 7: every Cilium agent reports every peer ready (`cilium-dbg status -o json` in each agent pod, through
// kubectl exec), or, at the timeout, a diagnosis that names the cause (docs/cilium-clustermesh.md,
// "Misleading status errors": "context deadline exceeded" alone helps nobody).
#include "plugin/mesh/step_wait.hpp"

#include "kube/pki.hpp"
#include "plugin/defaults.hpp"
#include "plugin/mesh/step_connect.hpp"
#include "util/json_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace meshlink::plugin::mesh {
namespace {

namespace df = defaults;

bool contains_any(const std::string& haystack, std::initializer_list<std::string_view> needles) {
    std::string lower = haystack;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    return std::any_of(needles.begin(), needles.end(),
                       [&](std::string_view n) { return lower.find(n) != std::string::npos; });
}

bool san_matches(const std::vector<std::string>& names, const std::string& host) {
    for (const auto& name : names) {
        if (name == host) {
            return true;
        }
        if (name.starts_with("*.") && host.size() > name.size() - 1 && host.ends_with(name.substr(1)) &&
            host.find('.') == host.size() - (name.size() - 1)) {
            return true;
        }
    }
    return false;
}

} // namespace

int connected_agents(const std::vector<AgentStatus>& agents, const std::string& peer) {
    int ready = 0;
    for (const auto& agent : agents) {
        auto it = agent.remotes.find(peer);
        ready += it != agent.remotes.end() && it->second.ready ? 1 : 0;
    }
    return ready;
}

std::vector<std::string> kubectl_base(const Session& session, const Cluster& c) {
    std::vector<std::string> argv{session.options().kubectl};
    if (c.kubeconfig_file) {
        argv.push_back("--kubeconfig");
        argv.push_back(*c.kubeconfig_file);
    }
    argv.push_back("--context");
    argv.push_back(c.tool_context);
    return argv;
}

util::Result<std::vector<AgentExec>> exec_in_agents(Session& session, Cluster& c,
                                                    const std::vector<std::string>& command) {
    auto pods = c.api->list(Kind::pod, session.options().ns, df::k_cilium_agent_selector);
    if (!pods) {
        return std::unexpected(pods.error().with_context(c.context));
    }
    std::vector<AgentExec> out(pods->size());
    auto ran = for_each_parallel(pods->size(), [&](std::size_t i) -> util::Result<void> {
        const json& pod = (*pods)[i];
        AgentExec& answer = out[i];
        answer.pod = name_of(pod);
        answer.node = text(child(pod, "spec"), "nodeName");
        ToolRun run;
        run.argv = kubectl_base(session, c);
        for (const auto& arg :
             {std::string("exec"), std::string("-n"), session.options().ns, answer.pod, std::string("-c"),
              std::string(df::k_cilium_agent_container), std::string("--")}) {
            run.argv.push_back(arg);
        }
        run.argv.insert(run.argv.end(), command.begin(), command.end());
        run.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(df::k_exec_timeout);
        auto result = session.host().run(run);
        if (!result) {
            answer.error = result.error().message;
            return {};
        }
        if (result->exit_code != 0) {
            answer.error = fmt::format("kubectl exec exited {}", result->exit_code);
            return {};
        }
        answer.answered = true;
        answer.output = std::move(result->stdout_data);
        return {};
    });
    if (!ran) {
        return std::unexpected(ran.error());
    }
    return out;
}

util::Result<std::vector<AgentStatus>> agent_statuses(Session& session, Cluster& c) {
    auto answers = exec_in_agents(
        session, c, std::vector<std::string>(df::k_cilium_dbg_status.begin(), df::k_cilium_dbg_status.end()));
    if (!answers) {
        return std::unexpected(answers.error());
    }
    std::vector<AgentStatus> out;
    for (auto& answer : *answers) {
        AgentStatus status;
        status.pod = answer.pod;
        status.node = answer.node;
        status.error = answer.error;
        if (answer.answered) {
            const auto parsed = util::parse_json(answer.output);
            if (!parsed) {
                status.error = "cilium-dbg status printed no usable JSON: " + parsed.error().message;
            } else {
                const json& doc = *parsed;
                status.answered = true;
                for (const auto& cluster : child(child(doc, "cluster-mesh"), "clusters")) {
                    RemoteStatus remote;
                    remote.ready = child(cluster, "ready").is_boolean() && cluster["ready"].get<bool>();
                    remote.connected =
                        child(cluster, "connected").is_boolean() && cluster["connected"].get<bool>();
                    remote.status = text(cluster, "status");
                    remote.last_failure = text(cluster, "last-failure");
                    status.remotes[text(cluster, "name")] = remote;
                }
            }
        }
        out.push_back(std::move(status));
    }
    return out;
}

std::string diagnose(Session& session, const Cluster& c, const Cluster& peer,
                     const std::vector<AgentStatus>& agents, const std::vector<Cluster*>& clusters) {
    std::vector<std::string> causes;
    // 1. Identical NodePorts: agents reach their own clustermesh-apiserver.
    for (const Cluster* other : clusters) {
        if (other != &peer && other->mesh_port() && peer.mesh_port() &&
            *other->mesh_port() == *peer.mesh_port() && other->apiserver.service_type == "NodePort" &&
            peer.apiserver.service_type == "NodePort") {
            causes.push_back(
                fmt::format("identical NodePorts: {} and {} both serve clustermesh-apiserver on {}; with "
                            "kube-proxy replacement a node's own NodePort answers, so agents connect to "
                            "themselves. Give one another nodePort and re-run join",
                            other->name, peer.name, *peer.mesh_port()));
        }
    }
    // 2. What the agents themselves said.
    std::string failure;
    for (const auto& agent : agents) {
        auto it = agent.remotes.find(peer.name);
        if (it != agent.remotes.end() && !it->second.last_failure.empty()) {
            failure =
                it->second.last_failure + (it->second.status.empty() ? "" : " (" + it->second.status + ")");
        } else if (it != agent.remotes.end() && failure.empty()) {
            failure = it->second.status;
        }
    }
    // 3. The certificates: does the peer's server certificate carry <peer>.mesh.cilium.io, and is it signed
    // by the CA this side trusts for it?
    const std::string server = peer.server_cert.value(df::k_tls_cert_key);
    const std::string hostname = mesh_hostname(peer.name);
    if (!server.empty()) {
        if (auto info = kube::pki::parse_certificate(server);
            info && !san_matches(info->dns_names, hostname)) {
            causes.push_back(fmt::format(
                "certificate SAN: {}'s clustermesh-apiserver certificate is valid for {} but not {}",
                peer.name, json(info->dns_names).dump(), hostname));
        }
        const std::string trusted = client_files(c, peer) == ClientFiles::common
                                        ? common_trust(c)
                                        : peer.ca.value(df::k_cilium_ca_cert_key);
        if (!trusted.empty() && !kube::pki::verify_chain(server, trusted)) {
            causes.push_back(
                fmt::format("CA mismatch: {}'s clustermesh-apiserver certificate does not chain to the CA {} "
                            "trusts for it; share the CA (cilium-ca) or connect with per-peer certificates",
                            peer.name, c.name));
        }
    }
    // 4. Reachability of the endpoint, from here.
    const auto ips = peer_ips(peer);
    if (!ips.empty() && peer.mesh_port()) {
        auto cert = session.host().server_certificate(
            ips.front(), *peer.mesh_port(),
            std::chrono::duration_cast<std::chrono::milliseconds>(df::k_certificate_fetch_timeout));
        if (!cert) {
            causes.push_back(
                fmt::format("endpoint unreachable: {}:{} ({}) does not answer from this machine: {}; agents "
                            "need 2379/TCP via that NodePort on the peer nodes' InternalIPs",
                            ips.front(), *peer.mesh_port(), hostname, cert.error().message));
        }
    }
    if (contains_any(failure, {"unknown authority", "x509: certificate signed"}) && causes.empty()) {
        causes.push_back("CA mismatch (the agents report: " + failure + ")");
    } else if (contains_any(failure, {"valid for", "not valid for", "doesn't contain"}) && causes.empty()) {
        causes.push_back("certificate SAN (the agents report: " + failure + ")");
    } else if (contains_any(failure, {"refused", "deadline", "timeout", "no route", "unreachable"}) &&
               causes.empty()) {
        causes.push_back("endpoint unreachable (the agents report: " + failure + ")");
    }
    if (causes.empty()) {
        causes.push_back(failure.empty()
                             ? "no cause found: the agents report nothing about " + peer.name + " yet"
                             : "the agents report: " + failure);
    }
    std::string out;
    for (const auto& cause : causes) {
        out += "\n  - " + cause;
    }
    return out;
}

util::Result<void> step_wait(Session& session, std::vector<Cluster*>& clusters) {
    if (session.dry_run()) {
        for (Cluster* c : clusters) {
            session.plan({c->name,
                          "wait",
                          "run `kubectl exec ... -- cilium-dbg status -o json` in every agent pod until all "
                          "report every peer ready",
                          std::nullopt,
                          {}});
        }
        return {};
    }
    const auto deadline = session.host().now() + session.options().timeout;
    std::map<std::string, std::string> last_line;
    for (;;) {
        bool all = true;
        std::vector<std::vector<AgentStatus>> seen(clusters.size());
        auto polled = for_each_parallel(clusters.size(), [&](std::size_t i) -> util::Result<void> {
            auto statuses = agent_statuses(session, *clusters[i]);
            if (!statuses) {
                return std::unexpected(statuses.error());
            }
            seen[i] = std::move(*statuses);
            return {};
        });
        if (!polled && !transient(polled.error())) {
            return polled;
        }
        for (std::size_t i = 0; polled && i < clusters.size(); ++i) {
            for (Cluster* peer : others(clusters, clusters[i])) {
                const int ready = connected_agents(seen[i], peer->name);
                const int total = static_cast<int>(seen[i].size());
                all = all && total > 0 && ready == total;
                const std::string line = fmt::format("{}: {}/{} agents connected to {}", clusters[i]->name,
                                                     ready, total, peer->name);
                const std::string key = clusters[i]->name + "/" + peer->name;
                if (last_line[key] != line) {
                    session.say(line);
                    last_line[key] = line;
                }
            }
        }
        if (polled && all) {
            for (Cluster* c : clusters) {
                for (Cluster* peer : others(clusters, c)) {
                    c->journal->set_step(peer->name, "wait", peer->tool_context);
                    c->journal->set_peer_state(peer->name, "joined");
                }
                // The journal write is the one write of this step: repeat it on transient errors.
                if (auto flushed =
                        with_retries(session, c->name + ": journal", [&] { return c->journal->flush(); });
                    !flushed) {
                    return flushed;
                }
            }
            return {};
        }
        if (session.host().now() >= deadline) {
            std::string report;
            for (std::size_t i = 0; i < clusters.size(); ++i) {
                for (Cluster* peer : others(clusters, clusters[i])) {
                    const int ready = connected_agents(seen[i], peer->name);
                    if (ready < static_cast<int>(seen[i].size()) || seen[i].empty()) {
                        report += fmt::format("\n{} -> {}: {}/{} agents connected; diagnosis:{}",
                                              clusters[i]->name, peer->name, ready, seen[i].size(),
                                              diagnose(session, *clusters[i], *peer, seen[i], clusters));
                    }
                }
            }
            return util::fail(
                util::ErrorKind::timeout,
                fmt::format(
                    "timed out after {}s waiting for the agents to connect (--timeout):{}\nThe "
                    "configuration is in place; once the cause is fixed, `kubectl meshlink status` "
                    "shows the connection, and join can be re-run",
                    std::chrono::duration_cast<std::chrono::seconds>(session.options().timeout).count(),
                    report));
        }
        session.host().sleep(session.options().poll);
    }
}

} // namespace meshlink::plugin::mesh
