#include "plugin/mesh/leave.hpp"

#include "plugin/defaults.hpp"
#include "plugin/kubeconfig/merge.hpp"
#include "plugin/mesh/changes.hpp"
#include "plugin/mesh/kubeconfig_record.hpp"
#include "plugin/mesh/step_kubeconfig.hpp"
#include "plugin/mesh/step_resolve.hpp"
#include "util/file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>

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
            // Both from this run, never from the journal (a planted value would choose the tool's files).
            resolved.detail["destinationContext"] = peer.tool_context;
            resolved.detail.erase("destinationKubeconfig");
            if (peer.kubeconfig_file) {
                resolved.detail["destinationKubeconfig"] = *peer.kubeconfig_file; // in memory only
            }
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

// The kubeconfig entries join recorded on this machine for the pair (local, peer), in the file join writes to
// and every other file of the user's KUBECONFIG: released, and removed where no other joined pair needs them
// (kept with --keep-kubeconfig).
util::Result<void> leave_kubeconfig(Session& session, const Cluster& local, const Cluster& peer) {
    const kube::LoadingRules& rules = session.options().kubeconfig_rules;
    std::vector<std::filesystem::path> files{kubeconfig::merge_target(rules, std::nullopt)};
    if (rules.explicit_path) {
        files.push_back(*rules.explicit_path);
    }
    files.insert(files.end(), rules.precedence.begin(), rules.precedence.end());
    std::set<std::filesystem::path> seen;
    for (const auto& file : files) {
        if (!seen.insert(std::filesystem::absolute(file)).second) {
            continue;
        }
        auto record = KubeconfigRecord::load(file);
        if (!record) {
            return std::unexpected(record.error());
        }
        const std::vector<RecordedEntries> unused = record->release(pair_key(local.name, peer.name));
        for (const auto& entries : unused) {
            record->forget(entries.name);
        }
        if (unused.empty() || session.options().keep_kubeconfig) {
            // Kept with --keep-kubeconfig: the user's from now on.
        } else if (auto current = util::read_file(file);
                   record->empty() && current && record->restorable(*current)) {
            // Every entry join wrote is released and the file is as join left it: the original comes back
            // byte for byte.
            const auto original = *record->restorable(*current);
            if (session.dry_run()) {
                session.plan({local.name,
                              "leave",
                              fmt::format("restore {} as it was before join (from {})", file.string(),
                                          original.string()),
                              std::nullopt,
                              {}});
                continue;
            }
            auto restored = restore_kubeconfig(*record, original);
            if (!restored) {
                return std::unexpected(restored.error());
            }
            if (*restored) {
                session.say(fmt::format("{}: restored {} as it was before join (from {})", local.name,
                                        file.string(), original.string()));
            } else { // changed meanwhile: entry by entry instead
                for (const auto& entries : unused) {
                    if (auto removed = remove_kubeconfig_entries(file, entries.name); !removed) {
                        return removed;
                    }
                }
            }
        } else {
            for (const auto& entries : unused) {
                const std::string what =
                    fmt::format("cluster, user and context \"{}\" from {}", entries.name, file.string());
                if (session.dry_run()) {
                    session.plan({local.name, "leave", "remove " + what, std::nullopt, {}});
                    continue;
                }
                if (auto removed = remove_kubeconfig_entries(file, entries.name); !removed) {
                    return removed;
                }
                session.say(fmt::format("{}: removed {}", local.name, what));
            }
        }
        if (!session.dry_run()) {
            if (auto saved = record->save(); !saved) {
                return saved;
            }
        }
    }
    return {};
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
    if (left) {
        left = leave_kubeconfig(session, local, peer);
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
