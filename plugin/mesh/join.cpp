#include "plugin/mesh/join.hpp"

#include "plugin/mesh/connect.hpp"
#include "plugin/mesh/steps.hpp"
#include "plugin/mesh/tools.hpp"

#include <fmt/format.h>

#include <set>

namespace meshlink::plugin::mesh {
namespace {

JoinOutcome failed(const util::Error& error, int code = 2) {
    JoinOutcome out;
    out.exit_code = code;
    out.message = error.message;
    return out;
}

} // namespace

bool join_fixes(const preflight::Check& check) {
    return check.id == preflight::check_id::nodeport_distinct;
}

JoinOutcome run_join(Session& session, std::vector<ClusterAccess>& access, const PreflightRunner& preflight) {
    std::vector<Cluster> storage(access.size());
    std::vector<Cluster*> clusters;
    for (std::size_t i = 0; i < access.size(); ++i) {
        Cluster& c = storage[i];
        c.context = access[i].context;
        c.tool_context = access[i].tool_context;
        c.kubeconfig_file = access[i].kubeconfig_file;
        c.rest = access[i].rest;
        c.api = access[i].api.get();
        clusters.push_back(&c);
    }
    const std::size_t total = 7;
    auto header = [&](int n, const std::string& what) {
        session.say(fmt::format("[{}/{}] {}", n, total, what));
    };

    // 1. Resolve both sides (concurrently), then preflight.
    header(1, "resolve: reading Cilium, its Helm release, clustermesh-apiserver, CAs and nodes");
    if (auto resolved =
            for_each_parallel(clusters.size(),
                              [&](std::size_t i) {
                                  return with_retries(session, clusters[i]->context + ": resolving",
                                                      [&] { return resolve(session, *clusters[i]); });
                              });
        !resolved) {
        return failed(resolved.error());
    }
    std::set<std::string> names;
    for (Cluster* c : clusters) {
        if (!names.insert(c->name).second) {
            return failed(
                util::Error{
                    util::ErrorKind::invalid,
                    fmt::format("two of the clusters are named \"{}\" in their cilium-config; every cluster "
                                "of a mesh needs a unique cluster-name",
                                c->name)},
                1);
        }
        auto driver = choose_driver(session, *c);
        if (!driver) {
            return failed(driver.error(), driver.error().kind == util::ErrorKind::usage ? 2 : 1);
        }
        c->driver = *driver;
        if (!c->apiserver.deployed && c->driver == Driver::native) {
            // Found now rather than in step 5: nothing is written before the run could finish.
            return failed(
                util::Error{
                    util::ErrorKind::invalid,
                    fmt::format("{}: no clustermesh-apiserver, and Cilium here is not a Helm release: "
                                "meshlink does not write the clustermesh-apiserver Deployment (its spec "
                                "changes with every Cilium version). Enable it with the tool that "
                                "installed Cilium, e.g. `helm upgrade <release> cilium/cilium "
                                "--reuse-values --set clustermesh.useAPIServer=true --set "
                                "clustermesh.apiserver.service.type={}`, then run join again; nothing "
                                "was changed",
                                c->name, session.options().service_type)},
                1);
        }
        session.say(fmt::format(
            "{}: cluster-id {}, Cilium {}, {}, clustermesh-apiserver {}, driven {}", c->display(), c->id,
            c->cilium_version.empty() ? "?" : c->cilium_version,
            c->helm ? fmt::format("Helm release {}/{}", c->helm->ns, c->helm->name) : "no Helm release",
            c->apiserver.deployed ? (c->apiserver.kvstoremesh ? "with KVStoreMesh" : "present") : "absent",
            to_string(c->driver)));
    }
    // A mesh the journals call joined on every side gets no preflight: nothing is about to be created, and
    // a re-run then only verifies (and repairs what drifted) without sending a single write (preflight's
    // SelfSubjectAccessReviews are POSTs).
    bool joined = true;
    for (Cluster* c : clusters) {
        const auto doc = c->journal->snapshot();
        for (Cluster* other : clusters) {
            if (other != c) {
                auto it = doc.peers.find(other->name);
                joined = joined && it != doc.peers.end() && it->second.state == "joined";
            }
        }
    }
    if (joined && !session.options().skip_preflight) {
        session.say("preflight: skipped, the journals say these clusters are joined (kubectl meshlink "
                    "preflight checks them)");
    }
    if (!session.options().skip_preflight && preflight && !joined) {
        session.say("preflight: checking every cluster and pair");
        std::vector<preflight::Check> failing;
        for (auto& check : preflight()) {
            if (check.status == preflight::Status::fail && !join_fixes(check)) {
                failing.push_back(std::move(check));
            }
        }
        if (!failing.empty()) {
            JoinOutcome out;
            out.exit_code = 1;
            out.failed_checks = std::move(failing);
            out.message = fmt::format(
                "preflight: {} check(s) failed; nothing was changed. Fix them (or pass --skip-preflight "
                "if you know better) and run join again",
                out.failed_checks.size());
            return out;
        }
    }
    // Pod restarts need consent before anything is written.
    auto restarts = restarts_needed(session, clusters);
    if (!restarts) {
        return failed(restarts.error());
    }
    if (!restarts->empty() && !session.dry_run()) {
        std::string list;
        for (const auto& line : *restarts) {
            list += "\n  - " + line;
        }
        const std::string question =
            fmt::format("join adds hostAliases to these pod templates, which restarts their pods "
                        "(rolling):{}\nContinue?",
                        list);
        if (!session.confirm(question)) {
            return failed(
                util::Error{
                    util::ErrorKind::cancelled,
                    fmt::format("not confirmed: join would restart pods by adding hostAliases to:{}\nRun it "
                                "again with --yes to allow the restarts (or answer y on a terminal); "
                                "nothing was changed",
                                list)},
                1);
        }
    }
    auto peers_of = [&](const Cluster* c) {
        std::vector<std::string> out;
        for (Cluster* other : clusters) {
            if (other != c) {
                out.push_back(other->name);
            }
        }
        return out;
    };

    header(2, "expose: each API server on a NodePort (Service meshlink-apiserver)");
    if (auto exposed = for_each_parallel(
            clusters.size(),
            [&](std::size_t i) {
                return with_retries(session, clusters[i]->name + ": exposing the API server",
                                    [&] { return expose(session, *clusters[i], peers_of(clusters[i])); });
            });
        !exposed) {
        return failed(exposed.error());
    }

    header(3, "kubeconfig: entries named after the Cilium clusters, with the exposed servers");
    std::vector<KubeconfigSource> sources;
    for (auto& a : access) {
        sources.push_back(a.source);
    }
    if (auto merged =
            with_retries(session, "kubeconfig", [&] { return merge_kubeconfig(session, clusters, sources); });
        !merged) {
        return failed(merged.error());
    }

    header(4, "ca: one CA where possible, per-peer certificates where not");
    if (auto shared = with_retries(session, "ca", [&] { return share_ca(session, clusters); }); !shared) {
        return failed(shared.error());
    }

    header(5, "enable: a clustermesh-apiserver in each cluster, on distinct NodePorts");
    std::vector<bool> was_deployed;
    for (Cluster* c : clusters) {
        was_deployed.push_back(c->apiserver.deployed);
    }
    if (auto enabled = with_retries(session, "enable", [&] { return enable(session, clusters); }); !enabled) {
        return failed(enabled.error());
    }
    // A clustermesh-apiserver the tools just enabled brings certificates and Secrets: read that cluster
    // again.
    if (!session.dry_run()) {
        if (auto reread =
                for_each_parallel(clusters.size(),
                                  [&](std::size_t i) -> util::Result<void> {
                                      if (was_deployed[i]) {
                                          return {};
                                      }
                                      return with_retries(session, clusters[i]->name + ": re-reading",
                                                          [&] { return resolve(session, *clusters[i]); });
                                  });
            !reread) {
            return failed(reread.error());
        }
    }

    header(6, "connect: every cluster learns every peer, both directions");
    if (auto connected = with_retries(session, "connect", [&] { return connect(session, clusters); });
        !connected) {
        return failed(connected.error());
    }

    header(7, "wait: every agent reports every peer connected");
    if (auto waited = wait_connected(session, clusters); !waited) {
        return failed(waited.error(), waited.error().kind == util::ErrorKind::timeout ? 1 : 2);
    }
    JoinOutcome out;
    out.plan = session.planned();
    std::vector<std::string> all;
    for (Cluster* c : clusters) {
        all.push_back(c->name);
    }
    out.message =
        session.dry_run()
            ? fmt::format("dry run: {} action(s) planned, nothing written", out.plan.size())
            : fmt::format("joined: {} form a connected ClusterMesh", fmt::format("{}", json(all).dump()));
    for (Cluster* c : clusters) {
        if (!c->ca_note.empty()) {
            out.message += fmt::format("\n  {}: CA: {}", c->name, c->ca_note);
        }
    }
    return out;
}

} // namespace meshlink::plugin::mesh
