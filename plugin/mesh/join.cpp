#include "plugin/mesh/join.hpp"

#include "plugin/mesh/step_ca.hpp"
#include "plugin/mesh/step_connect.hpp"
#include "plugin/mesh/step_enable.hpp"
#include "plugin/mesh/step_expose.hpp"
#include "plugin/mesh/step_gate.hpp"
#include "plugin/mesh/step_kubeconfig.hpp"
#include "plugin/mesh/step_resolve.hpp"
#include "plugin/mesh/step_wait.hpp"

#include <fmt/format.h>

#include <array>
#include <string_view>

namespace meshlink::plugin::mesh {
namespace {

struct Step {
    std::string_view headline; // shown as "[n/7] <headline>"
    util::Result<void> (*run)(Session& session, std::vector<Cluster*>& clusters);
    // A timeout is the join's verdict (the agents did not connect in time: exit 1), not a failure to run.
    bool timeout_is_verdict = false;
};

constexpr std::array k_steps = {
    Step{"resolve: reading Cilium, its Helm release, clustermesh-apiserver, CAs and nodes", step_resolve},
    Step{"expose: each API server on a NodePort (Service meshlink-apiserver)", step_expose},
    Step{"kubeconfig: a context that works from anywhere for every cluster (entries only where one is "
         "missing)",
         step_kubeconfig},
    Step{"ca: one CA where possible, per-peer certificates where not", step_ca},
    Step{"enable: a clustermesh-apiserver in each cluster, on distinct NodePorts", step_enable},
    Step{"connect: every cluster learns every peer, both directions", step_connect},
    Step{"wait: every agent reports every peer connected", step_wait, true},
};

JoinOutcome stopped(int exit_code, std::string message, std::vector<preflight::Check> failed_checks = {}) {
    JoinOutcome out;
    out.exit_code = exit_code;
    out.message = std::move(message);
    out.failed_checks = std::move(failed_checks);
    return out;
}

JoinOutcome joined(Session& session, const std::vector<Cluster*>& clusters) {
    JoinOutcome out;
    out.plan = session.planned();
    std::vector<std::string> names;
    for (const Cluster* c : clusters) {
        names.push_back(c->name);
    }
    out.message = session.dry_run()
                      ? fmt::format("dry run: {} action(s) planned, nothing written", out.plan.size())
                      : fmt::format("joined: {} form a connected ClusterMesh", json(names).dump());
    for (const Cluster* c : clusters) {
        if (!c->ca_note.empty()) {
            out.message += fmt::format("\n  {}: CA: {}", c->name, c->ca_note);
        }
    }
    return out;
}

} // namespace

JoinOutcome run_join(Session& session, const std::vector<ClusterAccess>& access) {
    Mesh mesh(access);
    std::vector<Cluster*>& clusters = mesh.clusters();
    for (std::size_t i = 0; i < k_steps.size(); ++i) {
        const Step& step = k_steps[i];
        session.say(fmt::format("[{}/{}] {}", i + 1, k_steps.size(), step.headline));
        if (auto done = step.run(session, clusters); !done) {
            const bool verdict = step.timeout_is_verdict && done.error().kind == util::ErrorKind::timeout;
            return stopped(verdict ? 1 : 2, done.error().message);
        }
        if (i == 0) {
            // The gate closes step 1: nothing has been written before it.
            if (auto passed = step_gate(session, clusters, access); !passed) {
                Refusal& refusal = passed.error();
                return stopped(refusal.exit_code, refusal.error.message, std::move(refusal.failed_checks));
            }
        }
    }
    return joined(session, clusters);
}

} // namespace meshlink::plugin::mesh
