#include "plugin/mesh/members.hpp"

#include "plugin/defaults.hpp"
#include "plugin/mesh/step_resolve.hpp"

#include <fmt/format.h>

#include <set>

namespace meshlink::plugin::mesh {

util::Result<std::vector<std::unique_ptr<Member>>> open_members(Session& session,
                                                                const std::vector<ClusterAccess>& given,
                                                                const OpenContext& open_context,
                                                                bool peers_given) {
    std::vector<std::unique_ptr<Member>> members;
    auto add = [&](const ClusterAccess* access, std::optional<ClusterAccess> owned) {
        auto member = std::make_unique<Member>();
        member->owned = std::move(owned);
        member->access = member->owned ? &*member->owned : access;
        member->cluster = cluster_of(*member->access);
        members.push_back(std::move(member));
    };
    auto resolve_all = [&](std::size_t from) {
        return for_each_parallel(members.size() - from, [&](std::size_t i) {
            Cluster& c = members[from + i]->cluster;
            return with_retries(session, c.context + ": resolving", [&] { return resolve(session, c); });
        });
    };
    for (const auto& access : given) {
        add(&access, std::nullopt);
    }
    if (auto resolved = resolve_all(0); !resolved) {
        return std::unexpected(resolved.error());
    }
    if (!peers_given) {
        const Cluster& local = members.front()->cluster;
        const JournalDoc journal = local.journal->snapshot();
        for (const auto& [peer, record] : journal.peers) {
            std::optional<ClusterAccess> found;
            for (const std::string& context : {record.context, peer}) {
                if (found || context.empty() || context == local.context) {
                    continue;
                }
                auto opened = open_context(context);
                if (!opened) {
                    return std::unexpected(opened.error());
                }
                found = std::move(*opened);
            }
            if (!found) {
                return util::fail(
                    util::ErrorKind::usage,
                    fmt::format("{}'s join journal records the peer {}, but the kubeconfig has no "
                                "context \"{}\"{}: name the peer's context as PEER",
                                local.display(), peer, peer,
                                record.context.empty() || record.context == peer
                                    ? ""
                                    : fmt::format(" nor \"{}\"", record.context)));
            }
            add(nullptr, std::move(found));
        }
        if (members.size() == 1) {
            return util::fail(util::ErrorKind::usage,
                              fmt::format("{} has no peers recorded by join (ConfigMap {}/{}): run "
                                          "`kubectl meshlink join PEER` first, or name the PEER contexts",
                                          local.display(), session.options().ns, defaults::k_mesh_journal));
        }
        if (auto resolved = resolve_all(1); !resolved) {
            return std::unexpected(resolved.error());
        }
    }
    std::set<std::string> names;
    for (const auto& member : members) {
        if (!names.insert(member->cluster.name).second) {
            return util::fail(
                util::ErrorKind::usage,
                fmt::format("two of the clusters are named \"{}\" in their cilium-config (context "
                            "{}): name each cluster of the mesh once",
                            member->cluster.name, member->cluster.context));
        }
    }
    return members;
}

} // namespace meshlink::plugin::mesh
