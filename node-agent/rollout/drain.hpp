#pragma once
// Draining a node the way `kubectl drain` does, through the Eviction API so PodDisruptionBudgets are honoured
// (README "Kernel rollout across a cluster"): Pods managed by a DaemonSet and mirror Pods stay (they would
// come right back, or cannot be evicted); Pods with emptyDir volumes go only when the plan allows it
// (--delete-emptydir-data); Pods no controller would recreate are never evicted (they would be lost: the
// drain fails, naming them). A 429 (a budget says no) is retried until the drain deadline; any other refusal
// (a 500 for a Pod under two budgets, a 403) fails the node at once.
//
// Every round starts from the Pods the API server lists on the node now, so a restarted agent continues where
// the last one stopped and never evicts a Pod twice: an evicted Pod is gone or terminating
// (deletionTimestamp), and a terminating Pod is only waited for.

#include "node-agent/rollout/cluster.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace meshlink::agent::rollout {

struct PodRef {
    std::string namespace_name;
    std::string name;
    [[nodiscard]] std::string text() const { return namespace_name + "/" + name; }
};

struct DrainSelection {
    std::vector<PodRef> evict;        // to evict
    std::vector<PodRef> terminating;  // evicted or deleted already: waited for
    std::vector<std::string> kept;    // "kube-system/cilium-x (DaemonSet)", "kube-system/etcd-n (mirror)"
    std::vector<std::string> refused; // why the drain cannot proceed: "default/p: no controller ..."
};

// kubectl drain's filters, in its order: DaemonSet, mirror, local storage, unreplicated. Finished Pods
// (Succeeded, Failed) are evicted whatever their volumes, as kubectl does.
DrainSelection select_pods(const std::vector<nlohmann::json>& pods, bool delete_emptydir_data);

struct DrainRound {
    bool drained = false;             // nothing left on the node to evict or wait for
    std::vector<std::string> evicted; // evicted in this round
    std::vector<std::string> blocked; // "default/web-1: <the budget's message>" (429, retried)
    std::vector<std::string> waiting; // terminating Pods waited for
    std::string failure;              // non-empty: the drain failed (refused Pods, a 500, a 403, ...)
};

// One pass: list the node's Pods, select, evict each that may go. API errors of the list are errors; what the
// Eviction API answers is the round's result.
util::Result<DrainRound> drain_round(RolloutApi& api, const std::string& node, bool delete_emptydir_data);

} // namespace meshlink::agent::rollout
