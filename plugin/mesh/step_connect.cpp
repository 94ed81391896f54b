// Step 6: every cluster learns every peer, both directions, in the formats the agents read
// (docs/cilium-clustermesh.md, "The cilium-clustermesh Secret") or through the tool that owns the objects.
#include "plugin/mesh/step_connect.hpp"

#include "kube/pki.hpp"
#include "plugin/defaults.hpp"
#include "plugin/mesh/formats.hpp"
#include "plugin/mesh/native.hpp"
#include "plugin/mesh/tools.hpp"
#include "util/base64.hpp"

#include <fmt/format.h>

namespace meshlink::plugin::mesh {
namespace {

namespace df = defaults;

bool chains(const std::string& cert, const std::string& ca) {
    return !cert.empty() && !ca.empty() && kube::pki::verify_chain(cert, ca).has_value();
}

// The chart's values entry for a peer (clustermesh.config.clusters[]).
json helm_cluster_entry(const Cluster& local, const Cluster& peer) {
    json entry = {{"name", peer.name},
                  {"ips", peer_ips(peer)},
                  {"port", peer.mesh_port().value_or(df::k_clustermesh_port)}};
    if (client_files(local, peer) == ClientFiles::per_peer) {
        entry["tls"] = {{"cert", util::base64_encode(peer.remote_cert.value(df::k_tls_cert_key))},
                        {"key", util::base64_encode(peer.remote_cert.value(df::k_tls_key_key))},
                        {"caCert", util::base64_encode(peer.ca.value(df::k_cilium_ca_cert_key))}};
    }
    return entry;
}

bool chart_uses_map(const Cluster& c) {
    const std::string version =
        c.helm && !c.helm->chart_version.empty() ? c.helm->chart_version : c.cilium_version;
    int major = 0;
    int minor = 0;
    return std::sscanf(version.c_str(), "%d.%d", &major, &minor) == 2 &&
           (major > 1 || (major == 1 && minor >= 20));
}

util::Result<void> connect_helm(Session& session, Cluster& c, const std::vector<Cluster*>& peers) {
    const json& current = child(child(c.helm->values, "clustermesh"), "config");
    const bool as_map = chart_uses_map(c);
    json clusters = child(current, "clusters");
    if (!clusters.is_array() && !clusters.is_object()) {
        clusters = as_map ? json::object() : json::array();
    }
    bool changed = !child(current, "enabled").is_boolean() || !current["enabled"].get<bool>();
    std::vector<std::string> names;
    for (Cluster* peer : peers) {
        json entry = helm_cluster_entry(c, *peer);
        names.push_back(peer->name);
        if (clusters.is_object()) {
            entry.erase("name");
            changed = changed || clusters.value(peer->name, json()) != entry;
            clusters[peer->name] = entry;
            continue;
        }
        bool found = false;
        for (auto& existing : clusters) {
            if (text(existing, "name") == peer->name) {
                found = true;
                changed = changed || existing != entry;
                existing = entry;
            }
        }
        if (!found) {
            clusters.push_back(entry);
            changed = true;
        }
    }
    for (Cluster* peer : peers) {
        c.journal->intend(Change{fmt::format("helm/cluster/{}", peer->name),
                                 Action::helm,
                                 "pending",
                                 {peer->name},
                                 {{"values", "clustermesh.config.clusters"}, {"cluster", peer->name}}});
    }
    if (!changed) {
        for (Cluster* peer : peers) {
            c.journal->mark_applied(fmt::format("helm/cluster/{}", peer->name));
        }
        return {};
    }
    if (auto flushed = c.journal->flush(); !flushed) {
        return flushed;
    }
    const json values = {
        {"clustermesh", {{"useAPIServer", true}, {"config", {{"enabled", true}, {"clusters", clusters}}}}}};
    if (auto upgraded = helm_upgrade(session, c, "connect", values,
                                     fmt::format("clustermesh.config.clusters += {}", json(names).dump()));
        !upgraded) {
        return upgraded;
    }
    for (Cluster* peer : peers) {
        c.journal->mark_applied(fmt::format("helm/cluster/{}", peer->name));
    }
    return {};
}

util::Result<void> connect_native(Session& session, Cluster& c, const std::vector<Cluster*>& peers) {
    const std::string& ns = session.options().ns;
    for (Cluster* peer : peers) {
        const auto port = peer->mesh_port();
        if (!port) {
            return util::fail(util::ErrorKind::invalid,
                              fmt::format("{}: no port to reach its clustermesh-apiserver on", peer->name));
        }
        const ClientFiles files = client_files(c, *peer);
        std::map<std::string, std::string> remote = {
            {peer->name, etcd_config(peer_endpoint(peer->name, *port), files, peer->name)}};
        if (files == ClientFiles::per_peer) {
            const std::string ca = peer->ca.value(df::k_cilium_ca_cert_key);
            const std::string cert = peer->remote_cert.value(df::k_tls_cert_key);
            const std::string key = peer->remote_cert.value(df::k_tls_key_key);
            if (ca.empty() || cert.empty() || key.empty()) {
                return util::fail(
                    util::ErrorKind::not_found,
                    fmt::format(
                        "{}: its CA differs from {}'s and Secret {}/{} or {}/{} is incomplete, so there "
                        "is no client certificate to connect with; wait for the clustermesh-apiserver "
                        "certificates (Helm's certgen Job) and run join again",
                        peer->name, c.name, ns, df::k_cilium_ca_secret, ns, df::k_clustermesh_remote_cert));
            }
            remote[per_peer_ca_key(peer->name)] = ca;
            remote[per_peer_cert_key(peer->name)] = cert;
            remote[per_peer_key_key(peer->name)] = key;
        }
        const std::vector<std::string> ips = peer_ips(*peer);
        if (c.apiserver.kvstoremesh) {
            // KVStoreMesh: it dials the peer; the agents read the local clustermesh-apiserver.
            auto written =
                ensure_secret_keys(session, c, df::k_cilium_kvstoremesh_secret, remote, peer->name);
            if (!written) {
                return std::unexpected(written.error());
            }
            const std::map<std::string, std::string> local = {
                {peer->name, etcd_config(kvstoremesh_endpoint(ns), ClientFiles::local, peer->name)}};
            if (auto agents =
                    ensure_secret_keys(session, c, df::k_cilium_clustermesh_secret, local, peer->name);
                !agents) {
                return std::unexpected(agents.error());
            }
            if (auto aliases = ensure_host_aliases(session, c, Kind::deployment, df::k_clustermesh_apiserver,
                                                   ips, mesh_hostname(peer->name), peer->name);
                !aliases) {
                return std::unexpected(aliases.error());
            }
        } else {
            if (auto written =
                    ensure_secret_keys(session, c, df::k_cilium_clustermesh_secret, remote, peer->name);
                !written) {
                return std::unexpected(written.error());
            }
            if (auto aliases = ensure_host_aliases(session, c, Kind::daemon_set, df::k_cilium_daemonset, ips,
                                                   mesh_hostname(peer->name), peer->name);
                !aliases) {
                return std::unexpected(aliases.error());
            }
        }
        if (auto flushed = c.journal->flush(); !flushed) {
            return flushed;
        }
    }
    return {};
}

} // namespace

std::vector<std::string> peer_ips(const Cluster& peer) {
    if (peer.apiserver.service_type == "LoadBalancer" && !peer.apiserver.ingress.empty()) {
        return peer.apiserver.ingress;
    }
    return peer.mesh_ips();
}

std::string common_trust(const Cluster& local) {
    const std::string ca = local.remote_cert.value(df::k_tls_ca_key);
    return !ca.empty() ? ca : local.ca.value(df::k_cilium_ca_cert_key);
}

ClientFiles client_files(const Cluster& local, const Cluster& peer) {
    // The common files are the local remote-cert and its CA: usable when the peer's server trusts that
    // certificate and the local side trusts the peer's server.
    const std::string cert = local.remote_cert.value(df::k_tls_cert_key);
    const std::string peer_ca = peer.ca.value(df::k_cilium_ca_cert_key);
    const std::string local_ca = common_trust(local);
    const std::string server = peer.server_cert.value(df::k_tls_cert_key);
    if (!chains(cert, peer_ca)) {
        return ClientFiles::per_peer;
    }
    if (!server.empty() && !chains(server, local_ca)) {
        return ClientFiles::per_peer;
    }
    return ClientFiles::common;
}

util::Result<std::vector<std::string>> restarts_needed(Session& session, std::vector<Cluster*>& clusters) {
    std::vector<std::string> out;
    for (Cluster* c : clusters) {
        if (c->driver != Driver::native) {
            continue; // the chart renders hostAliases itself when the tool upgrades it
        }
        const Kind kind = c->apiserver.kvstoremesh ? Kind::deployment : Kind::daemon_set;
        const std::string name(c->apiserver.kvstoremesh ? df::k_clustermesh_apiserver
                                                        : df::k_cilium_daemonset);
        for (Cluster* peer : others(clusters, c)) {
            auto missing =
                host_aliases_missing(session, *c, kind, name, peer_ips(*peer), mesh_hostname(peer->name));
            if (!missing) {
                return std::unexpected(missing.error());
            }
            if (*missing) {
                out.push_back(fmt::format("{} {}/{} in {} (hostAliases for {})", kind_name(kind),
                                          session.options().ns, name, c->name, mesh_hostname(peer->name)));
            }
        }
    }
    return out;
}

namespace {

// The cilium CLI's connections first (one bidirectional `connect` per pair it drives on both sides), then
// every cluster's own side concurrently.
util::Result<void> connect(Session& session, std::vector<Cluster*>& clusters) {
    // A pair the cilium CLI drives on both sides: one bidirectional `connect` (its default mode).
    for (std::size_t i = 0; i < clusters.size(); ++i) {
        for (std::size_t j = i + 1; j < clusters.size(); ++j) {
            Cluster& a = *clusters[i];
            Cluster& b = *clusters[j];
            const bool cli_a = a.driver == Driver::cilium_cli;
            const bool cli_b = b.driver == Driver::cilium_cli;
            if (!cli_a && !cli_b) {
                continue;
            }
            // From the CLI side; unicast when the other side is written by someone else.
            Cluster& from = cli_a ? a : b;
            Cluster& to = cli_a ? b : a;
            const bool both = cli_a && cli_b;
            const std::string id = fmt::format("cilium-cli/connect/{}", to.name);
            const bool configured =
                from.clustermesh.data.contains(to.name) && (!both || to.clustermesh.data.contains(from.name));
            Change change{id,
                          Action::cilium_cli,
                          "pending",
                          {to.name},
                          {{"destination", to.name}, {"bidirectional", both}}};
            if (configured && from.journal->find(id)) {
                from.journal->intend(change);
                continue;
            }
            if (configured) {
                continue; // connected before meshlink: not ours to undo
            }
            from.journal->intend(change);
            if (auto flushed = from.journal->flush(); !flushed) {
                return flushed;
            }
            std::vector<std::string> args{
                "clustermesh",           "connect",      "--context", from.tool_context,
                "--destination-context", to.tool_context};
            if (!both) {
                args.insert(args.end(), {"--connection-mode", "unicast"});
            }
            if (auto ran = run_cilium(session, from, "connect", args, to.kubeconfig_file); !ran) {
                return ran;
            }
            from.journal->mark_applied(id);
            if (auto flushed = from.journal->flush(); !flushed) {
                return flushed;
            }
        }
    }
    auto connected = for_each_parallel(clusters.size(), [&](std::size_t i) -> util::Result<void> {
        Cluster& c = *clusters[i];
        const std::vector<Cluster*> peers = others(clusters, &c);
        util::Result<void> result;
        if (c.driver == Driver::native) {
            result = with_retries(session, c.name + ": connecting",
                                  [&] { return connect_native(session, c, peers); });
        } else if (c.driver == Driver::helm) {
            result = connect_helm(session, c, peers);
        }
        if (!result) {
            return result;
        }
        for (Cluster* peer : peers) {
            c.journal->set_step(peer->name, "connect", peer->tool_context);
        }
        return c.journal->flush();
    });
    if (!connected) {
        return connected;
    }
    for (Cluster* c : clusters) {
        for (Cluster* peer : others(clusters, c)) {
            session.say(fmt::format(
                "{}: knows {} at {} ({})", c->name, peer->name,
                peer_endpoint(peer->name, peer->mesh_port().value_or(0)),
                client_files(*c, *peer) == ClientFiles::common ? "shared CA" : "per-peer certificates"));
        }
    }
    return {};
}

} // namespace

util::Result<void> step_connect(Session& session, std::vector<Cluster*>& clusters) {
    return with_retries(session, "connect", [&] { return connect(session, clusters); });
}

} // namespace meshlink::plugin::mesh
