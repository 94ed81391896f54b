#include "plugin/kernel/rollout.hpp"

#include "plugin/agent/install.hpp"
#include "plugin/agent/manifests.hpp"
#include "plugin/defaults.hpp"
#include "probe/defaults.hpp"
#include "probe/node_report.hpp"
#include "util/json_path.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <random>

namespace meshlink::plugin::kernel {
namespace {

using nlohmann::json;
namespace pd = meshlink::probe::defaults;

const json& child(const json& object, const char* key) {
    static const json empty = json::object();
    if (!object.is_object()) {
        return empty;
    }
    const auto it = object.find(key);
    return it != object.end() && it->is_object() ? *it : empty;
}

std::string annotation(const json& object, std::string_view key) {
    const json& annotations = child(child(object, "metadata"), "annotations");
    const auto it = annotations.find(std::string(key));
    return it != annotations.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string plan_path() {
    return kube::api_path("", "v1", "configmaps", pd::k_rollout_namespace, pd::k_rollout_plan_configmap);
}

std::string lease_path() {
    return kube::api_path("coordination.k8s.io", "v1", "leases", pd::k_rollout_namespace,
                          pd::k_rollout_lease);
}

json labels() {
    return {{"app.kubernetes.io/name", std::string(pd::k_kernel_workload)},
            {"app.kubernetes.io/part-of", "meshlink"}};
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : ", ") + item;
    }
    return out;
}

// The plan as read from the ConfigMap, with its resourceVersion for a conditional write.
struct StoredPlan {
    probe::RolloutPlan plan;
    json configmap;
};

util::Result<std::optional<StoredPlan>> read_plan(KernelApi& api) {
    auto configmap = api.objects().get(plan_path());
    if (!configmap) {
        return std::unexpected(configmap.error());
    }
    if (!*configmap) {
        return std::optional<StoredPlan>();
    }
    const json& data = child(**configmap, "data");
    const auto text = data.find(std::string(pd::k_rollout_plan_key));
    if (text == data.end() || !text->is_string()) {
        return util::fail(util::ErrorKind::invalid,
                          fmt::format("ConfigMap {}/{} has no key {}", pd::k_rollout_namespace,
                                      pd::k_rollout_plan_configmap, pd::k_rollout_plan_key));
    }
    auto plan = probe::plan_from_text(text->get<std::string>());
    if (!plan) {
        return std::unexpected(plan.error());
    }
    return std::optional<StoredPlan>(StoredPlan{std::move(*plan), std::move(**configmap)});
}

util::Result<void> write_plan(KernelApi& api, const StoredPlan& stored) {
    json patch = {
        {"metadata", {{"resourceVersion", child(stored.configmap, "metadata").value("resourceVersion", "")}}},
        {"data", {{std::string(pd::k_rollout_plan_key), probe::to_json(stored.plan).dump(2)}}}};
    auto written = api.objects().merge_patch(plan_path(), patch);
    if (!written) {
        return std::unexpected(written.error().with_context(
            fmt::format("updating ConfigMap {}/{}", pd::k_rollout_namespace, pd::k_rollout_plan_configmap)));
    }
    return {};
}

// The check `id` of the report when its status is `status`.
const probe::ReportedCheck* find_check(const probe::ReportDocument& report, std::string_view id,
                                       probe::Status status) {
    for (const auto& check : report.checks) {
        if (check.id == id && check.status == status) {
            return &check;
        }
    }
    return nullptr;
}

} // namespace

std::string_view to_string(Verdict verdict) {
    switch (verdict) {
    case Verdict::upgrade:
        return "upgrade";
    case Verdict::current:
        return "current";
    case Verdict::cannot:
        return "cannot";
    case Verdict::no_report:
        return "no-report";
    }
    return "no-report";
}

std::vector<NodeVerdict> judge_nodes(const std::vector<json>& nodes) {
    std::vector<NodeVerdict> verdicts;
    for (const auto& node : nodes) {
        NodeVerdict verdict;
        verdict.node = child(node, "metadata").value("name", "");
        const auto text = annotation(node, pd::k_report_annotation);
        // The node wrote this: read it as preflight and `agent status` do (probe/node_report.hpp), so one
        // odd report makes that node "no-report" and never ends the plan.
        const probe::ParsedReport parsed = text.empty() ? probe::ParsedReport{} : probe::parse_report(text);
        if (!parsed.report) {
            verdict.reason = text.empty() ? "no node report (kubectl meshlink agent install)"
                                          : "the node report is invalid: " + parsed.problem;
            verdicts.push_back(std::move(verdict));
            continue;
        }
        const probe::ReportDocument& report = *parsed.report;
        verdict.cilium = report.cilium_version;
        verdict.kernel = util::json_path::string_at(report.document, {"facts", "kernel", "release"});
        std::vector<std::string> kernel_failing;
        for (const auto& check : report.checks) {
            if (check.status == probe::Status::fail) {
                verdict.failing.push_back(check.id);
                if (check.id.starts_with("node.kernel.")) {
                    kernel_failing.push_back(check.id);
                }
            }
        }
        if (kernel_failing.empty()) {
            verdict.verdict = Verdict::current;
            verdict.reason = "no node.kernel.* check fails";
            verdicts.push_back(std::move(verdict));
            continue;
        }
        // What rules an ELRepo kernel out, as the node's own checks report it.
        const auto* os_unusable = find_check(report, "node.os", probe::Status::warn);
        if (os_unusable == nullptr) {
            os_unusable = find_check(report, "node.os", probe::Status::unknown);
        }
        const auto* os_known = find_check(report, "node.os", probe::Status::pass);
        const auto* boot = find_check(report, "node.boot", probe::Status::warn);
        if (os_unusable != nullptr) {
            verdict.verdict = Verdict::cannot;
            verdict.reason = os_unusable->message;
        } else if (os_known != nullptr && os_known->message.find("(EL") == std::string::npos) {
            verdict.verdict = Verdict::cannot;
            verdict.reason = os_known->message;
        } else if (boot != nullptr) {
            verdict.verdict = Verdict::cannot;
            verdict.reason = boot->message;
        } else {
            verdict.verdict = Verdict::upgrade;
            verdict.reason = "fails " + joined(kernel_failing);
        }
        verdicts.push_back(std::move(verdict));
    }
    std::sort(verdicts.begin(), verdicts.end(), [](const auto& a, const auto& b) { return a.node < b.node; });
    return verdicts;
}

json to_json(const std::vector<NodeVerdict>& verdicts) {
    json nodes = json::array();
    for (const auto& verdict : verdicts) {
        nodes.push_back({{"node", verdict.node},
                         {"verdict", to_string(verdict.verdict)},
                         {"reason", verdict.reason},
                         {"kernel", verdict.kernel},
                         {"ciliumVersion", verdict.cilium},
                         {"failing", verdict.failing}});
    }
    return {{"nodes", nodes}};
}

std::vector<json> rollout_objects(const probe::RolloutPlan& plan, const std::optional<std::string>& image) {
    std::vector<json> objects;
    objects.push_back({{"apiVersion", "coordination.k8s.io/v1"},
                       {"kind", "Lease"},
                       {"metadata",
                        {{"name", std::string(pd::k_rollout_lease)},
                         {"namespace", std::string(pd::k_rollout_namespace)},
                         {"labels", labels()},
                         {"annotations", {{std::string(pd::k_rollout_id_annotation), plan.id}}}}},
                       {"spec", {{"leaseDurationSeconds", pd::k_rollout_lease_duration.count()}}}});
    objects.push_back({{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata",
                        {{"name", std::string(pd::k_rollout_plan_configmap)},
                         {"namespace", std::string(pd::k_rollout_namespace)},
                         {"labels", labels()}}},
                       {"data", {{std::string(pd::k_rollout_plan_key), probe::to_json(plan).dump(2)}}}});
    agent::KernelRenderOptions render;
    render.image = image;
    render.nodes = plan.nodes;
    for (auto& object : agent::render_kernel_objects(render)) {
        objects.push_back(std::move(object));
    }
    return objects;
}

util::Result<void> start_rollout(KernelApi& api, const std::vector<json>& objects,
                                 const std::function<void(const std::string&)>& progress) {
    for (const auto& path : {plan_path(), lease_path()}) {
        auto existing = api.objects().get(path);
        if (!existing) {
            return std::unexpected(existing.error());
        }
        if (*existing) {
            return util::fail(
                util::ErrorKind::conflict,
                fmt::format("{} exists: a kernel rollout was started before; see `kubectl meshlink "
                            "kernel status`, and clear it with `kubectl meshlink kernel finish`",
                            agent::describe(**existing)));
        }
    }
    for (const auto& object : objects) {
        auto paths = agent::paths_of(object);
        if (!paths) {
            return std::unexpected(paths.error());
        }
        auto created = api.objects().create(paths->collection, object);
        if (!created && created.error().kind != util::ErrorKind::already_exists) {
            std::string hint;
            if (created.error().kind == util::ErrorKind::not_found) {
                hint = fmt::format(" (is the agent installed? `{}` creates namespace {})",
                                   defaults::k_agent_install_command, pd::k_rollout_namespace);
            }
            return std::unexpected(
                created.error().with_context("creating " + agent::describe(object) + hint));
        }
        if (!created) {
            // An object of the workload left from an interrupted finish: bring it to the manifest.
            auto applied = agent::apply_objects(api.objects(), {object});
            if (!applied) {
                return std::unexpected(applied.error());
            }
        }
        if (progress) {
            progress("created " + agent::describe(object));
        }
    }
    return {};
}

std::string RolloutStatus::phase() const {
    if (!plan) {
        return "none";
    }
    if (halt) {
        return "halted";
    }
    if (plan->phase == probe::RolloutPhase::aborted) {
        return "aborted";
    }
    const bool complete = std::all_of(nodes.begin(), nodes.end(), [](const NodeRow& row) {
        return row.progress && (row.progress->state == probe::NodeState::done ||
                                row.progress->state == probe::NodeState::skipped);
    });
    return complete ? "complete" : "running";
}

util::Result<RolloutStatus> read_status(KernelApi& api) {
    RolloutStatus status;
    auto stored = read_plan(api);
    if (!stored) {
        if (stored.error().kind == util::ErrorKind::invalid) {
            status.plan_problem = stored.error().message;
        } else {
            return std::unexpected(stored.error());
        }
    } else if (*stored) {
        status.plan = std::move((*stored)->plan);
    }
    auto lease = api.objects().get(lease_path());
    if (!lease) {
        return std::unexpected(lease.error());
    }
    if (*lease) {
        status.lease_present = true;
        const json& spec = child(**lease, "spec");
        status.holders = probe::parse_holders(spec.value("holderIdentity", ""));
        if (spec.contains("renewTime") && spec["renewTime"].is_string()) {
            status.renew_time = spec["renewTime"].get<std::string>();
        }
        if (const auto text = annotation(**lease, pd::k_rollout_halt_annotation); !text.empty()) {
            // Unreadable is not "no halt": the agents treat it as a halt, and so does the report.
            auto halt = probe::halt_from_text(text);
            status.halt = halt ? std::move(*halt) : probe::Halt{"(unreadable)", halt.error().message, ""};
        }
        if (const auto text = annotation(**lease, pd::k_rollout_pins_annotation); !text.empty()) {
            if (auto pins = probe::pins_from_text(text)) {
                status.pins = std::move(*pins);
            }
        }
    }
    auto daemonset = api.objects().get(
        kube::api_path("apps", "v1", "daemonsets", pd::k_rollout_namespace, pd::k_kernel_workload));
    if (!daemonset) {
        return std::unexpected(daemonset.error());
    }
    status.workload_present = daemonset->has_value();
    if (!status.plan) {
        return status;
    }
    for (const auto& name : status.plan->nodes) {
        NodeRow row;
        row.node = name;
        row.holds = std::find(status.holders.begin(), status.holders.end(), name) != status.holders.end();
        auto node = api.objects().get(kube::api_path("", "v1", "nodes", "", name));
        if (!node) {
            return std::unexpected(node.error());
        }
        if (!*node) {
            row.problem = "the node does not exist";
        } else {
            row.cordoned = child(**node, "spec").value("unschedulable", false);
            if (const auto text = annotation(**node, pd::k_rollout_progress_annotation); !text.empty()) {
                auto progress = probe::progress_from_text(text);
                if (!progress) {
                    row.problem = progress.error().message;
                } else if (progress->rollout == status.plan->id) {
                    row.progress = std::move(*progress);
                }
            }
        }
        status.nodes.push_back(std::move(row));
    }
    return status;
}

json to_json(const RolloutStatus& status) {
    json nodes = json::array();
    for (const auto& row : status.nodes) {
        json entry = row.progress ? json(probe::to_json(*row.progress)) : json::object();
        entry["node"] = row.node;
        if (!row.progress) {
            entry["state"] = "not-started";
        }
        entry["cordoned"] = row.cordoned;
        entry["holdsLock"] = row.holds;
        if (!row.problem.empty()) {
            entry["problem"] = row.problem;
        }
        nodes.push_back(std::move(entry));
    }
    json document = {{"phase", status.phase()},
                     {"plan", status.plan ? json(probe::to_json(*status.plan)) : json(nullptr)},
                     {"lock",
                      {{"present", status.lease_present},
                       {"holders", status.holders},
                       {"renewTime", status.renew_time ? json(*status.renew_time) : json(nullptr)},
                       {"pins", probe::to_json(status.pins)},
                       {"halt", status.halt ? probe::to_json(*status.halt) : json(nullptr)}}},
                     {"workloadPresent", status.workload_present},
                     {"nodes", nodes}};
    if (!status.plan_problem.empty()) {
        document["planProblem"] = status.plan_problem;
    }
    return document;
}

std::string status_text(const RolloutStatus& status) {
    if (!status.plan) {
        return status.plan_problem.empty()
                   ? fmt::format("No kernel rollout (no ConfigMap {}/{}).\n", pd::k_rollout_namespace,
                                 pd::k_rollout_plan_configmap)
                   : "The kernel plan cannot be used: " + status.plan_problem + "\n";
    }
    const auto& plan = *status.plan;
    std::string out =
        fmt::format("Rollout {}: {} (kernel-{} {}, for Cilium {}, {} node(s), at most {} at a time)\n",
                    plan.id, status.phase(), plan.flavor, plan.version.value_or("newest"), plan.cilium,
                    plan.nodes.size(), plan.max_unavailable);
    if (status.halt) {
        out += fmt::format("HALTED by node {}: {}\n  fix the node, then `kubectl meshlink kernel resume` (or "
                           "`resume --skip {}`, or `abort`)\n",
                           status.halt->node, status.halt->reason, status.halt->node);
    }
    for (const auto& [el, version] : status.pins) {
        out += fmt::format("EL{} pinned to {}\n", el, version);
    }
    out += fmt::format("{:<20} {:<11} {:<5} {:<9} {}\n", "NODE", "STATE", "LOCK", "CORDONED", "MESSAGE");
    for (const auto& row : status.nodes) {
        const std::string state =
            row.progress ? std::string(probe::to_string(row.progress->state)) : "not-started";
        std::string message = row.problem.empty() ? (row.progress ? row.progress->message : "") : row.problem;
        out += fmt::format("{:<20} {:<11} {:<5} {:<9} {}\n", row.node, state, row.holds ? "yes" : "-",
                           row.cordoned ? "yes" : "no", message);
    }
    if (!status.workload_present) {
        out += fmt::format("(DaemonSet {}/{} is not there: no node makes progress)\n",
                           pd::k_rollout_namespace, pd::k_kernel_workload);
    }
    return out;
}

util::Result<std::vector<std::pair<std::string, std::string>>>
resume(KernelApi& api, const std::vector<std::string>& nodes, bool skip,
       std::chrono::system_clock::time_point now) {
    auto status = read_status(api);
    if (!status) {
        return std::unexpected(status.error());
    }
    if (!status->plan) {
        return util::fail(util::ErrorKind::not_found, "no kernel rollout to resume");
    }
    std::vector<std::pair<std::string, std::string>> asked;
    std::map<std::string, probe::ResumeRequest> requests;
    for (const auto& row : status->nodes) {
        if (!row.progress || row.progress->state != probe::NodeState::failed) {
            continue;
        }
        if (!nodes.empty() && std::find(nodes.begin(), nodes.end(), row.node) == nodes.end()) {
            continue;
        }
        requests[row.node] = probe::ResumeRequest{row.progress->attempt + 1, skip, util::format_rfc3339(now)};
        asked.emplace_back(row.node,
                           row.progress->error ? row.progress->error->message : row.progress->message);
    }
    for (const auto& node : nodes) {
        if (requests.find(node) == requests.end()) {
            return util::fail(util::ErrorKind::invalid,
                              fmt::format("node {} has not failed in rollout {}: nothing to resume", node,
                                          status->plan->id));
        }
    }
    if (asked.empty()) {
        return util::fail(
            util::ErrorKind::invalid,
            fmt::format("no node has failed in rollout {}: nothing to resume", status->plan->id));
    }
    // Read-modify-write, conditional on the ConfigMap's resourceVersion.
    for (int attempt = 0;; ++attempt) {
        auto stored = read_plan(api);
        if (!stored) {
            return std::unexpected(stored.error());
        }
        if (!*stored) {
            return util::fail(util::ErrorKind::not_found, "the kernel plan went away");
        }
        for (const auto& [node, request] : requests) {
            (*stored)->plan.resumes[node] = request;
        }
        auto written = write_plan(api, **stored);
        if (written || written.error().kind != util::ErrorKind::conflict || attempt >= 3) {
            if (!written) {
                return std::unexpected(written.error());
            }
            return asked;
        }
    }
}

util::Result<void> abort_rollout(KernelApi& api, std::chrono::system_clock::time_point now) {
    for (int attempt = 0;; ++attempt) {
        auto stored = read_plan(api);
        if (!stored) {
            return std::unexpected(stored.error());
        }
        if (!*stored) {
            return util::fail(util::ErrorKind::not_found, "no kernel rollout to abort");
        }
        if ((*stored)->plan.phase == probe::RolloutPhase::aborted) {
            return {};
        }
        (*stored)->plan.phase = probe::RolloutPhase::aborted;
        (*stored)->plan.aborted_at = util::format_rfc3339(now);
        auto written = write_plan(api, **stored);
        if (written || written.error().kind != util::ErrorKind::conflict || attempt >= 3) {
            return written;
        }
    }
}

util::Result<std::vector<std::string>> finish(KernelApi& api) {
    auto status = read_status(api);
    if (!status) {
        return std::unexpected(status.error());
    }
    std::vector<std::string> busy;
    for (const auto& row : status->nodes) {
        if (row.progress && probe::in_progress(row.progress->state)) {
            busy.push_back(fmt::format("{} ({})", row.node, probe::to_string(row.progress->state)));
        }
    }
    if (!busy.empty()) {
        return util::fail(
            util::ErrorKind::conflict,
            fmt::format("node(s) in progress: {}; wait for them (`kubectl meshlink kernel status "
                        "--watch`), or `kubectl meshlink kernel abort` first",
                        joined(busy)));
    }
    // Everything `kernel upgrade` created; delete_objects goes in reverse, so the DaemonSet goes first and
    // no agent acts on a plan that is going away.
    probe::RolloutPlan placeholder;
    placeholder.nodes = {"-"};
    const auto objects = rollout_objects(placeholder, std::nullopt);
    std::vector<std::string> deleted;
    auto steps = agent::delete_objects(api.objects(), objects);
    if (!steps) {
        return std::unexpected(steps.error());
    }
    for (const auto& step : *steps) {
        if (step.action == agent::DeleteAction::deleted) {
            deleted.push_back(step.object);
        }
    }
    return deleted;
}

std::string new_rollout_id() {
    std::random_device random;
    std::uniform_int_distribution<int> digit(0, 15);
    std::string id;
    for (int i = 0; i < 12; ++i) {
        id += "0123456789abcdef"[digit(random)];
    }
    return id;
}

} // namespace meshlink::plugin::kernel
