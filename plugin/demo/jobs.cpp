#include "plugin/demo/jobs.hpp"

#include "plugin/defaults.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshlink::plugin::demo {
namespace {

namespace df = defaults;
using mesh::child;
using mesh::text;

bool condition_true(const json& object, std::string_view type) {
    const json& conditions = child(child(object, "status"), "conditions");
    if (!conditions.is_array()) {
        return false;
    }
    return std::any_of(conditions.begin(), conditions.end(),
                       [&](const json& c) { return text(c, "type") == type && text(c, "status") == "True"; });
}

std::string events_selector(const std::string& name) {
    return fmt::format("involvedObject.kind=Job,involvedObject.name={}", name);
}

} // namespace

json job_object(const JobSpec& spec) {
    json labels = {{df::k_managed_by_label, df::k_managed_by_meshlink}, {df::k_role_label, spec.role}};
    for (const auto& [key, value] : spec.labels) {
        labels[key] = value;
    }
    json env = json::array();
    for (const auto& [name, value] : spec.env) {
        env.push_back({{"name", name}, {"value", value}});
    }
    json container = {
        {"name", df::k_probe_container},
        {"image", spec.image},
        {"command", {"sh", "-c", spec.script}},
        {"env", env},
        {"securityContext",
         {{"allowPrivilegeEscalation", false},
          {"readOnlyRootFilesystem", true},
          {"capabilities", {{"drop", {"ALL"}}}}}},
        {"resources", {{"requests", {{"cpu", "10m"}, {"memory", "16Mi"}}}, {"limits", {{"memory", "64Mi"}}}}},
        {"terminationMessagePolicy", "FallbackToLogsOnError"},
        {"volumeMounts", {{{"name", "tmp"}, {"mountPath", "/tmp"}}}}};
    json pod_spec = {{"restartPolicy", "Never"},
                     {"automountServiceAccountToken", false},
                     {"enableServiceLinks", false},
                     {"securityContext",
                      {{"runAsNonRoot", true},
                       {"runAsUser", df::k_probe_user},
                       {"runAsGroup", df::k_probe_user},
                       {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
                     {"containers", {container}},
                     {"volumes", {{{"name", "tmp"}, {"emptyDir", json::object()}}}}};
    if (spec.node) {
        pod_spec["nodeName"] = *spec.node;
    }
    if (spec.host_network) {
        pod_spec["hostNetwork"] = true;
        pod_spec["dnsPolicy"] = "ClusterFirstWithHostNet";
    }
    if (spec.tolerate_everything) {
        pod_spec["tolerations"] = {{{"operator", "Exists"}}};
    }
    if (!spec.pull_secrets.empty()) {
        json secrets = json::array();
        for (const auto& secret : spec.pull_secrets) {
            secrets.push_back({{"name", secret}});
        }
        pod_spec["imagePullSecrets"] = secrets;
    }
    return {
        {"apiVersion", "batch/v1"},
        {"kind", "Job"},
        {"metadata", {{"generateName", df::k_verify_job_prefix}, {"namespace", spec.ns}, {"labels", labels}}},
        {"spec",
         {{"backoffLimit", 0},
          {"activeDeadlineSeconds", spec.deadline.count()},
          {"ttlSecondsAfterFinished", std::chrono::seconds(df::k_verify_job_ttl).count()},
          {"template", {{"metadata", {{"labels", labels}}}, {"spec", pod_spec}}}}}};
}

util::Result<std::vector<JobRun>> run_jobs(DemoApi& api, const std::vector<JobSpec>& specs,
                                           const JobOptions& options) {
    std::vector<JobRun> runs(specs.size());
    if (specs.empty()) {
        return runs;
    }
    const std::string ns = specs.front().ns;
    std::chrono::seconds longest{0};
    for (std::size_t i = 0; i < specs.size(); ++i) {
        auto created = api.create(jobs_path(specs[i].ns), job_object(specs[i]));
        if (!created) {
            for (std::size_t j = 0; j < i; ++j) {
                (void)api.remove_propagating(jobs_path(specs[j].ns, runs[j].job), "Background");
            }
            return std::unexpected(
                created.error().with_context(fmt::format("creating a Job in namespace {}", specs[i].ns)));
        }
        runs[i].job = text(child(*created, "metadata"), "name");
        longest = std::max(longest, specs[i].deadline);
    }
    mesh::MeshHost& clock = *options.clock;
    const auto deadline = clock.now() + longest + std::chrono::seconds(df::k_verify_job_slack);
    std::chrono::milliseconds pause = df::k_demo_poll_first;
    for (;;) {
        bool pending = false;
        for (std::size_t i = 0; i < runs.size(); ++i) {
            JobRun& run = runs[i];
            if (run.finished || run.problem || !run.error.empty()) {
                continue;
            }
            auto job = api.get(jobs_path(specs[i].ns, run.job));
            if (!job) {
                run.error = job.error().message;
                continue;
            }
            if (!*job) {
                run.error = fmt::format("Job {}/{} disappeared before it finished", specs[i].ns, run.job);
                continue;
            }
            auto pods =
                api.list(core_path("pods", specs[i].ns), fmt::format("{}={}", df::k_job_name_label, run.job));
            if (!pods) {
                run.error = pods.error().message;
                continue;
            }
            const bool done = condition_true(**job, "Complete") || condition_true(**job, "Failed");
            const json* finished_pod = nullptr;
            for (const auto& pod : *pods) {
                const std::string phase = text(child(pod, "status"), "phase");
                if (phase == "Succeeded" || phase == "Failed") {
                    finished_pod = &pod;
                } else if (auto problem = pod_problem(pod)) {
                    run.problem = std::move(problem);
                }
            }
            if (run.problem) {
                continue;
            }
            if (pods->empty()) {
                auto events = api.list(core_path("events", specs[i].ns), "", events_selector(run.job));
                if (events) {
                    if (auto problem = creation_problem(**job, *events)) {
                        run.problem = std::move(problem);
                        continue;
                    }
                }
            }
            if (done && finished_pod == nullptr) {
                run.error =
                    fmt::format("Job {}/{} finished without a Pod to read ({})", specs[i].ns, run.job,
                                condition_true(**job, "Failed") ? "failed: its deadline passed or its Pod "
                                                                  "was removed"
                                                                : "complete");
                continue;
            }
            if (finished_pod == nullptr) {
                pending = true;
                continue;
            }
            run.pod = text(child(*finished_pod, "metadata"), "name");
            auto log =
                api.pod_log(specs[i].ns, run.pod, std::string(df::k_probe_container), df::k_probe_log_limit);
            if (!log) {
                run.error = log.error().message;
                continue;
            }
            run.log = std::move(*log);
            run.finished = true;
        }
        if (!pending) {
            break;
        }
        if (clock.now() >= deadline) {
            for (auto& run : runs) {
                if (!run.finished && !run.problem && run.error.empty()) {
                    run.error = fmt::format("Job {}/{} did not finish within {}s", ns, run.job,
                                            std::chrono::duration_cast<std::chrono::seconds>(
                                                longest + std::chrono::seconds(df::k_verify_job_slack))
                                                .count());
                }
            }
            break;
        }
        clock.sleep(pause);
        pause = std::min<std::chrono::milliseconds>(pause * 2, df::k_demo_poll_max);
    }
    if (!options.keep) {
        for (std::size_t i = 0; i < runs.size(); ++i) {
            // Background: the garbage collector removes the Pods too (a Job's default would orphan them).
            auto removed = api.remove_propagating(jobs_path(specs[i].ns, runs[i].job), "Background");
            if (!removed && runs[i].error.empty()) {
                runs[i].error = removed.error().with_context("deleting Job " + runs[i].job).message;
            }
        }
    }
    return runs;
}

} // namespace meshlink::plugin::demo
