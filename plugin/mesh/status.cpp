#include "plugin/mesh/status.hpp"

#include "kube/pki.hpp"
#include "plugin/defaults.hpp"
#include "plugin/mesh/step_connect.hpp"
#include "plugin/mesh/step_resolve.hpp"
#include "plugin/mesh/step_wait.hpp"
#include "plugin/verify/record.hpp"
#include "util/terminal.hpp"
#include "util/time.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <set>

namespace meshlink::plugin::mesh {
namespace {

namespace df = defaults;

// The cluster that `peer` is: through the context its journal record names, else one named after it.
util::Result<std::optional<ClusterAccess>> reach_peer(const std::string& peer, const std::string& recorded,
                                                      const OpenContext& open_context) {
    auto access = open_context(recorded);
    if (access && !*access && recorded != peer) {
        return open_context(peer);
    }
    return access;
}

// The endpoint an entry of cilium-clustermesh / cilium-kvstoremesh names (its first "- " line after
// endpoints:).
std::string endpoint_of(const std::string& config) {
    const auto at = config.find("endpoints:");
    if (at == std::string::npos) {
        return {};
    }
    const auto dash = config.find("- ", at);
    if (dash == std::string::npos) {
        return {};
    }
    const auto end = config.find('\n', dash);
    return config.substr(dash + 2, end == std::string::npos ? std::string::npos : end - dash - 2);
}

// The peers an entry points at: keys whose value holds "endpoints:" (how the agent tells configs from files).
std::set<std::string> configured_peers(const Cluster& c) {
    std::set<std::string> out;
    for (const Secretish* secret : {&c.clustermesh, &c.kvstoremesh}) {
        for (const auto& [key, value] : secret->data) {
            if (value.find("endpoints:") != std::string::npos && key != c.name) {
                out.insert(key);
            }
        }
    }
    return out;
}

std::string remote_endpoint(const Cluster& c, const std::string& peer) {
    for (const Secretish* secret : {&c.kvstoremesh, &c.clustermesh}) {
        auto it = secret->data.find(peer);
        if (it != secret->data.end()) {
            return endpoint_of(it->second);
        }
    }
    return {};
}

json expiry(const Secretish& secret, std::string_view key) {
    auto it = secret.data.find(std::string(key));
    if (it == secret.data.end()) {
        return nullptr;
    }
    auto info = kube::pki::parse_certificate(it->second);
    if (!info) {
        return nullptr;
    }
    const auto days =
        std::chrono::duration_cast<std::chrono::days>(info->not_after - std::chrono::system_clock::now())
            .count();
    return {{"notAfter", util::format_rfc3339(info->not_after)}, {"daysLeft", days}};
}

json side(const Cluster& c) {
    json certificates = json::object();
    certificates[std::string(df::k_cilium_ca_secret)] = expiry(c.ca, df::k_cilium_ca_cert_key);
    certificates[std::string(df::k_clustermesh_server_cert)] = expiry(c.server_cert, df::k_tls_cert_key);
    certificates[std::string(df::k_clustermesh_remote_cert)] = expiry(c.remote_cert, df::k_tls_cert_key);
    return {{"name", c.name},
            {"context", c.context},
            {"clustermeshApiserver",
             {{"deployed", c.apiserver.deployed},
              {"ready", c.apiserver.ready},
              {"kvstoremesh", c.apiserver.kvstoremesh},
              {"serviceType", c.apiserver.service_type},
              {"port", c.mesh_port() ? json(*c.mesh_port()) : json(nullptr)}}},
            {"certificates", certificates}};
}

json agents_json(const std::vector<AgentStatus>& agents, const std::string& peer) {
    return {{"connected", connected_agents(agents, peer)}, {"total", agents.size()}};
}

} // namespace

util::Result<StatusReport> run_status(Session& session, const ClusterAccess& local_access,
                                      const OpenContext& open_context) {
    Cluster local = cluster_of(local_access);
    if (auto resolved = with_retries(session, "resolving", [&] { return resolve(session, local); });
        !resolved) {
        return std::unexpected(resolved.error());
    }
    const JournalDoc journal = local.journal->snapshot();
    std::set<std::string> peers = configured_peers(local);
    for (const auto& [name, record] : journal.peers) {
        peers.insert(name);
    }
    auto local_agents = agent_statuses(session, local);
    StatusReport report;
    json pairs = json::array();
    std::string table = fmt::format("{:<16} {:<12} {:<12} {:<16} {:<16} {:<8} {}\n", "PEER", "CONFIGURED",
                                    "JOURNAL", "AGENTS(LOCAL)", "AGENTS(PEER)", "CA", "ENDPOINT");
    for (const auto& peer_name : peers) {
        json pair = {{"name", peer_name}};
        const auto record = journal.peers.find(peer_name);
        const std::string context = record != journal.peers.end() ? record->second.context : std::string();
        pair["journal"] = {
            {"local", record != journal.peers.end() ? json(record->second.state) : json(nullptr)}};
        pair["configured"] = {{"local", configured_peers(local).contains(peer_name)}};
        pair["endpoint"] = {{"local", remote_endpoint(local, peer_name)}};
        pair["agents"] = {{"local", local_agents ? agents_json(*local_agents, peer_name) : json(nullptr)}};
        std::string peer_agents = "?";
        std::string ca = "?";
        auto access = reach_peer(peer_name, context, open_context);
        if (access && *access) {
            Cluster peer = cluster_of(**access);
            if (auto resolved =
                    with_retries(session, peer_name + ": resolving", [&] { return resolve(session, peer); });
                resolved && peer.name != peer_name) {
                // The context came from the journal (data anyone with write access to it may have put
                // there): it is used only when it reaches the cluster the journal names.
                pair["error"] = fmt::format("context \"{}\" reaches cluster {}, not {}; not read",
                                            util::printable(context), util::printable(peer.name),
                                            util::printable(peer_name));
            } else if (resolved) {
                pair["peer"] = side(peer);
                pair["configured"]["peer"] = configured_peers(peer).contains(local.name);
                pair["endpoint"]["peer"] = remote_endpoint(peer, local.name);
                const auto peer_journal = peer.journal->snapshot();
                const auto back = peer_journal.peers.find(local.name);
                pair["journal"]["peer"] =
                    back != peer_journal.peers.end() ? json(back->second.state) : json(nullptr);
                const bool common = client_files(local, peer) == ClientFiles::common &&
                                    client_files(peer, local) == ClientFiles::common;
                pair["caMatch"] = common;
                ca = common ? "shared" : "per-peer";
                if (auto agents = agent_statuses(session, peer); agents) {
                    pair["agents"]["peer"] = agents_json(*agents, local.name);
                    peer_agents = fmt::format("{}/{}", pair["agents"]["peer"]["connected"].get<int>(),
                                              pair["agents"]["peer"]["total"].get<std::size_t>());
                }
            } else {
                pair["error"] = resolved.error().message;
            }
        } else {
            pair["error"] =
                access ? fmt::format("no kubeconfig context for {} (join adds one named after it)", peer_name)
                       : access.error().message;
        }
        const bool both = pair["configured"].value("local", false) && pair["configured"].value("peer", false);
        const std::string local_agents_text =
            local_agents ? fmt::format("{}/{}", pair["agents"]["local"]["connected"].get<int>(),
                                       pair["agents"]["local"]["total"].get<std::size_t>())
                         : "?";
        table += fmt::format(
            "{:<16} {:<12} {:<12} {:<16} {:<16} {:<8} {}\n", util::printable(peer_name),
            both ? "both" : (pair["configured"].value("local", false) ? "local only" : "peer only"),
            record != journal.peers.end() ? record->second.state : "-", local_agents_text, peer_agents, ca,
            util::printable(pair["endpoint"].value("local", std::string())));
        pairs.push_back(std::move(pair));
    }
    report.document = {{"cluster", side(local)}, {"peers", pairs}};
    const json& cm = report.document["cluster"]["clustermeshApiserver"];
    report.table =
        fmt::format("{}: clustermesh-apiserver {}{}\n", local.display(),
                    cm["deployed"].get<bool>() ? (cm["ready"].get<bool>() ? "ready" : "not ready") : "absent",
                    cm["port"].is_null()
                        ? ""
                        : fmt::format(" on {} {}", cm["serviceType"].get<std::string>(), cm["port"].dump())) +
        (peers.empty() ? std::string("no peers\n") : table);
    // The last `verify` and `demo verify`, one line each (plugin/verify/record.hpp).
    if (auto results =
            local.api->get(Kind::config_map, session.options().ns, defaults::k_verify_result_configmap);
        results && *results) {
        json last = json::object();
        const std::pair<std::string_view, std::string_view> verbs[] = {
            {defaults::k_verify_result_mesh_key, "verify"},
            {defaults::k_verify_result_demo_key, "demo verify"}};
        const auto parsed = verify::parse_results(**results);
        for (const auto& [key, verb] : verbs) {
            const auto it = parsed.find(std::string(key));
            if (it == parsed.end()) {
                continue;
            }
            last[std::string(verb)] = {
                {"result", it->second.result}, {"at", it->second.at}, {"summary", it->second.summary}};
            report.table += fmt::format("last {}: {} at {}: {}\n", verb, it->second.result, it->second.at,
                                        it->second.summary);
        }
        report.document["lastVerify"] = last;
    }
    return report;
}

} // namespace meshlink::plugin::mesh
