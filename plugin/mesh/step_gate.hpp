#pragma once
// The gate that closes step 1 of join: whatever stops a join stops it here, before anything is written. It
// refuses two clusters with one cluster-name, picks how each cluster's Cilium is driven (--backend and what
// owns it), refuses a cluster without a clustermesh-apiserver that no tool can enable, runs preflight
// (unless --skip-preflight, or the journals say every pair is joined already, when a re-run only verifies),
// and asks before the pod restarts step 6's hostAliases cause.

#include "plugin/mesh/access.hpp"
#include "plugin/mesh/session.hpp"
#include "plugin/preflight/check.hpp"
#include "util/error.hpp"

#include <expected>
#include <vector>

namespace meshlink::plugin::mesh {

// Why the gate stopped a join; nothing was written.
struct Refusal {
    int exit_code = 1; // 1: a check, the clusters' setup or the user said no; 2: an error
    util::Error error;
    std::vector<preflight::Check> failed_checks; // when preflight said no
};

// `clusters` resolved by step 1; `access` the same clusters as the caller connected them (preflight reads
// through their clients). Sets every cluster's driver.
std::expected<void, Refusal> step_gate(Session& session, std::vector<Cluster*>& clusters,
                                       const std::vector<ClusterAccess>& access);

// Checks preflight may fail that join itself fixes: the NodePort collision (step 5 gives each cluster its
// own).
bool join_fixes(const preflight::Check& check);

} // namespace meshlink::plugin::mesh
