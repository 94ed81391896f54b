#include "plugin/mesh/leave.hpp"

#include "plugin/defaults.hpp"
#include "plugin/mesh/changes.hpp"
#include "plugin/mesh/step_resolve.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshlink::plugin::mesh {
namespace {

util::Result<void> leave_side(Session& session, Cluster& c, const Cluster& peer) {
    Journal& journal = *c.journal;
    std::vector<Change> unused = journal.release_peer(peer.name);
    // The tools' connections go first (they read the objects the other changes remove).
    std::stable_partition(unused.begin(), unused.end(),
                          [](const Change& ch) { return ch.id.starts_with("cilium-cli/connect/"); });
    for (const auto& change : unused) {
        Change resolved = change;
        if (change.action == Action::cilium_cli && change.id.starts_with("cilium-cli/connect/")) {
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

LeaveOutcome run_leave(Session& session, const std::vector<ClusterAccess>& access) {
    LeaveOutcome out;
    Mesh mesh(access);
    std::vector<Cluster*>& clusters = mesh.clusters();
    if (auto resolved = step_resolve(session, clusters); !resolved) {
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
            if (change.action == Action::host_alias && change.peers.size() == 1 &&
                change.peers.contains(other)) {
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
