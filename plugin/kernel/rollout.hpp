#pragma once
// The plugin's side of the cluster kernel rollout (README "Kernel rollout across a cluster"): which nodes
// need a new kernel (from the agents' node reports), writing the plan with its lock and privileged workload,
// reading the progress back, resume, abort and finish. The nodes do the work (`meshlink-agent kernel run`);
// the shared documents and their validation are probe/kernel_rollout.hpp.

#include "plugin/kernel/api.hpp"
#include "probe/kernel_rollout.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::kernel {

// One node as `kernel plan` judges it from its report.
enum class Verdict {
    upgrade,   // a node.kernel.* check fails and nothing rules an ELRepo kernel out
    current,   // no node.kernel.* check fails: nothing to do
    cannot,    // a kernel check fails, but the node cannot take an ELRepo kernel (reason says why)
    no_report, // no usable report: the agent has not judged it
};
std::string_view to_string(Verdict verdict);

struct NodeVerdict {
    std::string node;
    Verdict verdict = Verdict::no_report;
    std::string reason;               // the failing kernel checks, or why it cannot be upgraded
    std::string kernel;               // the running kernel per the report
    std::string cilium;               // the Cilium release the report was judged for
    std::vector<std::string> failing; // check IDs with status fail
};

// Judges each Node (full objects) from its meshlink.io/node-report annotation.
std::vector<NodeVerdict> judge_nodes(const std::vector<nlohmann::json>& nodes);
nlohmann::json to_json(const std::vector<NodeVerdict>& verdicts);

// The objects `kernel upgrade` writes: the lock Lease, the plan ConfigMap, then the workload (ServiceAccount,
// RBAC, DaemonSet limited to the plan's nodes).
std::vector<nlohmann::json> rollout_objects(const probe::RolloutPlan& plan,
                                            const std::optional<std::string>& image);

// Creates them in order. Refuses (ErrorKind::conflict) when a plan or lock already exists: one rollout at a
// time, and the last one is cleared by `kernel finish`.
util::Result<void> start_rollout(KernelApi& api, const std::vector<nlohmann::json>& objects,
                                 const std::function<void(const std::string&)>& progress);

struct NodeRow {
    std::string node;
    std::optional<probe::NodeProgress> progress; // of this rollout; nullopt: not started
    std::string problem;                         // the annotation could not be read, or the node is gone
    bool cordoned = false;
    bool holds = false;
};

struct RolloutStatus {
    std::optional<probe::RolloutPlan> plan;
    std::string plan_problem; // the ConfigMap exists but cannot be used
    bool lease_present = false;
    std::vector<std::string> holders;
    std::optional<probe::Halt> halt;
    probe::VersionPins pins;
    std::optional<std::string> renew_time;
    std::vector<NodeRow> nodes; // in plan order
    bool workload_present = false;

    // "running", "halted", "aborted", "complete" or "none".
    [[nodiscard]] std::string phase() const;
};

util::Result<RolloutStatus> read_status(KernelApi& api);
nlohmann::json to_json(const RolloutStatus& status);
// The table `kernel status` prints, with the halt's reason first when there is one.
std::string status_text(const RolloutStatus& status);

// Asks every failed node (or only `nodes`) to try again (or, with skip, to be left out). Returns the nodes
// asked, each with the failure that halted it. ErrorKind::invalid when no node has failed.
util::Result<std::vector<std::pair<std::string, std::string>>>
resume(KernelApi& api, const std::vector<std::string>& nodes, bool skip,
       std::chrono::system_clock::time_point now);

// No node starts any more; nodes in progress finish or undo their step.
util::Result<void> abort_rollout(KernelApi& api, std::chrono::system_clock::time_point now);

// Deletes the workload, the plan and the lock once no node is in progress (ErrorKind::conflict otherwise,
// naming the nodes). Returns the objects deleted ("DaemonSet meshlink-system/meshlink-kernel").
util::Result<std::vector<std::string>> finish(KernelApi& api);

// A fresh rollout id: 12 lowercase hex digits.
std::string new_rollout_id();

} // namespace meshlink::plugin::kernel
