// Step 5: a clustermesh-apiserver in every cluster, reachable on a NodePort no other cluster of the mesh uses
// (docs/cilium-clustermesh.md, "Identical NodePorts": with kube-proxy replacement, agents would silently
// connect to themselves).
#include "plugin/mesh/step_enable.hpp"

#include "plugin/defaults.hpp"
#include "plugin/mesh/step_resolve.hpp"
#include "plugin/mesh/tools.hpp"

#include <fmt/format.h>

#include <set>

namespace meshlink::plugin::mesh {
namespace {

namespace df = defaults;

util::Result<void> reread_apiserver(Session& session, Cluster& c) {
    auto deployment = c.api->get(Kind::deployment, session.options().ns, df::k_clustermesh_apiserver);
    auto service = c.api->get(Kind::service, session.options().ns, df::k_clustermesh_apiserver);
    if (!deployment || !service) {
        return std::unexpected((!deployment ? deployment.error() : service.error()).with_context(c.context));
    }
    c.apiserver.deployed = deployment->has_value();
    if (*deployment) {
        c.apiserver.helm_owned = helm_owned(**deployment);
        for (const auto& container :
             child(child(child(child(**deployment, "spec"), "template"), "spec"), "containers")) {
            c.apiserver.kvstoremesh =
                c.apiserver.kvstoremesh || text(container, "name") == df::k_kvstoremesh_container;
        }
    }
    if (*service) {
        c.apiserver.service_type = text(child(**service, "spec"), "type");
        c.apiserver.service_helm_owned = helm_owned(**service);
        const json& ports = child(child(**service, "spec"), "ports");
        if (ports.is_array() && !ports.empty() && child(ports[0], "nodePort").is_number_integer()) {
            c.apiserver.node_port = ports[0]["nodePort"].get<int>();
        }
    }
    return {};
}

// The lowest port from the chart's default up that no cluster of the mesh uses.
int free_port(const std::set<int>& used) {
    int port = df::k_clustermesh_chart_node_port;
    while (used.contains(port) && port < df::k_node_port_max) {
        ++port;
    }
    return port;
}

util::Result<void> enable_one(Session& session, Cluster& c, const std::vector<std::string>& peers,
                              int node_port) {
    if (c.apiserver.deployed) {
        return {};
    }
    const std::string& type = session.options().service_type;
    switch (c.driver) {
    case Driver::native:
        return util::fail(
            util::ErrorKind::invalid,
            fmt::format(
                "{}: no clustermesh-apiserver, and Cilium here is not a Helm release: meshlink does "
                "not write the clustermesh-apiserver Deployment (its spec changes with every Cilium "
                "version). Enable it with the tool that installed Cilium, e.g. `helm upgrade ... "
                "--reuse-values --set clustermesh.useAPIServer=true --set "
                "clustermesh.apiserver.service.type={} --set clustermesh.apiserver.service.nodePort={}`, "
                "then run join again",
                c.name, type, node_port));
    case Driver::cilium_cli: {
        Change change{"cilium-cli/enable",
                      Action::cilium_cli,
                      "pending",
                      {peers.begin(), peers.end()},
                      {{"command", "clustermesh enable"}, {"undo", "clustermesh disable"}}};
        c.journal->intend(change);
        if (auto flushed = c.journal->flush(); !flushed) {
            return flushed;
        }
        if (auto ran =
                run_cilium(session, c, "enable",
                           {"clustermesh", "enable", "--context", c.tool_context, "--service-type", type});
            !ran) {
            return ran;
        }
        c.journal->mark_applied(change.id);
        break;
    }
    case Driver::helm: {
        // The values the cilium CLI sets (docs/cilium-clustermesh.md, "Enabling the clustermesh-apiserver"),
        // plus a NodePort of our choosing.
        json service = {{"type", type}};
        if (type == "NodePort") {
            service["nodePort"] = node_port;
        }
        const json values = {{"clustermesh",
                              {{"useAPIServer", true},
                               {"config", {{"enabled", true}}},
                               {"apiserver",
                                {{"service", service},
                                 {"tls",
                                  {{"auto",
                                    {{"enabled", true},
                                     {"method", "cronJob"},
                                     {"schedule", df::k_clustermesh_cert_renew_schedule}}}}}}}}}};
        Change change{
            "helm/enable",
            Action::helm,
            "pending",
            {peers.begin(), peers.end()},
            {{"values", "clustermesh.useAPIServer"}, {"undo", {{"clustermesh", {{"useAPIServer", false}}}}}}};
        c.journal->intend(change);
        if (auto flushed = c.journal->flush(); !flushed) {
            return flushed;
        }
        if (auto upgraded = helm_upgrade(session, c, "enable", values, "clustermesh.useAPIServer=true");
            !upgraded) {
            return upgraded;
        }
        c.journal->mark_applied(change.id);
        break;
    }
    }
    if (session.dry_run()) {
        c.apiserver.deployed = true;
        c.apiserver.service_type = type;
        c.apiserver.node_port = c.driver == Driver::helm ? std::optional<int>(node_port) : std::nullopt;
        return {};
    }
    return reread_apiserver(session, c);
}

// Moves `c`'s clustermesh-apiserver Service to `port`: a JSON patch guarded by a test of the old value, or
// the chart value when Helm owns the Service.
util::Result<void> move_node_port(Session& session, Cluster& c, const std::vector<std::string>& peers,
                                  int port) {
    const int previous = *c.apiserver.node_port;
    const std::string what = fmt::format("Service {}/{}", session.options().ns, df::k_clustermesh_apiserver);
    if (c.apiserver.service_helm_owned) {
        if (c.driver == Driver::native || !helm_available(session)) {
            return util::fail(
                util::ErrorKind::invalid,
                fmt::format("{}: {} uses NodePort {}, like another cluster of the mesh, and Helm owns it; "
                            "set a distinct one with `helm upgrade ... --reuse-values --set "
                            "clustermesh.apiserver.service.nodePort={}` (helm is not on PATH here), then "
                            "run join again",
                            c.name, what, previous, port));
        }
        Change change{
            "helm/nodePort",
            Action::helm,
            "pending",
            {peers.begin(), peers.end()},
            {{"values", "clustermesh.apiserver.service.nodePort"}, {"previous", previous}, {"value", port}}};
        c.journal->intend(change);
        if (auto flushed = c.journal->flush(); !flushed) {
            return flushed;
        }
        const json values = {{"clustermesh", {{"apiserver", {{"service", {{"nodePort", port}}}}}}}};
        if (auto upgraded = helm_upgrade(session, c, "enable", values,
                                         fmt::format("clustermesh.apiserver.service.nodePort={}", port));
            !upgraded) {
            return upgraded;
        }
        c.journal->mark_applied(change.id);
    } else {
        const json patch =
            json::array({{{"op", "test"}, {"path", "/spec/ports/0/nodePort"}, {"value", previous}},
                         {{"op", "replace"}, {"path", "/spec/ports/0/nodePort"}, {"value", port}}});
        if (session.dry_run()) {
            session.plan({c.name,
                          "enable",
                          fmt::format("patch {}: nodePort {} -> {}", what, previous, port),
                          patch,
                          {}});
            c.apiserver.node_port = port;
            return {};
        }
        Change change{fmt::format("services/{}/nodePort", df::k_clustermesh_apiserver),
                      Action::node_port,
                      "pending",
                      {peers.begin(), peers.end()},
                      {{"previous", previous}, {"value", port}}};
        c.journal->intend(change);
        if (auto flushed = c.journal->flush(); !flushed) {
            return flushed;
        }
        auto patched = c.api->patch(Kind::service, session.options().ns, df::k_clustermesh_apiserver,
                                    kube::PatchType::json, patch);
        if (!patched) {
            return std::unexpected(
                patched.error().with_context(fmt::format("{}: patching {}", c.context, what)));
        }
        c.journal->mark_applied(change.id);
    }
    session.say(fmt::format("{}: clustermesh-apiserver NodePort {} -> {} (distinct from the other clusters)",
                            c.name, previous, port));
    if (session.dry_run()) {
        c.apiserver.node_port = port;
        return {};
    }
    return reread_apiserver(session, c);
}

// Enables where absent (concurrently), then moves colliding NodePorts.
util::Result<void> enable(Session& session, std::vector<Cluster*>& clusters) {
    std::set<int> used;
    for (Cluster* c : clusters) {
        if (c->apiserver.deployed && c->apiserver.node_port) {
            used.insert(*c->apiserver.node_port);
        }
    }
    // Ports for clusters Helm enables: chosen now, so they never collide.
    std::vector<int> chosen(clusters.size(), 0);
    for (std::size_t i = 0; i < clusters.size(); ++i) {
        if (!clusters[i]->apiserver.deployed) {
            chosen[i] = free_port(used);
            used.insert(chosen[i]);
        }
    }
    auto enabled = for_each_parallel(clusters.size(), [&](std::size_t i) {
        Cluster& c = *clusters[i];
        return with_retries(session, c.name + ": enabling clustermesh-apiserver",
                            [&] { return enable_one(session, c, other_names(clusters, &c), chosen[i]); });
    });
    if (!enabled) {
        return enabled;
    }
    // Distinct NodePorts: the first cluster using a port keeps it.
    std::set<int> taken;
    for (Cluster* c : clusters) {
        if (c->apiserver.service_type != "NodePort" || !c->apiserver.node_port) {
            continue;
        }
        if (!taken.contains(*c->apiserver.node_port)) {
            taken.insert(*c->apiserver.node_port);
            continue;
        }
        std::set<int> all = taken;
        for (Cluster* other : clusters) {
            if (other->apiserver.node_port) {
                all.insert(*other->apiserver.node_port);
            }
        }
        const int port = free_port(all);
        const std::vector<std::string> peers = other_names(clusters, c);
        auto moved = with_retries(session, c->name + ": moving the NodePort",
                                  [&] { return move_node_port(session, *c, peers, port); });
        if (!moved) {
            return moved;
        }
        taken.insert(port);
    }
    for (Cluster* c : clusters) {
        if (!session.dry_run() && (!c->apiserver.deployed || !c->mesh_port())) {
            return util::fail(
                util::ErrorKind::invalid,
                fmt::format(
                    "{}: the clustermesh-apiserver has no {} to reach it on (Service {}/{} type \"{}\")",
                    c->name, session.options().service_type == "LoadBalancer" ? "address" : "NodePort",
                    session.options().ns, df::k_clustermesh_apiserver, c->apiserver.service_type));
        }
        for (Cluster* other : others(clusters, c)) {
            c->journal->set_step(other->name, "enable", other->tool_context);
        }
        if (auto flushed = c->journal->flush(); !flushed) {
            return flushed;
        }
        session.say(fmt::format("{}: clustermesh-apiserver {}on {} {}{}", c->name,
                                c->apiserver.ready ? "ready " : "", c->apiserver.service_type,
                                c->mesh_port() ? std::to_string(*c->mesh_port())
                                               : std::string("<allocated when enabled>"),
                                c->apiserver.kvstoremesh ? " (KVStoreMesh on)" : ""));
    }
    return {};
}

} // namespace

util::Result<void> step_enable(Session& session, std::vector<Cluster*>& clusters) {
    std::vector<Cluster*> enabled_here;
    for (Cluster* c : clusters) {
        if (!c->apiserver.deployed) {
            enabled_here.push_back(c);
        }
    }
    if (auto enabled = with_retries(session, "enable", [&] { return enable(session, clusters); }); !enabled) {
        return enabled;
    }
    if (session.dry_run()) {
        return {};
    }
    return for_each_cluster(session, enabled_here, "re-reading",
                            [&](Cluster& c) { return resolve(session, c); });
}

} // namespace meshlink::plugin::mesh
