#pragma once
// `meshlink-agent kernel run`: one node's part of the cluster kernel rollout, as a state machine driven by
// what the cluster records (README "Kernel rollout across a cluster"). Each pass reads the plan, the lock and
// the node's own progress annotation, does at most one step and records it before it moves on, so a restarted
// agent (kill -9, the reboot itself) continues from the recorded state:
//
//   waiting   -> blockers checked (the nodes before it in the plan finished, node Ready, its Cilium agent
//   ready, no halt, a free hold); take a hold locked    -> (record) stage: the new kernel installed as a
//   one-shot next boot, version pinned per EL staging   -> (record whether the node was cordoned, and cordon,
//   in one write) drain draining  -> evictions like kubectl drain until nothing is left or the drain timeout
//   rebooting -> (record the boot id) reboot through logind; after the boot: confirm
//   verifying -> node Ready and its Cilium agent ready, or the health timeout
//   done      -> (uncordon unless it was cordoned before, and record, in one write) release the hold
//
// A failure at any step is recorded (step, message), the node stays cordoned, its hold is kept and the
// rollout is halted until `kubectl meshlink kernel resume` (retry or --skip) or `abort`. An abort undoes a
// node that has not rebooted yet (the staged kernel rolled back, uncordoned) and lets a rebooting one finish.

#include "node-agent/kernel/host.hpp"
#include "node-agent/rollout/cluster.hpp"
#include "node-agent/rollout/lock.hpp"
#include "node-agent/rollout/reboot.hpp"
#include "probe/bpf.hpp"
#include "probe/kernel_rollout.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>

namespace meshlink::agent::rollout {

struct RunnerOptions {
    std::string node;
    std::chrono::milliseconds poll{5000}; // between passes when nothing is happening
    probe::BpfFeatures* bpf = nullptr;    // confirm's live BPF probes; nullptr: config-based only
    std::function<std::chrono::system_clock::time_point()> now; // default: the system clock
};

class Runner {
public:
    Runner(RolloutApi& api, kernel::Host& host, Rebooter& rebooter, RunnerOptions options);

    // One pass. Returns how long to wait before the next one. API and host errors are logged and retried at
    // the next pass; they fail the node only where the step itself failed (a refused stage, a drain a budget
    // never allows, a kernel that fell back).
    std::chrono::milliseconds tick();

private:
    static constexpr std::chrono::milliseconds k_now{0};
    // After a conflict (someone else wrote the Lease or the Node between our read and write): read again
    // soon.
    static constexpr std::chrono::milliseconds k_conflict_retry{200};

    struct Pass {
        probe::RolloutPlan plan;
        nlohmann::json node;
        std::optional<probe::NodeProgress> progress; // of this rollout
        std::optional<LockView> lock;                // nullopt: no Lease
    };

    std::chrono::milliseconds start(Pass& pass);
    std::chrono::milliseconds stage(Pass& pass);
    std::chrono::milliseconds drain(Pass& pass);
    std::chrono::milliseconds reboot(Pass& pass);
    std::chrono::milliseconds verify(Pass& pass);
    std::chrono::milliseconds failed(Pass& pass);
    std::chrono::milliseconds finished(Pass& pass);
    // abort before the reboot: roll the staged kernel back, uncordon unless cordoned before, let go.
    std::chrono::milliseconds undo(Pass& pass);

    // Writes the progress annotation (with `spec` merged into the Node's spec in the same patch, e.g. a
    // cordon) unless nothing changed. With `precondition`, the patch carries the Node's resourceVersion.
    util::Result<void> record(Pass& pass, probe::NodeProgress progress, const nlohmann::json& spec = nullptr,
                              bool precondition = false);
    // Records the failure, keeps the cordon and the hold, declares the halt on the Lease.
    std::chrono::milliseconds fail(Pass& pass, const std::string& step, const std::string& message);
    util::Result<void> write_lock(Pass& pass, const nlohmann::json& lease);
    util::Result<void> release(Pass& pass);
    // Empty when fewer than maxUnavailable nodes before this one in the plan are unfinished (neither done nor
    // skipped), else which node it waits for: nodes go in the plan's order.
    std::string earlier_nodes(const Pass& pass);
    // Empty when the node and its Cilium agent are ready, else why not.
    std::string health(const Pass& pass);
    std::chrono::milliseconds idle(const std::string& why);

    [[nodiscard]] std::chrono::system_clock::time_point now() const;
    [[nodiscard]] std::string now_text() const;
    [[nodiscard]] bool past(const std::string& since, std::chrono::seconds limit) const;
    [[nodiscard]] std::string boot_id() const;
    [[nodiscard]] std::string running_kernel() const;

    RolloutApi& m_api;
    kernel::Host& m_host;
    Rebooter& m_rebooter;
    RunnerOptions m_options;
    bool m_reboot_requested = false;  // by this process: a restarted agent asks again, once
    std::string m_idle;               // the last reason logged for doing nothing
    std::set<std::string> m_finished; // nodes earlier in the plan seen done or skipped (earlier_nodes)
    std::string m_finished_rollout;   // the rollout m_finished belongs to
};

} // namespace meshlink::agent::rollout
