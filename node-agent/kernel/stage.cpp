// stage: everything plan checks, then the install and the one-shot boot, each step checking first so that a
// re-run after an interruption continues where the last run stopped.

#include "node-agent/defaults.hpp"
#include "node-agent/kernel/prepare.hpp"
#include "util/time.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <system_error>

namespace meshlink::agent::kernel {
namespace {

namespace fs = std::filesystem;

StepResult step(std::string id, bool changed, std::string message) {
    return StepResult{std::move(id), changed ? "done" : "already", std::move(message)};
}

} // namespace

util::Result<StageResult> stage(Host& host, const UpgradeOptions& options) {
    auto prepared = detail::prepare(host, options);
    if (!prepared) {
        return std::unexpected(prepared.error());
    }
    detail::Prepared& prep = *prepared;
    StageResult result;
    result.plan = prep.result;
    if (!prep.result.allowed) {
        return result; // refused: nothing was written
    }
    const auto& files = host.files();
    const Candidate& candidate = *prep.result.candidate;
    const std::string kver = candidate.kernel_release();
    const BootEntry* previous = detail::running_entry(prep.node);

    // 1. The record first: from here on, status and a re-run know a trial is under way.
    TrialRecord record;
    const bool was_staged = prep.trial && prep.trial->state == TrialState::staged;
    const bool resume =
        prep.trial && (prep.trial->state == TrialState::staging || prep.trial->state == TrialState::staged) &&
        prep.trial->target_release == kver;
    if (resume) {
        record = *prep.trial;
    } else {
        record.el = *prep.result.el;
        record.flavor = options.flavor;
        record.previous_release = prep.node.running.release;
        record.previous_entry = previous->id;
        record.target_release = kver;
        record.staged_at = util::format_rfc3339(std::chrono::system_clock::now());
    }
    record.state = TrialState::staging;
    record.boot_id = prep.node.boot_id;
    record.packages.clear();
    for (const auto& p : candidate.packages) {
        record.packages.push_back(p.full());
    }
    record.guard_deadline_seconds = options.guard_deadline.count();
    record.repo_url = prep.repo.url;
    record.key_fingerprints = prep.result.key_fingerprints;
    if (auto written = write_trial(files, record); !written) {
        return std::unexpected(written.error());
    }
    result.steps.push_back(
        step("record", !resume, resume ? "continuing the recorded trial" : "trial recorded as staging"));

    // 2. The verified keys into the host's rpmdb, each only once.
    auto present = installed_keys(host);
    if (!present) {
        return std::unexpected(present.error());
    }
    std::vector<std::string> imported;
    for (const auto& source : prep.keys) {
        auto keys = verify_key(source); // verified again: nothing but the checked bytes is imported
        if (!keys) {
            return std::unexpected(keys.error());
        }
        bool all_present = true;
        for (const auto& key : *keys) {
            all_present =
                all_present && std::find(present->begin(), present->end(), key.rpm_name()) != present->end();
        }
        if (!all_present) {
            if (auto done = import_key(host, *prep.scratch, source); !done) {
                return std::unexpected(done.error());
            }
            imported.push_back(source.name);
        }
    }
    result.steps.push_back(step("keys", !imported.empty(),
                                imported.empty() ? "trusted keys already in the rpmdb"
                                                 : fmt::format("imported {}", fmt::join(imported, ", "))));

    // 3. The exact packages, beside the running kernel (installonly).
    if (!prep.downloads.empty()) {
        if (auto done = install(host, *prep.scratch, prep.downloads); !done) {
            return std::unexpected(done.error());
        }
    }
    auto installed = query_installed(host, full_names(candidate.packages));
    if (!installed) {
        return std::unexpected(installed.error());
    }
    for (const auto& p : candidate.packages) {
        if (installed->find(p.full()) == installed->end()) {
            return util::fail(
                util::ErrorKind::generic,
                fmt::format("stage step install: {} is not installed after dnf install", p.full()));
        }
    }
    result.steps.push_back(step("install", !prep.downloads.empty(),
                                fmt::format("{} installed", fmt::join(record.packages, ", "))));

    // 4. What the boot needs exists for the new kernel: vmlinuz, initramfs, modules.dep and its boot entry.
    std::vector<std::string> missing;
    for (const std::string& path : {"/boot/vmlinuz-" + kver, "/boot/initramfs-" + kver + ".img",
                                    "/lib/modules/" + kver + "/modules.dep"}) {
        std::error_code ec;
        if (!fs::is_regular_file(files.in_root(path), ec)) {
            missing.push_back(path);
        }
    }
    const BootLoader loader = read_boot_loader(files, record.el);
    const BootEntry* target = loader.for_kernel(kver);
    if (target == nullptr) {
        missing.push_back(fmt::format("a {} entry for {}", to_string(loader.kind), kver));
    }
    if (!missing.empty()) {
        return util::fail(
            util::ErrorKind::not_found,
            fmt::format("stage step files: after the install, missing {}; the trial is recorded as "
                        "staging and the previous kernel stays the default",
                        fmt::join(missing, ", ")));
    }
    const BootEntry* previous_now = loader.by_id(record.previous_entry);
    if (previous_now == nullptr) {
        return util::fail(util::ErrorKind::not_found,
                          fmt::format("stage step files: the previous kernel's entry \"{}\" is gone",
                                      record.previous_entry));
    }
    record.target_entry = target->id;
    result.steps.push_back(step(
        "files", false, fmt::format("vmlinuz, initramfs, modules.dep and entry \"{}\" present", target->id)));

    // 5. Trial-only arguments on the new entry. Which ones stage adds is recorded before the file changes, so
    // an interrupted run still knows what confirm or rollback must take off again.
    const auto trial_args = split_words(defaults::k_kernel_trial_args);
    std::vector<std::string> to_add;
    if (auto text = probe::read_text(files.in_root(target->file), 4 * 1024 * 1024); text.text) {
        if (auto planned = add_kernel_args(*text.text, loader.kind, *target, trial_args, &to_add); !planned) {
            return std::unexpected(planned.error());
        }
    }
    for (const auto& arg : to_add) {
        if (std::find(record.added_args.begin(), record.added_args.end(), arg) == record.added_args.end()) {
            record.added_args.push_back(arg);
        }
    }
    if (auto written = write_trial(files, record); !written) {
        return std::unexpected(written.error());
    }
    auto edited = detail::edit_entry_file(host, *target, [&](const std::string& text) {
        return add_kernel_args(text, loader.kind, *target, trial_args, nullptr);
    });
    if (!edited) {
        return std::unexpected(edited.error());
    }
    result.steps.push_back(
        step("trial-args", *edited,
             fmt::format("{} on entry \"{}\" only", defaults::k_kernel_trial_args, target->id)));

    // 6. The running kernel stays the saved default (the install may have moved it).
    NodeState& node = prep.node;
    const bool saved_ok = env_value(node.grubenv, "saved_entry") == record.previous_entry;
    if (!saved_ok) {
        if (auto set = detail::grubenv_set(host, node, {"saved_entry=" + record.previous_entry}); !set) {
            return std::unexpected(set.error());
        }
    }
    result.steps.push_back(
        step("saved-default", !saved_ok, fmt::format("saved_entry={}", record.previous_entry)));

    // 7. The guard, before the one-shot: a trial boot is never without it.
    const GuardState guard = read_guard(files);
    const bool guard_ok = guard.armed() && guard.kernel == kver &&
                          guard.deadline == std::to_string(options.guard_deadline.count());
    if (!guard_ok) {
        if (auto armed = arm_guard(host, kver, options.guard_deadline); !armed) {
            return std::unexpected(armed.error());
        }
    }
    result.steps.push_back(step("guard", !guard_ok,
                                fmt::format("{} reboots {} {} s after boot unless confirmed",
                                            guard_timer_path(), kver, options.guard_deadline.count())));

    // 8. The one-shot boot, read back.
    const bool next_ok = env_value(node.grubenv, "next_entry") == target->id;
    if (!next_ok) {
        if (auto set = detail::grubenv_set(host, node, {"next_entry=" + target->id}); !set) {
            return std::unexpected(set.error());
        }
    }
    const GrubEnv after = read_grubenv(host, node.grubenv.file);
    if (!after.error.empty() || env_value(after, "next_entry") != target->id ||
        env_value(after, "saved_entry") != record.previous_entry) {
        return util::fail(
            util::ErrorKind::generic,
            fmt::format("stage step next-boot: {} reads back next_entry=\"{}\" saved_entry=\"{}\" {}; "
                        "expected \"{}\" and \"{}\"",
                        node.grubenv.file, env_value(after, "next_entry"), env_value(after, "saved_entry"),
                        after.error, target->id, record.previous_entry));
    }
    result.steps.push_back(
        step("next-boot", !next_ok, fmt::format("next_entry={} (one boot only)", target->id)));

    // 9. Staged.
    record.state = TrialState::staged;
    if (auto written = write_trial(files, record); !written) {
        return std::unexpected(written.error());
    }
    result.steps.push_back(
        step("staged", !(resume && was_staged), "trial recorded as staged; reboot to try the new kernel"));
    result.staged = true;
    result.trial = record;
    return result;
}

} // namespace meshlink::agent::kernel
