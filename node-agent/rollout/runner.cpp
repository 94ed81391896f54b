// The pass and the bookkeeping of `kernel run`: reading the plan, the lock and the node's progress, the
// blockers before a node starts, recording, failing, the lock's writes. The node's steps are in steps.cpp.

#include "node-agent/rollout/runner.hpp"

#include "probe/defaults.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshlink::agent::rollout {
namespace {

using nlohmann::json;
namespace pd = meshlink::probe::defaults;

const json& child(const json& object, const char* key) {
    static const json empty = json::object();
    const auto it = object.find(key);
    return it != object.end() && it->is_object() ? *it : empty;
}

std::string annotation(const json& object, std::string_view key) {
    const json& annotations = child(child(object, "metadata"), "annotations");
    const auto it = annotations.find(std::string(key));
    return it != annotations.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool condition_true(const json& object, std::string_view type) {
    const auto conditions = child(object, "status").find("conditions");
    if (conditions == child(object, "status").end() || !conditions->is_array()) {
        return false;
    }
    for (const auto& condition : *conditions) {
        if (condition.is_object() && condition.value("type", "") == type) {
            return condition.value("status", "") == "True";
        }
    }
    return false;
}

std::string first_line(const std::filesystem::path& path) {
    auto text = probe::read_text(path, 4096);
    if (!text.text) {
        return {};
    }
    return std::string(probe::trim(text.text->substr(0, text.text->find('\n'))));
}

} // namespace

Runner::Runner(RolloutApi& api, kernel::Host& host, Rebooter& rebooter, RunnerOptions options)
    : m_api(api), m_host(host), m_rebooter(rebooter), m_options(std::move(options)) {
    if (!m_options.now) {
        m_options.now = [] { return std::chrono::system_clock::now(); };
    }
}

std::chrono::system_clock::time_point Runner::now() const {
    return m_options.now();
}

std::string Runner::now_text() const {
    return util::format_rfc3339(now());
}

bool Runner::past(const std::string& since, std::chrono::seconds limit) const {
    auto start = util::parse_rfc3339(since);
    return start && now() - *start > limit;
}

std::string Runner::boot_id() const {
    return first_line(m_host.files().in_proc("sys/kernel/random/boot_id"));
}

std::string Runner::running_kernel() const {
    return first_line(m_host.files().in_proc("sys/kernel/osrelease"));
}

std::chrono::milliseconds Runner::idle(const std::string& why) {
    if (why != m_idle) {
        util::log::info(why);
        m_idle = why;
    }
    return m_options.poll;
}

std::chrono::milliseconds Runner::tick() {
    const std::string& node_name = m_options.node;
    auto plan_map = m_api.get_plan();
    if (!plan_map) {
        util::log::warn(plan_map.error().with_context("reading the kernel plan").message);
        return m_options.poll;
    }
    if (!*plan_map) {
        return idle(fmt::format("no kernel rollout: ConfigMap {}/{} does not exist", pd::k_rollout_namespace,
                                pd::k_rollout_plan_configmap));
    }
    const json& data = child(**plan_map, "data");
    const auto text = data.find(std::string(pd::k_rollout_plan_key));
    auto plan = text != data.end() && text->is_string()
                    ? probe::plan_from_text(text->get<std::string>())
                    : util::Result<probe::RolloutPlan>(
                          util::fail(util::ErrorKind::invalid,
                                     fmt::format("ConfigMap {}/{} has no key {}", pd::k_rollout_namespace,
                                                 pd::k_rollout_plan_configmap, pd::k_rollout_plan_key)));
    if (!plan) {
        return idle("the kernel plan cannot be used: " + plan.error().message);
    }
    Pass pass;
    pass.plan = std::move(*plan);
    if (!pass.plan.includes(node_name)) {
        return idle(fmt::format("node {} is not in kernel rollout {}", node_name, pass.plan.id));
    }
    auto node = m_api.get_node(node_name);
    if (!node) {
        util::log::warn(node.error().with_context("reading node " + node_name).message);
        return m_options.poll;
    }
    pass.node = std::move(*node);
    if (const auto own = annotation(pass.node, pd::k_rollout_progress_annotation); !own.empty()) {
        auto progress = probe::progress_from_text(own);
        if (!progress) {
            // Guessing would risk a second drain or a wrong uncordon: a person has to look.
            return idle(
                fmt::format("the progress annotation {} on node {} cannot be read ({}); fix or remove "
                            "it",
                            pd::k_rollout_progress_annotation, node_name, progress.error().message));
        }
        if (progress->rollout == pass.plan.id) {
            pass.progress = std::move(*progress);
        }
    }
    auto lease = m_api.get_lease();
    if (!lease) {
        util::log::warn(lease.error().with_context("reading the lock Lease").message);
        return m_options.poll;
    }
    if (*lease) {
        pass.lock = read_lock(**lease);
    }
    // A holder renews its hold, so `kernel status` can tell a live holder from a silent one (which it
    // reports; nobody takes the hold away).
    if (pass.lock && pass.lock->holds(node_name) && pass.lock->problem.empty() &&
        past(pass.lock->renew_time.value_or(""),
             std::chrono::duration_cast<std::chrono::seconds>(pd::k_rollout_lease_duration / 2))) {
        if (auto renewed_lock = write_lock(pass, renewed(*pass.lock, now())); !renewed_lock) {
            util::log::warn(renewed_lock.error().with_context("renewing the lock").message);
        }
    }

    if (!pass.progress || pass.progress->state == probe::NodeState::waiting) {
        return start(pass);
    }
    switch (pass.progress->state) {
    case probe::NodeState::locked:
    case probe::NodeState::staging:
        return stage(pass);
    case probe::NodeState::draining:
        return drain(pass);
    case probe::NodeState::rebooting:
        return reboot(pass);
    case probe::NodeState::verifying:
        return verify(pass);
    case probe::NodeState::failed:
        return failed(pass);
    case probe::NodeState::done:
    case probe::NodeState::skipped:
    case probe::NodeState::aborted:
    case probe::NodeState::waiting:
        return finished(pass);
    }
    return m_options.poll;
}

std::chrono::milliseconds Runner::start(Pass& pass) {
    const std::string& node_name = m_options.node;
    probe::NodeProgress progress = pass.progress.value_or(probe::NodeProgress{});
    progress.rollout = pass.plan.id;
    if (pass.plan.phase == probe::RolloutPhase::aborted) {
        if (pass.progress) {
            progress.state = probe::NodeState::aborted;
            progress.message = "the rollout was aborted before this node started";
            if (auto recorded = record(pass, progress); !recorded) {
                util::log::warn(recorded.error().message);
            }
        }
        return idle(
            fmt::format("kernel rollout {} is aborted; node {} does not start", pass.plan.id, node_name));
    }
    const bool holding = pass.lock && pass.lock->holds(node_name);
    std::string blocked;
    if (!pass.lock) {
        blocked =
            fmt::format("the lock Lease {}/{} does not exist", pd::k_rollout_namespace, pd::k_rollout_lease);
    } else if (pass.lock->rollout != pass.plan.id) {
        blocked =
            fmt::format("the lock Lease belongs to another rollout (\"{}\"): another rollout is in progress",
                        pass.lock->rollout);
    } else if (!pass.lock->problem.empty()) {
        blocked = "the lock Lease cannot be read: " + pass.lock->problem;
    } else if (!holding && pass.lock->halt) {
        blocked = fmt::format("the rollout is halted: node {} failed ({})", pass.lock->halt->node,
                              pass.lock->halt->reason);
    } else if (!holding) {
        // Plan order first, then the node's own blockers, then the lock: a node that cannot start must not
        // take a hold the next node in line could use.
        blocked = earlier_nodes(pass);
        if (blocked.empty()) {
            blocked = health(pass);
        }
    }
    std::optional<json> lease;
    if (blocked.empty() && !holding) {
        lease = with_hold(*pass.lock, node_name, pass.plan.max_unavailable, now(), &blocked);
    }
    if (!blocked.empty()) {
        progress.state = probe::NodeState::waiting;
        progress.message = blocked;
        if (auto recorded = record(pass, progress); !recorded) {
            util::log::warn(recorded.error().message);
        }
        return idle(fmt::format("waiting: {}", blocked));
    }
    if (lease) {
        if (auto written = write_lock(pass, *lease); !written) {
            if (written.error().kind != util::ErrorKind::conflict) {
                util::log::warn(written.error().with_context("taking the lock").message);
            }
            return written.error().kind == util::ErrorKind::conflict ? k_conflict_retry : m_options.poll;
        }
        util::log::info(
            fmt::format("took the lock (holders: {})", probe::format_holders(pass.lock->holders)));
    }
    progress.state = probe::NodeState::locked;
    progress.error.reset();
    progress.from = running_kernel();
    progress.started_at = now_text();
    progress.step_started_at = progress.started_at;
    progress.message = "holds the lock; staging the new kernel next";
    if (auto recorded = record(pass, progress); !recorded) {
        util::log::warn(recorded.error().message);
        return m_options.poll;
    }
    return k_now;
}

std::chrono::milliseconds Runner::finished(Pass& pass) {
    if (pass.lock && pass.lock->holds(m_options.node)) {
        if (auto released = release(pass); !released) {
            util::log::warn(released.error().with_context("releasing the lock").message);
            return released.error().kind == util::ErrorKind::conflict ? k_conflict_retry : m_options.poll;
        }
        util::log::info("released the lock");
    }
    return idle(fmt::format("node {}: {} ({})", m_options.node, probe::to_string(pass.progress->state),
                            pass.progress->message));
}

std::chrono::milliseconds Runner::fail(Pass& pass, const std::string& step, const std::string& message) {
    probe::NodeProgress progress = pass.progress.value_or(probe::NodeProgress{});
    progress.rollout = pass.plan.id;
    progress.state = probe::NodeState::failed;
    progress.error = probe::NodeFailure{step, message.substr(0, pd::k_rollout_max_message), now_text()};
    progress.message = fmt::format("failed while {}: {}", step, message).substr(0, pd::k_rollout_max_message);
    util::log::error(fmt::format("node {}: {}", m_options.node, progress.message));
    if (auto recorded = record(pass, progress); !recorded) {
        util::log::warn(recorded.error().with_context("recording the failure").message);
    }
    if (pass.lock && pass.lock->problem.empty() && !pass.lock->halt) {
        const probe::Halt halt{m_options.node, progress.message, progress.error->at};
        if (auto written = write_lock(pass, with_halt(*pass.lock, halt)); !written) {
            util::log::warn(written.error().with_context("declaring the halt on the lock").message);
        }
    }
    return m_options.poll;
}

util::Result<void> Runner::record(Pass& pass, probe::NodeProgress progress, const json& spec,
                                  bool precondition) {
    progress.rollout = pass.plan.id;
    progress.updated_at = now_text();
    if (pass.progress && pass.progress->same_as(progress) && spec.is_null()) {
        return {};
    }
    json patch = {{"metadata",
                   {{"annotations",
                     {{std::string(pd::k_rollout_progress_annotation), probe::to_json(progress).dump()}}}}}};
    if (precondition) {
        patch["metadata"]["resourceVersion"] = child(pass.node, "metadata").value("resourceVersion", "");
    }
    if (!spec.is_null()) {
        patch["spec"] = spec;
    }
    if (auto patched = m_api.patch_node(m_options.node, patch); !patched) {
        return std::unexpected(patched.error().with_context(
            fmt::format("recording {} on node {}", probe::to_string(progress.state), m_options.node)));
    }
    if (!pass.progress || pass.progress->state != progress.state) {
        util::log::info(fmt::format("node {}: {}: {}", m_options.node, probe::to_string(progress.state),
                                    progress.message));
    }
    if (spec.is_object() && spec.contains("unschedulable")) {
        pass.node["spec"]["unschedulable"] = spec["unschedulable"];
    }
    pass.progress = std::move(progress);
    return {};
}

util::Result<void> Runner::write_lock(Pass& pass, const json& lease) {
    auto stored = m_api.update_lease(lease);
    if (!stored) {
        return std::unexpected(stored.error());
    }
    pass.lock = read_lock(*stored);
    return {};
}

util::Result<void> Runner::release(Pass& pass) {
    if (!pass.lock || !pass.lock->holds(m_options.node)) {
        return {};
    }
    if (!pass.lock->problem.empty()) {
        return util::fail(util::ErrorKind::invalid, "the lock Lease cannot be read: " + pass.lock->problem);
    }
    return write_lock(pass, without_hold(*pass.lock, m_options.node, now()));
}

std::string Runner::earlier_nodes(const Pass& pass) {
    if (m_finished_rollout != pass.plan.id) {
        m_finished.clear();
        m_finished_rollout = pass.plan.id;
    }
    const auto self = std::find(pass.plan.nodes.begin(), pass.plan.nodes.end(), m_options.node);
    int unfinished = 0;
    std::string first;
    // Nodes seen done or skipped stay so (nothing in a rollout undoes that): each is read until then, and the
    // scan stops at maxUnavailable unfinished ones, so a pass reads a few Nodes, not the whole plan.
    for (auto it = pass.plan.nodes.begin(); it != self && unfinished < pass.plan.max_unavailable; ++it) {
        if (m_finished.contains(*it)) {
            continue;
        }
        auto node = m_api.get_node(*it);
        if (!node) {
            if (node.error().kind == util::ErrorKind::not_found) {
                m_finished.insert(*it); // gone from the cluster: nothing left to upgrade there
                continue;
            }
            return node.error().with_context("reading node " + *it + ", before this one in the plan").message;
        }
        const auto text = annotation(*node, pd::k_rollout_progress_annotation);
        auto progress = text.empty() ? util::Result<probe::NodeProgress>(probe::NodeProgress{})
                                     : probe::progress_from_text(text);
        if (progress && progress->rollout == pass.plan.id &&
            (progress->state == probe::NodeState::done || progress->state == probe::NodeState::skipped)) {
            m_finished.insert(*it);
            continue;
        }
        ++unfinished;
        if (first.empty()) {
            first = *it;
        }
    }
    if (unfinished < pass.plan.max_unavailable) {
        return {};
    }
    return fmt::format("node {} comes first in the plan and has not finished", first);
}

std::string Runner::health(const Pass& pass) {
    if (!condition_true(pass.node, "Ready")) {
        return fmt::format("node {} is not Ready", m_options.node);
    }
    auto pods = m_api.cilium_pods(m_options.node);
    if (!pods) {
        return pods.error().with_context("cannot list the Cilium agent on the node").message;
    }
    if (pods->empty()) {
        return fmt::format("no Cilium agent pod runs on node {}", m_options.node);
    }
    for (const auto& pod : *pods) {
        if (condition_true(pod, "Ready") && !child(pod, "metadata").contains("deletionTimestamp")) {
            return {};
        }
    }
    return fmt::format("the Cilium agent on node {} ({}) is not ready", m_options.node,
                       child(pods->front(), "metadata").value("name", ""));
}

} // namespace meshlink::agent::rollout
