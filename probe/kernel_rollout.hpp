#pragma once
// The cluster kernel rollout's shared documents (README "Kernel rollout across a cluster"). Three places in
// the cluster hold its state, each with one writer side and validated on every read, because anyone with
// write access to them could put anything there:
//  - the plan, ConfigMap meshlink-system/meshlink-kernel-plan (key plan.json): what a person asked for.
//  Written
//    only by `kubectl meshlink kernel upgrade | abort | resume`; the privileged agents may only read it.
//  - each node's progress, annotation meshlink.io/kernel-upgrade on its Node: written only by the agent on
//    that node (`meshlink-agent kernel run`), read by `kernel status`.
//  - the lock, Lease meshlink-system/meshlink-kernel-rollout: spec.holderIdentity lists the nodes holding it
//    (comma-separated, at most maxUnavailable), its annotations the version pinned per EL release and the
//    halt a failed node declared. Written by the agents; `kernel resume` may clear the halt and the holds of
//    nodes that no longer exist. Nothing ever takes a hold away because of its age.
// Fields are only added within a schemaVersion; unknown fields are ignored.

#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::probe {

inline constexpr int k_rollout_schema_version = 1;

// The plan's intent. "halted" and "complete" are not written anywhere: they follow from the nodes.
enum class RolloutPhase {
    running, // nodes may start
    aborted, // no node starts; nodes in progress finish their step, undo what they can, and let go
};
std::string_view to_string(RolloutPhase phase);

// What `kernel resume` asked of one failed node.
struct ResumeRequest {
    int attempt = 2;   // the attempt the node runs next (its failed attempt + 1)
    bool skip = false; // leave the node out (uncordoned unless it was cordoned before) instead of retrying
    std::string at;    // RFC 3339
};

struct RolloutPlan {
    std::string id;                          // 12 lowercase hex digits; progress of other rollouts is ignored
    std::string created_at;                  // RFC 3339
    std::string created_by;                  // "kubectl-meshlink/0.1.0"
    std::string cilium;                      // "1.18": the release the new kernel must pass for
    std::string flavor = "ml";               // ml | lt
    std::optional<std::string> version;      // what the user asked for ("7.1.9"); newest when unset
    std::vector<std::string> nodes;          // in the order they are upgraded
    std::string selection;                   // how the nodes were chosen ("-l pool=el9", "3 nodes named")
    int max_unavailable = 1;                 // lock holders at once
    std::chrono::seconds drain_timeout{600}; // evictions retried (disruption budgets) this long
    std::chrono::seconds health_timeout{600}; // after the boot: node Ready and its Cilium agent ready
    bool delete_emptydir_data = false;        // pods with emptyDir volumes may be evicted
    std::optional<std::string> repo_url;      // instead of ELRepo's kernel repository
    std::optional<std::string> repo_key;      // armored public key, trusted only with repo_key_fingerprint
    std::optional<std::string> repo_key_fingerprint;
    RolloutPhase phase = RolloutPhase::running;
    std::string aborted_at;
    std::map<std::string, ResumeRequest> resumes; // node -> the latest resume of it

    [[nodiscard]] bool includes(std::string_view node) const;
};

nlohmann::ordered_json to_json(const RolloutPlan& plan);
// Validates everything: ids, node names (DNS subdomains), versions, durations, sizes.
util::Result<RolloutPlan> plan_from_json(const nlohmann::json& document);
// The ConfigMap's plan.json text, parsed and validated; errors name the ConfigMap.
util::Result<RolloutPlan> plan_from_text(std::string_view text);

// A node's state in the rollout, in the order a node normally passes through them.
enum class NodeState {
    waiting,   // not started: something blocks it (the reason is in `message`)
    locked,    // holds the lock; stage comes next
    staging,   // stage is running (the new kernel installed as a one-shot next boot)
    draining,  // cordoned (after recording whether it was before), pods being evicted
    rebooting, // drained; the boot id is recorded and the reboot requested
    verifying, // the new kernel booted and was confirmed; waiting for the node and its Cilium agent
    done,      // uncordoned (unless it was cordoned before), lock released
    failed,    // a step failed: left cordoned, lock kept, rollout halted until resume or abort
    skipped,   // resume --skip: left on its kernel, uncordoned unless cordoned before, lock released
    aborted,   // abort before the reboot: the staged kernel undone, uncordoned, lock released
};
std::string_view to_string(NodeState state);
std::optional<NodeState> node_state_from(std::string_view text);
// True while the node holds (or is about to hold) the lock: locked .. verifying.
bool in_progress(NodeState state);

struct NodeFailure {
    std::string step; // the state it failed in ("staging", "draining", "rebooting", "verifying", ...)
    std::string message;
    std::string at;
};

struct NodeProgress {
    std::string rollout; // RolloutPlan::id
    NodeState state = NodeState::waiting;
    int attempt = 1;
    std::string message; // what is happening or why it waits
    std::string from;    // the kernel running when the node started
    std::string to;      // the kernel being installed
    std::optional<int> el;
    std::optional<bool> cordoned_before; // recorded before the cordon, so a restart never forgets it
    std::string boot_id;                 // the boot the reboot was requested from
    std::string reboot_requested_at;
    std::string reboot_method;   // "logind" | "systemctl"
    std::string started_at;      // when the node took the lock
    std::string step_started_at; // when the current state began (drain and health deadlines)
    std::string updated_at;
    std::optional<NodeFailure> error;

    // Equal apart from updated_at: a write that changes nothing else is not sent.
    [[nodiscard]] bool same_as(const NodeProgress& other) const;
};

nlohmann::ordered_json to_json(const NodeProgress& progress);
util::Result<NodeProgress> progress_from_json(const nlohmann::json& document);
// The annotation's text, parsed and validated.
util::Result<NodeProgress> progress_from_text(std::string_view text);

// The lock's holders: spec.holderIdentity is "node-a" or "node-a,node-b" (sorted, no duplicates); empty or
// absent when free.
std::vector<std::string> parse_holders(std::string_view holder_identity, std::string* problem = nullptr);
std::string format_holders(std::vector<std::string> holders);

// The version each EL release was pinned to ("9" -> "7.1.9-1.el9.elrepo"), the Lease annotation's JSON.
using VersionPins = std::map<int, std::string>;
nlohmann::json to_json(const VersionPins& pins);
util::Result<VersionPins> pins_from_text(std::string_view text);

// A failed node's halt, the Lease annotation's JSON.
struct Halt {
    std::string node;
    std::string reason;
    std::string at;
};
nlohmann::json to_json(const Halt& halt);
util::Result<Halt> halt_from_text(std::string_view text);

// Shapes of values that come from the cluster.
bool valid_node_name(std::string_view name); // DNS-1123 subdomain, as Kubernetes names Nodes
bool valid_rollout_id(std::string_view id);
bool valid_kernel_version(std::string_view version);  // "7.1.9" or "7.1.9-1.el9.elrepo"
bool valid_fingerprint(std::string_view fingerprint); // 40 hex digits

} // namespace meshlink::probe
