#pragma once
// The kernel upgrade of one node as a library: plan, stage, confirm, rollback, status. `meshlink-agent kernel
// <verb>` prints these results; the cluster rollout (`meshlink-agent kernel run`) calls the same functions
// from its DaemonSet and mirrors the results into the Node's meshlink.io/kernel-upgrade annotation. The JSON
// of each result (report.hpp) is the contract between them, documented in README "Kernel upgrade on a node".
//
// Safety rules every function keeps: check before change (plan's checks run again inside stage; a refusal
// writes nothing), trust keys only by pinned fingerprint, install exact NEVRAs beside the running kernel,
// boot the new kernel once (GRUB's next_entry) with the previous one as the saved default, a host guard
// that reboots an unconfirmed trial kernel, promotion only after the probe passes on the new kernel, and a
// failed trial is recorded and never retried by itself. Every step checks first, so a re-run after kill -9
// continues where the last run stopped.

#include "node-agent/kernel/boot_loader.hpp"
#include "node-agent/kernel/guard.hpp"
#include "node-agent/kernel/host.hpp"
#include "node-agent/kernel/packages.hpp"
#include "node-agent/kernel/trial.hpp"
#include "probe/bpf.hpp"
#include "probe/checks.hpp"
#include "probe/requirements.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::agent::kernel {

// Stable IDs of plan's checks (the JSON contract), in report order.
namespace check_id {
inline constexpr std::string_view os = "kernel.os";
inline constexpr std::string_view trial = "kernel.trial";
inline constexpr std::string_view secure_boot = "kernel.secure-boot";
inline constexpr std::string_view grub_default = "kernel.grub-default";
inline constexpr std::string_view grubenv = "kernel.grubenv";
inline constexpr std::string_view boot_entries = "kernel.boot-entries";
inline constexpr std::string_view signing_keys = "kernel.signing-keys";
inline constexpr std::string_view candidate = "kernel.candidate";
inline constexpr std::string_view signatures = "kernel.signatures";
inline constexpr std::string_view boot_space = "kernel.boot-space";
inline constexpr std::string_view candidate_config = "kernel.candidate-config";
} // namespace check_id

struct UpgradeOptions {
    std::string flavor = "ml";                            // ml | lt
    std::optional<std::string> version;                   // "7.1.9" or "7.1.9-1.el9.elrepo"; newest if unset
    std::optional<std::string> repo_url;                  // default: ELRepo's kernel repository for the EL
    std::optional<std::filesystem::path> repo_key;        // a key file instead of the compiled-in ELRepo keys
    std::optional<std::string> repo_key_fingerprint;      // with repo_key: the operator's own key
    probe::CiliumVersion cilium = probe::newest_cilium(); // judge the candidate's config for this release
    std::chrono::seconds guard_deadline{15 * 60};         // stage: the guard reboots this long after boot
};

struct PlanResult {
    bool allowed = false; // no check failed or unknown: stage may run
    std::optional<int> el;
    std::string os;      // "Rocky Linux 9.4 (Blue Onyx)"
    std::string running; // the running kernel release
    std::string boot_id;
    std::string default_entry;  // GRUB's saved_entry
    std::string default_kernel; // the kernel that entry boots
    std::string repo_url;
    std::vector<std::string> key_fingerprints; // the keys that will be trusted
    std::optional<Candidate> candidate;
    std::vector<std::string> installed; // the candidate's NEVRAs already installed
    std::vector<probe::Check> checks;   // pass | warn | fail | unknown, in check_id order
};

// Reads the node and the repository and says what stage would do and whether it may. Changes nothing on
// the node (dnf reads the repository into a scratch root). Errors: a tool cannot run, no scratch space.
util::Result<PlanResult> plan(Host& host, const UpgradeOptions& options);

struct StepResult {
    std::string id;     // "install", "trial-args", "saved-default", "guard", "next-boot", ...
    std::string status; // "done" (changed now), "already" (found done), "skipped"
    std::string message;
};

struct StageResult {
    PlanResult plan;
    bool staged = false; // the one-shot boot of the new kernel is set (plan refused: false, nothing written)
    std::vector<StepResult> steps;
    std::optional<TrialRecord> trial;
};

// Everything plan checks, then: keys imported, exact NEVRAs installed, files and boot entry verified, trial
// arguments on the new entry, previous kernel re-asserted as the saved default, guard armed, next_entry set
// and read back, trial recorded. Does not reboot. A refusal (plan.allowed false) is a result, not an error.
util::Result<StageResult> stage(Host& host, const UpgradeOptions& options);

struct ConfirmOptions {
    probe::CiliumVersion cilium = probe::newest_cilium();
    bool keep_panic = false;           // keep the trial-only kernel arguments on the promoted entry
    probe::BpfFeatures* bpf = nullptr; // live BPF probes of the running kernel; nullptr: config-based only
    std::string node_name;
};

enum class ConfirmOutcome {
    confirmed,         // the new kernel runs, the checks pass, it is now the default
    already_confirmed, // nothing left to do
    not_rebooted,      // boot_id unchanged since stage
    fallback,          // rebooted, but the previous kernel runs: recorded as failed, never retried by itself
    checks_failed, // the new kernel runs but fails the Cilium checks: recorded as failed, guard left armed
    no_trial,      // no staged trial to confirm
};

// "confirmed", "already-confirmed", "not-rebooted", "fallback", "checks-failed", "no-trial".
std::string_view to_string(ConfirmOutcome outcome);

struct ConfirmResult {
    ConfirmOutcome outcome = ConfirmOutcome::no_trial;
    std::string message;
    std::vector<probe::Check> checks; // the probe's checks on the running kernel (new kernel only)
    std::vector<StepResult> steps;
    std::optional<TrialRecord> trial;

    // 0 confirmed or already, 1 otherwise (the CLI's exit code).
    [[nodiscard]] int exit_code() const;
};

util::Result<ConfirmResult> confirm(Host& host, const ConfirmOptions& options);

struct RollbackOptions {
    bool remove = false; // also remove the trial's packages (refused while the new kernel runs)
};

struct RollbackResult {
    std::vector<StepResult> steps;
    TrialRecord trial;
};

// The previous kernel becomes the default again: guard disarmed, next_entry cleared, trial arguments
// removed, saved_entry = previous entry; with `remove`, the packages too. Errors when there is no trial.
util::Result<RollbackResult> rollback(Host& host, const RollbackOptions& options);

struct StatusResult {
    std::optional<TrialRecord> trial;
    std::string trial_error; // the record exists but is invalid
    std::string running;
    std::string boot_id;
    bool rebooted_since_stage = false;
    std::string default_entry;
    std::string default_kernel;
    std::string next_entry;
    LoaderKind loader = LoaderKind::bls;
    std::vector<BootEntry> entries;
    std::string grubenv_error;
    GuardState guard;
    std::vector<std::string> installed; // the trial's packages found in the rpmdb
    std::vector<std::string> pending;   // what a staging trial has not done yet ("install", "guard", ...)
};

util::Result<StatusResult> status(Host& host);

} // namespace meshlink::agent::kernel
