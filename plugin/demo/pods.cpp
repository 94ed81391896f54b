#include "plugin/demo/pods.hpp"

#include "plugin/demo/images.hpp"
#include "plugin/mesh/api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace meshlink::plugin::demo {
namespace {

using mesh::child;
using mesh::text;

constexpr std::array<std::string_view, 4> k_image_reasons = {"ErrImagePull", "ImagePullBackOff",
                                                             "InvalidImageName", "ErrImageNeverPull"};
constexpr std::array<std::string_view, 4> k_other_reasons = {
    "CreateContainerConfigError", "CreateContainerError", "CrashLoopBackOff", "RunContainerError"};

bool one_of(std::string_view reason, const auto& reasons) {
    return std::find(reasons.begin(), reasons.end(), reason) != reasons.end();
}

} // namespace

std::string one_line(std::string_view input, std::size_t limit) {
    std::string out;
    bool space = false;
    for (std::size_t i = 0; i < input.size(); ++i) {
        const auto c = static_cast<unsigned char>(input[i]);
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            space = !out.empty();
            continue;
        }
        if (c < 0x20 || c == 0x7f) {
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += static_cast<char>(c);
        if (out.size() >= limit) {
            out += "...";
            break;
        }
    }
    return out;
}

std::optional<PodProblem> pod_problem(const json& pod) {
    const std::string name = text(child(pod, "metadata"), "name");
    const json& spec = child(pod, "spec");
    const json& status = child(pod, "status");
    for (const char* list : {"initContainerStatuses", "containerStatuses"}) {
        const json& statuses = child(status, list);
        if (!statuses.is_array()) {
            continue;
        }
        for (const auto& container : statuses) {
            const json& waiting = child(child(container, "state"), "waiting");
            const std::string reason = text(waiting, "reason");
            const bool image = one_of(reason, k_image_reasons);
            if (!image && !one_of(reason, k_other_reasons)) {
                continue;
            }
            PodProblem problem;
            problem.pod = name;
            problem.container = one_line(text(container, "name"), 63);
            problem.image = one_line(text(container, "image"), 300);
            // The image as the Pod asked for it: kubelet may report a normalised one.
            for (const auto& c :
                 child(spec, "containers").is_array() ? child(spec, "containers") : json::array()) {
                if (text(c, "name") == text(container, "name") && !text(c, "image").empty()) {
                    problem.image = one_line(text(c, "image"), 300);
                }
            }
            problem.reason = reason;
            problem.message = one_line(text(waiting, "message"));
            problem.image_pull = image;
            return problem;
        }
    }
    const json& conditions = child(status, "conditions");
    if (conditions.is_array()) {
        for (const auto& condition : conditions) {
            if (text(condition, "type") == "PodScheduled" && text(condition, "status") == "False" &&
                text(condition, "reason") == "Unschedulable") {
                PodProblem problem;
                problem.pod = name;
                problem.reason = "Unschedulable";
                problem.message = one_line(text(condition, "message"));
                return problem;
            }
        }
    }
    return std::nullopt;
}

std::optional<PodProblem> creation_problem(const json& workload, const std::vector<json>& events) {
    const json& conditions = child(child(workload, "status"), "conditions");
    if (conditions.is_array()) {
        for (const auto& condition : conditions) {
            if (text(condition, "type") == "ReplicaFailure" && text(condition, "status") == "True") {
                PodProblem problem;
                problem.reason =
                    text(condition, "reason").empty() ? "ReplicaFailure" : text(condition, "reason");
                problem.message = one_line(text(condition, "message"));
                return problem;
            }
        }
    }
    for (const auto& event : events) {
        if (text(event, "reason") == "FailedCreate" && text(event, "type") == "Warning") {
            PodProblem problem;
            problem.reason = "FailedCreate";
            problem.message = one_line(text(event, "message"));
            return problem;
        }
    }
    return std::nullopt;
}

std::string describe(const std::string& cluster, const PodProblem& problem) {
    if (problem.image_pull) {
        return fmt::format("{}: image {} of pod {} (container {}) cannot be pulled: {}{}{}\n  -> {}", cluster,
                           problem.image, problem.pod, problem.container, problem.reason,
                           problem.message.empty() ? "" : ": ", problem.message, pull_hint(problem.image));
    }
    if (problem.reason == "FailedCreate" || problem.reason == "ReplicaFailure") {
        return fmt::format(
            "{}: the Pods were refused when created (an admission policy or webhook): {}\n  -> "
            "the message names the policy; let the namespace's Pods through it (the demo's "
            "images run as root: Pod Security baseline; the verify Job meets restricted), then "
            "run the command again",
            cluster, problem.message);
    }
    if (problem.reason == "Unschedulable") {
        return fmt::format(
            "{}: pod {} cannot be scheduled: {}\n  -> free or add capacity on a Ready node, or "
            "remove the taint that keeps it away",
            cluster, problem.pod, problem.message);
    }
    return fmt::format("{}: container {} of pod {} does not start: {}{}{}", cluster, problem.container,
                       problem.pod, problem.reason, problem.message.empty() ? "" : ": ", problem.message);
}

} // namespace meshlink::plugin::demo
