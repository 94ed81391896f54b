// The node's steps of `kernel run`: stage, drain, reboot and confirm, the health gate, a failed node's
// resume, and the undo of an abort. Each begins by looking at what is already done, so a pass repeated after
// a restart does the step once.

#include "node-agent/defaults.hpp"
#include "node-agent/kernel/node.hpp"
#include "node-agent/kernel/upgrade.hpp"
#include "node-agent/rollout/drain.hpp"
#include "node-agent/rollout/runner.hpp"
#include "probe/defaults.hpp"
#include "probe/os_release.hpp"
#include "util/log.hpp"

#include <fmt/format.h>

#include <fstream>

namespace meshlink::agent::rollout {
namespace {

using nlohmann::json;
namespace pd = meshlink::probe::defaults;

std::string list_text(const std::vector<std::string>& items, std::size_t limit = 3) {
    std::string out;
    for (std::size_t i = 0; i < items.size() && i < limit; ++i) {
        out += (i > 0 ? "; " : "") + items[i];
    }
    if (items.size() > limit) {
        out += fmt::format("; and {} more", items.size() - limit);
    }
    return out;
}

// The checks that refused a stage, for the node's failure message.
std::string refusals(const kernel::PlanResult& plan) {
    std::vector<std::string> failing;
    for (const auto& check : plan.checks) {
        if (check.status == probe::Status::fail || check.status == probe::Status::unknown) {
            failing.push_back(check.id + ": " + check.message);
        }
    }
    return "refused: " + list_text(failing);
}

bool unschedulable(const json& node) {
    const auto spec = node.find("spec");
    return spec != node.end() && spec->is_object() && spec->value("unschedulable", false);
}

// Uncordons only a node the rollout cordoned: one that was cordoned before stays so.
json uncordon_spec(const probe::NodeProgress& progress) {
    if (progress.cordoned_before.has_value() && !*progress.cordoned_before) {
        return {{"unschedulable", nullptr}};
    }
    return nullptr;
}

} // namespace

std::chrono::milliseconds Runner::stage(Pass& pass) {
    if (pass.plan.phase == probe::RolloutPhase::aborted) {
        return undo(pass);
    }
    probe::NodeProgress progress = *pass.progress;
    if (progress.state == probe::NodeState::locked) {
        progress.state = probe::NodeState::staging;
        progress.step_started_at = now_text();
        progress.message =
            "staging the new kernel (one-shot next boot, the running kernel stays the default)";
        if (auto recorded = record(pass, progress); !recorded) {
            util::log::warn(recorded.error().message);
            return m_options.poll;
        }
    }
    const auto os = probe::read_os_release(m_host.files());
    std::string why;
    const auto el = kernel::el_release(os, &why);
    if (!el) {
        return fail(pass, "staging", why.empty() ? "not Enterprise Linux" : why);
    }
    if (!pass.lock || !pass.lock->holds(m_options.node)) {
        // Never change a node without holding the lock (a person edited the Lease?): wait for it again.
        progress.state = probe::NodeState::waiting;
        progress.message = "lost its hold on the lock before staging; waiting for it again";
        if (auto recorded = record(pass, progress); !recorded) {
            util::log::warn(recorded.error().message);
        }
        return m_options.poll;
    }
    if (!pass.lock->pins_problem.empty()) {
        return fail(pass, "staging",
                    "the version pins on the lock Lease cannot be read: " + pass.lock->pins_problem);
    }

    kernel::UpgradeOptions options;
    options.flavor = pass.plan.flavor;
    options.version = pass.plan.version;
    options.repo_url = pass.plan.repo_url;
    if (auto cilium = probe::parse_cilium_version(pass.plan.cilium)) {
        options.cilium = *cilium;
    }
    // The plan's key goes to a private file for as long as this step runs (keys.cpp reads a file).
    std::optional<kernel::Scratch> key_dir;
    if (pass.plan.repo_key) {
        auto scratch = m_host.scratch();
        if (!scratch) {
            return fail(pass, "staging", scratch.error().message);
        }
        key_dir.emplace(std::move(*scratch));
        const auto key_file = key_dir->here() / "repo-key.asc";
        std::ofstream(key_file) << *pass.plan.repo_key;
        options.repo_key = key_file;
        options.repo_key_fingerprint = pass.plan.repo_key_fingerprint;
    }

    const auto pin = pass.lock->pins.find(*el);
    if (pin == pass.lock->pins.end()) {
        // The first node of an EL release resolves the version; every later one installs exactly that.
        auto planned = kernel::plan(m_host, options);
        if (!planned) {
            return fail(pass, "staging", planned.error().message);
        }
        if (!planned->allowed || !planned->candidate) {
            return fail(pass, "staging", refusals(*planned));
        }
        const std::string version = planned->candidate->version + "-" + planned->candidate->release;
        if (auto written = write_lock(pass, with_pin(*pass.lock, *el, version)); !written) {
            util::log::warn(written.error().with_context("pinning the kernel version").message);
            return written.error().kind == util::ErrorKind::conflict ? k_conflict_retry : m_options.poll;
        }
        util::log::info(fmt::format("pinned EL{} to {}", *el, pass.lock->pins.at(*el)));
        return k_now;
    }
    options.version = pin->second;
    auto staged = kernel::stage(m_host, options);
    if (!staged) {
        return fail(pass, "staging", staged.error().message);
    }
    if (!staged->staged || !staged->trial) {
        return fail(pass, "staging", refusals(staged->plan));
    }
    // Whether the node was cordoned is recorded in the same write that cordons it, conditional on the Node
    // read in this pass: a restart can never mistake the rollout's own cordon for an earlier one.
    progress.state = probe::NodeState::draining;
    progress.el = *el;
    progress.to = staged->trial->target_release;
    // A retried node (resume) is still cordoned from its failed attempt: what it was before that attempt
    // stands.
    if (!progress.cordoned_before) {
        progress.cordoned_before = unschedulable(pass.node);
    }
    progress.step_started_at = now_text();
    progress.message = fmt::format("staged {}; cordoned{}, draining", progress.to,
                                   *progress.cordoned_before ? " (it already was)" : "");
    if (auto recorded = record(pass, progress, {{"unschedulable", true}}, /*precondition=*/true); !recorded) {
        util::log::warn(recorded.error().message);
        return recorded.error().kind == util::ErrorKind::conflict ? k_conflict_retry : m_options.poll;
    }
    return k_now;
}

std::chrono::milliseconds Runner::drain(Pass& pass) {
    if (pass.plan.phase == probe::RolloutPhase::aborted) {
        return undo(pass);
    }
    probe::NodeProgress progress = *pass.progress;
    if (!unschedulable(pass.node)) {
        // Uncordoned under us (or the cordon's write was lost): cordon again before evicting anything.
        if (auto cordoned = m_api.patch_node(m_options.node, {{"spec", {{"unschedulable", true}}}});
            !cordoned) {
            util::log::warn(cordoned.error().with_context("cordoning node " + m_options.node).message);
            return m_options.poll;
        }
    }
    auto round = drain_round(m_api, m_options.node, pass.plan.delete_emptydir_data);
    if (!round) {
        util::log::warn(round.error().message);
        return m_options.poll;
    }
    if (!round->failure.empty()) {
        return fail(pass, "draining", round->failure);
    }
    for (const auto& pod : round->evicted) {
        util::log::info("evicted " + pod);
    }
    if (round->drained) {
        progress.state = probe::NodeState::rebooting;
        progress.boot_id = boot_id();
        progress.reboot_requested_at.clear();
        progress.reboot_method.clear();
        progress.step_started_at = now_text();
        progress.message = "drained; rebooting into " + progress.to;
        if (progress.boot_id.empty()) {
            return fail(pass, "draining",
                        "cannot read the boot id (" +
                            m_host.files().in_proc("sys/kernel/random/boot_id").string() +
                            "), so the reboot could not be told apart from no reboot");
        }
        if (auto recorded = record(pass, progress); !recorded) {
            util::log::warn(recorded.error().message);
            return m_options.poll;
        }
        return k_now;
    }
    if (past(progress.step_started_at, pass.plan.drain_timeout)) {
        std::vector<std::string> left = round->blocked;
        left.insert(left.end(), round->waiting.begin(), round->waiting.end());
        return fail(pass, "draining",
                    fmt::format("drain timeout ({}s) reached with pods left: {}",
                                pass.plan.drain_timeout.count(), list_text(left)));
    }
    std::string message = "draining";
    if (!round->waiting.empty()) {
        message += fmt::format("; waiting for {} pod(s) to go: {}", round->waiting.size(),
                               list_text(round->waiting));
    }
    if (!round->blocked.empty()) {
        message +=
            fmt::format("; {} eviction(s) refused for now, retried every {}s: {}", round->blocked.size(),
                        defaults::k_eviction_retry.count(), list_text(round->blocked));
    }
    progress.message = message;
    if (auto recorded = record(pass, progress); !recorded) {
        util::log::warn(recorded.error().message);
    }
    return round->blocked.empty() ? std::chrono::milliseconds(defaults::k_eviction_wait)
                                  : std::chrono::milliseconds(defaults::k_eviction_retry);
}

std::chrono::milliseconds Runner::reboot(Pass& pass) {
    probe::NodeProgress progress = *pass.progress;
    const std::string current = boot_id();
    if (current.empty()) {
        util::log::warn("cannot read the boot id; trying again");
        return m_options.poll;
    }
    if (current == progress.boot_id) {
        if (!m_reboot_requested) {
            // Asked once per process: an agent restarted before the node went down asks again.
            auto method = m_rebooter.reboot();
            if (!method) {
                return fail(pass, "rebooting", method.error().message);
            }
            m_reboot_requested = true;
            progress.reboot_method = *method;
            progress.reboot_requested_at = now_text();
            progress.message = fmt::format("reboot requested through {}; the new kernel boots once", *method);
            if (auto recorded = record(pass, progress); !recorded) {
                util::log::warn(recorded.error().message);
            }
            return m_options.poll;
        }
        if (past(progress.reboot_requested_at, defaults::k_reboot_timeout)) {
            return fail(pass, "rebooting",
                        fmt::format("the node did not restart within {}s of the reboot request through {}",
                                    defaults::k_reboot_timeout.count(), progress.reboot_method));
        }
        return m_options.poll;
    }
    // A new boot: did the new kernel come up and pass?
    kernel::ConfirmOptions options;
    if (auto cilium = probe::parse_cilium_version(pass.plan.cilium)) {
        options.cilium = *cilium;
    }
    options.bpf = m_options.bpf;
    options.node_name = m_options.node;
    auto confirmed = kernel::confirm(m_host, options);
    if (!confirmed) {
        return fail(pass, "confirm", confirmed.error().message);
    }
    if (confirmed->outcome != kernel::ConfirmOutcome::confirmed &&
        confirmed->outcome != kernel::ConfirmOutcome::already_confirmed) {
        return fail(pass, "confirm", confirmed->message);
    }
    progress.state = probe::NodeState::verifying;
    progress.step_started_at = now_text();
    progress.message =
        fmt::format("{} runs and is the default now; waiting for the node and its Cilium agent", progress.to);
    if (auto recorded = record(pass, progress); !recorded) {
        util::log::warn(recorded.error().message);
        return m_options.poll;
    }
    return k_now;
}

std::chrono::milliseconds Runner::verify(Pass& pass) {
    probe::NodeProgress progress = *pass.progress;
    const std::string why = health(pass);
    if (why.empty()) {
        progress.state = probe::NodeState::done;
        progress.step_started_at = now_text();
        progress.message =
            fmt::format("upgraded from {} to {}{}", progress.from, progress.to,
                        uncordon_spec(progress).is_null() ? " (left cordoned: it was before)" : "");
        if (auto recorded = record(pass, progress, uncordon_spec(progress)); !recorded) {
            util::log::warn(recorded.error().message);
            return m_options.poll;
        }
        return k_now; // the next pass releases the lock
    }
    if (past(progress.step_started_at, pass.plan.health_timeout)) {
        return fail(pass, "verifying",
                    fmt::format("{} {}s after the boot", why, pass.plan.health_timeout.count()));
    }
    progress.message = "waiting: " + why;
    if (auto recorded = record(pass, progress); !recorded) {
        util::log::warn(recorded.error().message);
    }
    return m_options.poll;
}

std::chrono::milliseconds Runner::failed(Pass& pass) {
    probe::NodeProgress progress = *pass.progress;
    const std::string& node_name = m_options.node;
    const bool holding = pass.lock && pass.lock->holds(node_name);
    if (pass.plan.phase == probe::RolloutPhase::aborted) {
        // Aborted: let the others' lock go; the node itself stays cordoned for a person to look at.
        if (holding) {
            if (auto released = release(pass); !released) {
                util::log::warn(released.error().with_context("releasing the lock").message);
                return m_options.poll;
            }
        }
        return idle(fmt::format("node {} failed ({}); the rollout is aborted", node_name, progress.message));
    }
    const auto resume = pass.plan.resumes.find(node_name);
    if (resume != pass.plan.resumes.end() && resume->second.attempt > progress.attempt) {
        const std::string failure = progress.error ? progress.error->message : progress.message;
        if (resume->second.skip) {
            progress.state = probe::NodeState::skipped;
            progress.attempt = resume->second.attempt;
            progress.message = "skipped by kubectl meshlink kernel resume --skip after: " + failure;
            if (auto recorded = record(pass, progress, uncordon_spec(progress)); !recorded) {
                util::log::warn(recorded.error().message);
                return m_options.poll;
            }
            return k_now; // the next pass releases the lock
        }
        if (!holding) {
            std::string why;
            auto lease = pass.lock ? with_hold(*pass.lock, node_name, pass.plan.max_unavailable, now(), &why)
                                   : std::nullopt;
            if (!lease) {
                return idle("resumed, waiting for the lock: " + (why.empty() ? "no lock Lease" : why));
            }
            if (auto written = write_lock(pass, *lease); !written) {
                return written.error().kind == util::ErrorKind::conflict ? k_conflict_retry : m_options.poll;
            }
        }
        // Whoever resumed has looked at the failure: a failed trial is cleared as `meshlink-agent kernel
        // rollback` would (the previous kernel stays the default), so that the node can stage again.
        auto trial = kernel::read_trial(m_host.files());
        if (!trial) {
            return fail(pass, "resuming", trial.error().message);
        }
        if (*trial && (*trial)->state == kernel::TrialState::failed) {
            if (auto rolled = kernel::rollback(m_host, kernel::RollbackOptions{}); !rolled) {
                return fail(pass, "resuming",
                            rolled.error()
                                .with_context("clearing the failed trial of " + (*trial)->target_release)
                                .message);
            }
            util::log::info("cleared the failed trial of " + (*trial)->target_release);
        }
        if (pass.lock->halt && pass.lock->halt->node == node_name) {
            if (auto written = write_lock(pass, with_halt(*pass.lock, std::nullopt)); !written) {
                return written.error().kind == util::ErrorKind::conflict ? k_conflict_retry : m_options.poll;
            }
        }
        progress.state = probe::NodeState::locked;
        progress.attempt = resume->second.attempt;
        progress.error.reset();
        progress.step_started_at = now_text();
        progress.message = fmt::format("attempt {} after kubectl meshlink kernel resume (before: {})",
                                       progress.attempt, failure);
        if (auto recorded = record(pass, progress); !recorded) {
            util::log::warn(recorded.error().message);
            return m_options.poll;
        }
        return k_now;
    }
    // Still failed: the halt stays declared (a resume racing with this pass may have cleared it early).
    if (holding && pass.lock->problem.empty() && !pass.lock->halt) {
        const probe::Halt halt{node_name, progress.message,
                               progress.error ? progress.error->at : progress.updated_at};
        if (auto written = write_lock(pass, with_halt(*pass.lock, halt)); !written) {
            util::log::warn(written.error().with_context("declaring the halt on the lock").message);
        }
    }
    return idle(fmt::format("node {} failed: {}; waiting for `kubectl meshlink kernel resume` or `abort`",
                            node_name, progress.message));
}

std::chrono::milliseconds Runner::undo(Pass& pass) {
    probe::NodeProgress progress = *pass.progress;
    auto trial = kernel::read_trial(m_host.files());
    if (!trial) {
        return fail(pass, "aborting", trial.error().message);
    }
    if (*trial &&
        ((*trial)->state == kernel::TrialState::staging || (*trial)->state == kernel::TrialState::staged)) {
        auto rolled = kernel::rollback(m_host, kernel::RollbackOptions{});
        if (!rolled) {
            return fail(pass, "aborting",
                        rolled.error().with_context("rolling back the staged kernel").message);
        }
        util::log::info("rolled back the staged kernel " + (*trial)->target_release);
    }
    progress.state = probe::NodeState::aborted;
    progress.step_started_at = now_text();
    progress.message = "the rollout was aborted before the reboot: the staged kernel was rolled back" +
                       std::string(uncordon_spec(progress).is_null() ? "" : " and the node uncordoned");
    if (auto recorded = record(pass, progress, uncordon_spec(progress)); !recorded) {
        util::log::warn(recorded.error().message);
        return m_options.poll;
    }
    return k_now; // the next pass releases the lock
}

} // namespace meshlink::agent::rollout
