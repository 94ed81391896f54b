#include "plugin/mesh/step_gate.hpp"

#include "plugin/mesh/step_connect.hpp"
#include "plugin/mesh/tools.hpp"

#include <fmt/format.h>

#include <set>

namespace meshlink::plugin::mesh {
namespace {

std::unexpected<Refusal> refuse(util::Error error, int exit_code = 1) {
    return std::unexpected(Refusal{exit_code, std::move(error), {}});
}

// Every cluster's cluster-name must be unique in the mesh: the agents key everything by it.
std::expected<void, Refusal> unique_names(const std::vector<Cluster*>& clusters) {
    std::set<std::string> names;
    for (const Cluster* c : clusters) {
        if (!names.insert(c->name).second) {
            return refuse({util::ErrorKind::invalid,
                           fmt::format("two of the clusters are named \"{}\" in their cilium-config; every "
                                       "cluster of a mesh needs a unique cluster-name",
                                       c->name)});
        }
    }
    return {};
}

// The driver of each cluster, and no cluster left without a clustermesh-apiserver nobody can enable: found
// now rather than in step 5, so nothing is written before the run could finish.
std::expected<void, Refusal> drivers(Session& session, std::vector<Cluster*>& clusters) {
    for (Cluster* c : clusters) {
        auto driver = choose_driver(session, *c);
        if (!driver) {
            return refuse(driver.error(), driver.error().kind == util::ErrorKind::usage ? 2 : 1);
        }
        c->driver = *driver;
        if (!c->apiserver.deployed && c->driver == Driver::native) {
            return refuse(
                {util::ErrorKind::invalid,
                 fmt::format(
                     "{}: no clustermesh-apiserver, and Cilium here is not a Helm release: meshlink does "
                     "not write the clustermesh-apiserver Deployment (its spec changes with every "
                     "Cilium version). Enable it with the tool that installed Cilium, e.g. `helm "
                     "upgrade <release> cilium/cilium --reuse-values --set "
                     "clustermesh.useAPIServer=true --set clustermesh.apiserver.service.type={}`, then "
                     "run join again; nothing was changed",
                     c->name, session.options().service_type)});
        }
        session.say(fmt::format(
            "{}: cluster-id {}, Cilium {}, {}, clustermesh-apiserver {}, driven {}", c->display(), c->id,
            c->cilium_version.empty() ? "?" : c->cilium_version,
            c->helm ? fmt::format("Helm release {}/{}", c->helm->ns, c->helm->name) : "no Helm release",
            c->apiserver.deployed ? (c->apiserver.kvstoremesh ? "with KVStoreMesh" : "present") : "absent",
            to_string(c->driver)));
    }
    return {};
}

// Whether every cluster's journal calls every other cluster joined.
bool joined(const std::vector<Cluster*>& clusters) {
    for (const Cluster* c : clusters) {
        const auto doc = c->journal->snapshot();
        for (const Cluster* other : others(clusters, c)) {
            auto it = doc.peers.find(other->name);
            if (it == doc.peers.end() || it->second.state != "joined") {
                return false;
            }
        }
    }
    return true;
}

// A mesh the journals call joined gets no preflight: nothing is about to be created, and a re-run then only
// verifies (and repairs what drifted) without sending a single write (preflight's SelfSubjectAccessReviews
// are POSTs).
std::expected<void, Refusal> preflight_passes(Session& session, const std::vector<Cluster*>& clusters,
                                              const std::vector<ClusterAccess>& access) {
    if (session.options().skip_preflight) {
        return {};
    }
    if (joined(clusters)) {
        session.say("preflight: skipped, the journals say these clusters are joined (kubectl meshlink "
                    "preflight checks them)");
        return {};
    }
    session.say("preflight: checking every cluster and pair");
    std::vector<preflight::Check> failing;
    for (auto& check : preflight_checks(access)) {
        if (check.status == preflight::Status::fail && !join_fixes(check)) {
            failing.push_back(std::move(check));
        }
    }
    if (failing.empty()) {
        return {};
    }
    Refusal refusal;
    refusal.error = {util::ErrorKind::invalid,
                     fmt::format("preflight: {} check(s) failed; nothing was changed. Fix them (or pass "
                                 "--skip-preflight if you know better) and run join again",
                                 failing.size())};
    refusal.failed_checks = std::move(failing);
    return std::unexpected(std::move(refusal));
}

// Pod restarts need consent before anything is written.
std::expected<void, Refusal> restarts_allowed(Session& session, std::vector<Cluster*>& clusters) {
    auto restarts = restarts_needed(session, clusters);
    if (!restarts) {
        return refuse(restarts.error(), 2);
    }
    if (restarts->empty() || session.dry_run()) {
        return {};
    }
    std::string list;
    for (const auto& line : *restarts) {
        list += "\n  - " + line;
    }
    if (session.confirm(fmt::format("join adds hostAliases to these pod templates, which restarts their pods "
                                    "(rolling):{}\nContinue?",
                                    list))) {
        return {};
    }
    return refuse({util::ErrorKind::cancelled,
                   fmt::format("not confirmed: join would restart pods by adding hostAliases to:{}\nRun it "
                               "again with --yes to allow the restarts (or answer y on a terminal); nothing "
                               "was changed",
                               list)});
}

} // namespace

bool join_fixes(const preflight::Check& check) {
    return check.id == preflight::check_id::nodeport_distinct;
}

std::expected<void, Refusal> step_gate(Session& session, std::vector<Cluster*>& clusters,
                                       const std::vector<ClusterAccess>& access) {
    if (auto unique = unique_names(clusters); !unique) {
        return unique;
    }
    if (auto driven = drivers(session, clusters); !driven) {
        return driven;
    }
    if (auto checked = preflight_passes(session, clusters, access); !checked) {
        return checked;
    }
    return restarts_allowed(session, clusters);
}

} // namespace meshlink::plugin::mesh
