#pragma once
// Why Pods of the demo or of a verify Job do not run, read from what kubelet and the controllers report, so a
// wait ends early with the cause instead of a timeout: an image that cannot be pulled, an admission policy
// that rejected the Pods, a Pod that cannot be scheduled, a container that cannot start.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::plugin::demo {

using nlohmann::json;

struct PodProblem {
    std::string pod;
    std::string container;
    std::string image;
    std::string reason;  // ErrImagePull, ImagePullBackOff, FailedCreate, Unschedulable, ...
    std::string message; // kubelet's or the controller's, made printable
    bool image_pull = false;
};

// The first container of `pod` that waits for a reason that will not fix itself (image pulls, invalid image
// names, config errors, crash loops), or an unschedulable Pod.
std::optional<PodProblem> pod_problem(const json& pod);

// The Pods of a workload were refused at creation: a Deployment's or ReplicaSet's ReplicaFailure condition,
// or a FailedCreate event (Jobs). The message names the policy or webhook that refused them.
std::optional<PodProblem> creation_problem(const json& workload, const std::vector<json>& events);

// "cluster1: image docker.io/nginx:1.27.1 of pod x (container c) cannot be pulled: ErrImagePull: <message>",
// followed by what to do.
std::string describe(const std::string& cluster, const PodProblem& problem);

// Untrusted text (kubelet messages, logs, annotations) as one printable line of at most `limit` characters:
// control characters (escape sequences included) dropped, whitespace runs collapsed.
std::string one_line(std::string_view text, std::size_t limit = 300);

} // namespace meshlink::plugin::demo
