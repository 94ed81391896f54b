// confirm and rollback: what happens after the trial boot.

#include "node-agent/defaults.hpp"
#include "node-agent/kernel/prepare.hpp"
#include "probe/report.hpp"
#include "util/time.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace meshlink::agent::kernel {
namespace {

StepResult step(std::string id, bool changed, std::string message) {
    return StepResult{std::move(id), changed ? "done" : "already", std::move(message)};
}

nlohmann::json evidence(const NodeState& node, std::string_view result, const std::string& reason) {
    nlohmann::json grubenv = nlohmann::json::object();
    for (const auto& [key, value] : node.grubenv.values) {
        if (key == "saved_entry" || key == "next_entry" || key == "boot_success" ||
            key == "boot_indeterminate") {
            grubenv[key] = value;
        }
    }
    return {{"result", result},
            {"at", util::format_rfc3339(std::chrono::system_clock::now())},
            {"reason", reason},
            {"bootId", node.boot_id},
            {"runningRelease", node.running.release},
            {"cmdline", node.cmdline},
            {"grubenv", grubenv}};
}

// Removes the trial-only arguments stage added from the target entry, when it still exists.
util::Result<bool> remove_trial_args(Host& host, const NodeState& node, const TrialRecord& record) {
    const BootEntry* target = node.loader.by_id(record.target_entry);
    if (target == nullptr || record.added_args.empty()) {
        return false;
    }
    return detail::edit_entry_file(host, *target, [&](const std::string& text) {
        return remove_kernel_args(text, node.loader.kind, *target, record.added_args);
    });
}

} // namespace

std::string_view to_string(ConfirmOutcome outcome) {
    switch (outcome) {
    case ConfirmOutcome::confirmed:
        return "confirmed";
    case ConfirmOutcome::already_confirmed:
        return "already-confirmed";
    case ConfirmOutcome::not_rebooted:
        return "not-rebooted";
    case ConfirmOutcome::fallback:
        return "fallback";
    case ConfirmOutcome::checks_failed:
        return "checks-failed";
    case ConfirmOutcome::no_trial:
        return "no-trial";
    }
    return "no-trial";
}

int ConfirmResult::exit_code() const {
    return outcome == ConfirmOutcome::confirmed || outcome == ConfirmOutcome::already_confirmed ? 0 : 1;
}

util::Result<ConfirmResult> confirm(Host& host, const ConfirmOptions& options) {
    ConfirmResult result;
    auto trial = read_trial(host.files());
    if (!trial) {
        return std::unexpected(trial.error());
    }
    if (!*trial) {
        result.message = "no kernel trial is recorded on this node";
        return result;
    }
    TrialRecord record = **trial;
    result.trial = record;
    switch (record.state) {
    case TrialState::confirmed:
        result.outcome = ConfirmOutcome::already_confirmed;
        result.message = fmt::format("{} was confirmed at {}", record.target_release, record.updated_at);
        return result;
    case TrialState::failed:
    case TrialState::rolled_back:
        result.message = fmt::format("the trial of {} is {}; nothing to confirm", record.target_release,
                                     to_string(record.state));
        return result;
    case TrialState::staging:
    case TrialState::staged:
        break;
    }
    auto node_read = read_node(host);
    if (!node_read) {
        return std::unexpected(node_read.error());
    }
    const NodeState& node = *node_read;
    if (node.boot_id.empty()) {
        return util::fail(util::ErrorKind::not_found,
                          host.files().in_proc("sys/kernel/random/boot_id").string() +
                              ": unreadable, cannot tell whether the node rebooted");
    }
    if (node.boot_id == record.boot_id) {
        result.outcome = ConfirmOutcome::not_rebooted;
        result.message = fmt::format("not rebooted yet: boot {} is the one {} was staged in", node.boot_id,
                                     record.target_release);
        return result;
    }
    if (node.running.release == record.previous_release) {
        if (record.state == TrialState::staging) {
            // The one-shot may never have been set: an interrupted stage is not a failed kernel.
            result.message = fmt::format("stage of {} did not finish before the reboot; run stage again",
                                         record.target_release);
            return result;
        }
        // Fallback: GRUB booted the saved entry. Recorded, never retried by itself.
        if (auto disarmed = disarm_guard(host); !disarmed) {
            return std::unexpected(disarmed.error());
        }
        result.steps.push_back(step("guard", true, "guard disarmed (a failed trial is not retried)"));
        record.state = TrialState::failed;
        record.outcome = evidence(node, "fallback",
                                  fmt::format("rebooted into the previous kernel {} instead of {}",
                                              node.running.release, record.target_release));
        if (auto written = write_trial(host.files(), record); !written) {
            return std::unexpected(written.error());
        }
        result.outcome = ConfirmOutcome::fallback;
        result.message =
            fmt::format("fallback: the node rebooted into the previous kernel {}, not {}; recorded as "
                        "failed and not retried",
                        node.running.release, record.target_release);
        result.trial = record;
        return result;
    }
    if (node.running.release != record.target_release) {
        return util::fail(
            util::ErrorKind::conflict,
            fmt::format("the running kernel {} is neither the previous {} nor the trial {}; nothing changed",
                        node.running.release, record.previous_release, record.target_release));
    }

    // The trial kernel runs: judge it as the DaemonSet would, for the cluster's Cilium release.
    probe::ProbeOptions probe_options;
    probe_options.host = host.files();
    probe_options.node_name = options.node_name;
    probe_options.bpf = options.bpf;
    const probe::Report report = probe::make_report(probe_options, options.cilium);
    result.checks = report.checks;
    if (probe::any_failed(report.checks)) {
        std::vector<std::string> failed;
        for (const auto& check : report.checks) {
            if (check.status == probe::Status::fail) {
                failed.push_back(check.id + ": " + check.message);
            }
        }
        record.state = TrialState::failed;
        record.outcome = evidence(node, "checks-failed",
                                  fmt::format("{} fails Cilium {}: {}", record.target_release,
                                              probe::to_string(options.cilium), fmt::join(failed, "; ")));
        record.outcome["checks"] = nlohmann::json::parse(probe::to_json_text(report))["checks"];
        if (auto written = write_trial(host.files(), record); !written) {
            return std::unexpected(written.error());
        }
        result.outcome = ConfirmOutcome::checks_failed;
        result.message =
            fmt::format("{} runs but fails the Cilium {} checks; not promoted. The guard stays armed "
                        "and reboots into {} at its deadline",
                        record.target_release, probe::to_string(options.cilium), record.previous_release);
        result.trial = record;
        return result;
    }

    // Promote. The guard goes first: a guard that outlived a promotion would reboot the new default forever.
    if (auto disarmed = disarm_guard(host); !disarmed) {
        return std::unexpected(disarmed.error());
    }
    result.steps.push_back(step("guard", true, "guard disarmed"));
    if (node.loader.by_id(record.target_entry) == nullptr) {
        return util::fail(util::ErrorKind::not_found,
                          fmt::format("the trial's entry \"{}\" is gone; not promoted", record.target_entry));
    }
    const bool saved_ok = env_value(node.grubenv, "saved_entry") == record.target_entry;
    if (!saved_ok) {
        if (auto set = detail::grubenv_set(host, node, {"saved_entry=" + record.target_entry}); !set) {
            return std::unexpected(set.error());
        }
    }
    if (!env_value(node.grubenv, "next_entry").empty()) {
        if (auto unset = detail::grubenv_unset(host, node, {"next_entry"}); !unset) {
            return std::unexpected(unset.error());
        }
    }
    result.steps.push_back(step("promote", !saved_ok, fmt::format("saved_entry={}", record.target_entry)));
    if (!options.keep_panic) {
        auto removed = remove_trial_args(host, node, record);
        if (!removed) {
            return std::unexpected(removed.error());
        }
        result.steps.push_back(step("trial-args", *removed,
                                    fmt::format("removed {} from entry \"{}\"",
                                                fmt::join(record.added_args, " "), record.target_entry)));
        record.added_args.clear();
    } else {
        result.steps.push_back(StepResult{"trial-args", "skipped", "kept (--keep-panic)"});
    }
    record.state = TrialState::confirmed;
    record.outcome = evidence(node, "confirmed",
                              fmt::format("{} booted and passed the Cilium {} checks", record.target_release,
                                          probe::to_string(options.cilium)));
    if (auto written = write_trial(host.files(), record); !written) {
        return std::unexpected(written.error());
    }
    result.outcome = ConfirmOutcome::confirmed;
    result.message = fmt::format("{} confirmed and now the default", record.target_release);
    result.trial = record;
    return result;
}

util::Result<RollbackResult> rollback(Host& host, const RollbackOptions& options) {
    auto trial = read_trial(host.files());
    if (!trial) {
        return std::unexpected(trial.error());
    }
    if (!*trial) {
        return util::fail(util::ErrorKind::not_found,
                          "no kernel trial is recorded on this node: nothing to roll back");
    }
    TrialRecord record = **trial;
    auto node_read = read_node(host);
    if (!node_read) {
        return std::unexpected(node_read.error());
    }
    const NodeState& node = *node_read;
    if (options.remove && node.running.release == record.target_release) {
        return util::fail(
            util::ErrorKind::conflict,
            fmt::format("{} is the running kernel: its packages cannot be removed; roll back without "
                        "--remove, reboot into {}, then roll back with --remove",
                        record.target_release, record.previous_release));
    }
    if (node.loader.by_id(record.previous_entry) == nullptr) {
        return util::fail(util::ErrorKind::not_found,
                          fmt::format("the previous kernel's entry \"{}\" is gone; set the default by hand",
                                      record.previous_entry));
    }
    RollbackResult result;
    const bool guard_present = !read_guard(host.files()).absent();
    if (auto disarmed = disarm_guard(host); !disarmed) {
        return std::unexpected(disarmed.error());
    }
    result.steps.push_back(step("guard", guard_present, "guard disarmed"));
    const bool next_set = !env_value(node.grubenv, "next_entry").empty();
    if (next_set) {
        if (auto unset = detail::grubenv_unset(host, node, {"next_entry"}); !unset) {
            return std::unexpected(unset.error());
        }
    }
    result.steps.push_back(step("next-boot", next_set, "no one-shot boot pending"));
    auto removed = remove_trial_args(host, node, record);
    if (!removed) {
        return std::unexpected(removed.error());
    }
    record.added_args.clear();
    result.steps.push_back(step("trial-args", *removed, "trial-only kernel arguments removed"));
    const bool saved_ok = env_value(node.grubenv, "saved_entry") == record.previous_entry;
    if (!saved_ok) {
        if (auto set = detail::grubenv_set(host, node, {"saved_entry=" + record.previous_entry}); !set) {
            return std::unexpected(set.error());
        }
    }
    result.steps.push_back(
        step("saved-default", !saved_ok, fmt::format("saved_entry={}", record.previous_entry)));
    if (options.remove) {
        auto installed = query_installed(host, record.packages);
        if (!installed) {
            return std::unexpected(installed.error());
        }
        std::vector<std::string> present;
        for (const auto& nevra : record.packages) {
            if (installed->count(nevra) != 0) {
                present.push_back(nevra);
            }
        }
        if (!present.empty()) {
            if (auto done = remove(host, present); !done) {
                return std::unexpected(done.error());
            }
        }
        result.steps.push_back(
            step("remove", !present.empty(), fmt::format("{} removed", fmt::join(record.packages, ", "))));
    }
    record.state = TrialState::rolled_back;
    if (auto written = write_trial(host.files(), record); !written) {
        return std::unexpected(written.error());
    }
    result.trial = record;
    return result;
}

} // namespace meshlink::agent::kernel
