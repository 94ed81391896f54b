#include "node-agent/kernel/report.hpp"

namespace meshlink::agent::kernel {
namespace {

using json = nlohmann::ordered_json;

json nullable(const std::string& text) {
    return text.empty() ? json(nullptr) : json(text);
}

json checks_json(const std::vector<probe::Check>& checks) {
    json out = json::array();
    for (const auto& check : checks) {
        out.push_back({{"id", check.id},
                       {"status", probe::to_string(check.status)},
                       {"message", check.message},
                       {"hint", nullable(check.hint)}});
    }
    return out;
}

json steps_json(const std::vector<StepResult>& steps) {
    json out = json::array();
    for (const auto& step : steps) {
        out.push_back({{"id", step.id}, {"status", step.status}, {"message", step.message}});
    }
    return out;
}

json trial_json(const std::optional<TrialRecord>& trial) {
    return trial ? to_json(*trial) : json(nullptr);
}

json header(std::string_view verb) {
    return {{"schemaVersion", k_report_schema_version}, {"verb", verb}};
}

} // namespace

json to_json(const PlanResult& plan) {
    json doc = header("plan");
    doc["allowed"] = plan.allowed;
    doc["el"] = plan.el ? json(*plan.el) : json(nullptr);
    doc["os"] = nullable(plan.os);
    doc["running"] = nullable(plan.running);
    doc["bootId"] = nullable(plan.boot_id);
    doc["default"] = {{"entry", nullable(plan.default_entry)}, {"kernel", nullable(plan.default_kernel)}};
    doc["repository"] = {{"url", nullable(plan.repo_url)}, {"keyFingerprints", plan.key_fingerprints}};
    if (plan.candidate) {
        json packages = json::array();
        for (const auto& p : plan.candidate->packages) {
            packages.push_back(p.full());
        }
        doc["candidate"] = {{"release", plan.candidate->kernel_release()},
                            {"version", plan.candidate->version},
                            {"packages", packages},
                            {"installed", plan.installed}};
    } else {
        doc["candidate"] = nullptr;
    }
    doc["checks"] = checks_json(plan.checks);
    json refusals = json::array();
    for (const auto& check : plan.checks) {
        if (check.status == probe::Status::fail || check.status == probe::Status::unknown) {
            refusals.push_back(check.id);
        }
    }
    doc["refusals"] = refusals;
    return doc;
}

json to_json(const StageResult& stage) {
    json doc = header("stage");
    doc["staged"] = stage.staged;
    doc["plan"] = to_json(stage.plan);
    doc["steps"] = steps_json(stage.steps);
    doc["trial"] = trial_json(stage.trial);
    return doc;
}

json to_json(const ConfirmResult& confirm) {
    json doc = header("confirm");
    doc["outcome"] = to_string(confirm.outcome);
    doc["message"] = confirm.message;
    doc["checks"] = checks_json(confirm.checks);
    doc["steps"] = steps_json(confirm.steps);
    doc["trial"] = trial_json(confirm.trial);
    return doc;
}

json to_json(const RollbackResult& rollback) {
    json doc = header("rollback");
    doc["steps"] = steps_json(rollback.steps);
    doc["trial"] = to_json(rollback.trial);
    return doc;
}

json to_json(const StatusResult& status) {
    json doc = header("status");
    doc["trial"] = trial_json(status.trial);
    doc["trialError"] = nullable(status.trial_error);
    doc["running"] = nullable(status.running);
    doc["bootId"] = nullable(status.boot_id);
    doc["rebootedSinceStage"] = status.rebooted_since_stage;
    doc["default"] = {{"entry", nullable(status.default_entry)}, {"kernel", nullable(status.default_kernel)}};
    doc["nextEntry"] = nullable(status.next_entry);
    doc["grubenvError"] = nullable(status.grubenv_error);
    json entries = json::array();
    for (const auto& entry : status.entries) {
        entries.push_back({{"id", entry.id}, {"kernel", nullable(entry.kernel)}, {"options", entry.options}});
    }
    doc["loader"] = {{"kind", to_string(status.loader)}, {"entries", entries}};
    doc["guard"] = {
        {"armed", status.guard.armed()},           {"timer", status.guard.timer},
        {"service", status.guard.service},         {"enabled", status.guard.enabled},
        {"kernel", nullable(status.guard.kernel)}, {"onBootSec", nullable(status.guard.deadline)}};
    doc["installed"] = status.installed;
    doc["pending"] = status.pending;
    return doc;
}

} // namespace meshlink::agent::kernel
