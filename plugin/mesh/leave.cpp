#include "plugin/mesh/leave.hpp"

#include "plugin/defaults.hpp"
#include "plugin/mesh/native.hpp"
#include "plugin/mesh/steps.hpp"
#include "plugin/mesh/tools.hpp"

#include <fmt/format.h>

namespace meshlink::plugin::mesh {
namespace {

// The Helm value change that takes `change` back, or null when there is none to make.
json helm_undo_values(const Cluster& c, const Change& change) {
    const std::string id = change.id;
    if (id.starts_with("helm/cluster/")) {
        const std::string peer = change.detail.value("cluster", "");
        json clusters =
            child(child(child(c.helm ? c.helm->values : json(), "clustermesh"), "config"), "clusters");
        if (clusters.is_object()) {
            clusters.erase(peer);
        } else if (clusters.is_array()) {
            json kept = json::array();
            for (const auto& entry : clusters) {
                if (text(entry, "name") != peer) {
                    kept.push_back(entry);
                }
            }
            clusters = kept;
        } else {
            return nullptr;
        }
        return {{"clustermesh", {{"config", {{"clusters", clusters}}}}}};
    }
    if (id == "helm/nodePort") {
        return {{"clustermesh", {{"apiserver", {{"service", {{"nodePort", change.detail["previous"]}}}}}}}};
    }
    if (id == "helm/enable") {
        return {{"clustermesh", {{"useAPIServer", false}, {"config", {{"enabled", false}}}}}};
    }
    return nullptr;
}

util::Result<void> undo(Session& session, Cluster& c, const Change& change) {
    if (change.action == "kubeconfig") {
        if (session.options().keep_kubeconfig) {
            return {};
        }
        const std::string file = change.detail.value("file", "");
        const std::string name = change.detail.value("name", "");
        if (session.dry_run()) {
            session.plan({c.name,
                          "leave",
                          fmt::format("remove cluster, user and context \"{}\" from {}", name, file),
                          std::nullopt,
                          {}});
            return {};
        }
        return remove_kubeconfig_entries(file, name);
    }
    if (change.action == "cilium-cli") {
        std::vector<std::string> args;
        if (change.id == "cilium-cli/enable") {
            args = {"clustermesh", "disable", "--context", c.tool_context};
        } else {
            args = {"clustermesh",
                    "disconnect",
                    "--context",
                    c.tool_context,
                    "--destination-context",
                    change.detail.value("destinationContext", change.detail.value("destination", ""))};
        }
        return run_cilium(session, c, "leave", args);
    }
    if (change.action == "helm") {
        const json values = helm_undo_values(c, change);
        if (values.is_null()) {
            session.say(
                fmt::format("{}: warning: {} ({}) cannot be taken back through Helm values; left as it is",
                            c.name, change.id, change.detail.value("values", "")));
            return {};
        }
        return helm_upgrade(session, c, "leave", values, "undo " + change.id);
    }
    return undo_native(session, c, change);
}

util::Result<void> leave_side(Session& session, Cluster& c, const Cluster& peer) {
    Journal& journal = *c.journal;
    std::vector<Change> unused = journal.release_peer(peer.name);
    // The tools' connections go first (they read the objects the other changes remove).
    std::stable_partition(unused.begin(), unused.end(),
                          [](const Change& ch) { return ch.id.starts_with("cilium-cli/connect/"); });
    for (const auto& change : unused) {
        Change resolved = change;
        if (change.action == "cilium-cli" && change.id.starts_with("cilium-cli/connect/")) {
            resolved.detail["destinationContext"] = peer.tool_context;
        }
        auto undone = with_retries(session, fmt::format("{}: undoing {}", c.name, change.id),
                                   [&] { return undo(session, c, resolved); });
        if (!undone) {
            return undone;
        }
        if (!session.dry_run()) {
            session.say(fmt::format("{}: undone {}", c.name, change.id));
        }
        journal.forget(change.id);
        if (auto flushed = journal.flush(); !flushed) {
            return flushed;
        }
    }
    journal.forget_peer(peer.name);
    return journal.flush();
}

} // namespace

LeaveOutcome run_leave(Session& session, std::vector<ClusterAccess>& access) {
    LeaveOutcome out;
    std::vector<Cluster> storage(access.size());
    std::vector<Cluster*> clusters;
    for (std::size_t i = 0; i < access.size(); ++i) {
        storage[i].context = access[i].context;
        storage[i].tool_context = access[i].tool_context;
        storage[i].kubeconfig_file = access[i].kubeconfig_file;
        storage[i].rest = access[i].rest;
        storage[i].api = access[i].api.get();
        clusters.push_back(&storage[i]);
    }
    if (auto resolved =
            for_each_parallel(clusters.size(),
                              [&](std::size_t i) {
                                  return with_retries(session, clusters[i]->context + ": resolving",
                                                      [&] { return resolve(session, *clusters[i]); });
                              });
        !resolved) {
        out.exit_code = 2;
        out.message = resolved.error().message;
        return out;
    }
    Cluster& local = *clusters[0];
    Cluster& peer = *clusters[1];
    const auto mine = local.journal->snapshot();
    const auto theirs = peer.journal->snapshot();
    if (!mine.peers.contains(peer.name) && !theirs.peers.contains(local.name)) {
        out.exit_code = 1;
        out.message = fmt::format(
            "{} and {} have no join recorded in their journals (ConfigMap {}/{}); nothing to undo. "
            "meshlink leaves alone what it did not create",
            local.name, peer.name, session.options().ns, defaults::k_mesh_journal);
        return out;
    }
    // Removing hostAliases restarts pods: ask first.
    std::vector<std::string> restarts;
    for (const auto* pair : {&mine, &theirs}) {
        const std::string& other = pair == &mine ? peer.name : local.name;
        for (const auto& change : pair->changes) {
            if (change.action == "host-alias" && change.peers.size() == 1 && change.peers.contains(other)) {
                restarts.push_back(fmt::format("{} {} in {}", change.detail.value("kind", ""),
                                               change.detail.value("name", ""), pair->cluster));
            }
        }
    }
    if (!restarts.empty() && !session.dry_run() &&
        !session.confirm(fmt::format("leave removes hostAliases, which restarts the pods of: {}. Continue?",
                                     json(restarts).dump()))) {
        out.exit_code = 1;
        out.message = fmt::format(
            "not confirmed: leave would restart the pods of {}; run it again with --yes. Nothing was changed",
            json(restarts).dump());
        return out;
    }
    // One side after the other: the tools' disconnect reads the peer's objects that the peer's own undo
    // removes.
    auto left = leave_side(session, local, peer);
    if (left) {
        left = leave_side(session, peer, local);
    }
    if (!left) {
        out.exit_code = 2;
        out.message = left.error().message + "\nRun leave again to finish: it resumes where it stopped";
        return out;
    }
    out.plan = session.planned();
    out.message =
        session.dry_run()
            ? fmt::format("dry run: {} action(s) planned, nothing written", out.plan.size())
            : fmt::format("left: {} and {} are no longer connected; everything join recorded for them "
                          "is undone",
                          local.name, peer.name);
    return out;
}

} // namespace meshlink::plugin::mesh
