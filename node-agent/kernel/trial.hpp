#pragma once
// The trial record: what `stage` did and what became of it, kept on the host
// (/var/lib/meshlink/kernel-trial.json) so that confirm, rollback, status and a re-run after kill -9 know
// the previous and the new kernel, their boot entries and the boot it was staged in. Its JSON shape is a
// contract (README "Kernel upgrade on a node"): the cluster rollout reads it and mirrors it into the Node's
// meshlink.io/kernel-upgrade annotation. It is node data: validated on every read, never trusted to name
// anything outside the boot entries and releases it was checked against.

#include "probe/host.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace meshlink::agent::kernel {

inline constexpr int k_trial_schema_version = 1;

enum class TrialState {
    staging,     // stage started and has not finished (interrupted, or still running)
    staged,      // the one-shot boot of the new kernel is set; waiting for a reboot
    confirmed,   // the new kernel booted, passed the checks and is the default
    failed,      // the new kernel did not come up (fallback) or failed the checks; never retried by itself
    rolled_back, // the previous kernel is the default again
};

// "staging", "staged", "confirmed", "failed", "rolled-back".
std::string_view to_string(TrialState state);

struct TrialRecord {
    TrialState state = TrialState::staging;
    int el = 0;
    std::string flavor;                   // "ml" | "lt"
    std::string previous_release;         // the kernel that was running at stage
    std::string previous_entry;           // its boot entry id (the saved default during the trial)
    std::string target_release;           // the new kernel
    std::string target_entry;             // its boot entry id; empty until the install made it
    std::vector<std::string> packages;    // exact NEVRAs installed
    std::vector<std::string> added_args;  // trial-only kernel arguments stage appended to the new entry
    std::string boot_id;                  // the boot in which stage ran
    std::string staged_at;                // RFC 3339
    std::string updated_at;               // RFC 3339, every write
    long long guard_deadline_seconds = 0; // the guard's reboot deadline after boot
    std::string repo_url;
    std::vector<std::string> key_fingerprints;
    // What confirm found: {"result": "confirmed"|"fallback"|"checks-failed", "at", "bootId",
    // "runningRelease", "cmdline", "grubenv": {...}, "checks": [...]}; null before.
    nlohmann::json outcome;
};

nlohmann::ordered_json to_json(const TrialRecord& record);

// Validates a parsed document: known schema and state, kernel releases a kernel could have, boot entry ids
// without path separators or control characters.
util::Result<TrialRecord> trial_from_json(const nlohmann::json& document);

// nullopt when there is no record; an error when there is one that cannot be read or validated.
util::Result<std::optional<TrialRecord>> read_trial(const probe::Host& files);

// Writes the record atomically, stamping updated_at.
util::Result<> write_trial(const probe::Host& files, TrialRecord& record);

} // namespace meshlink::agent::kernel
