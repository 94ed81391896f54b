#pragma once
// How tests script what kubelet would do (tests/fakekube/README.md, "Scripting pods and nodes"): annotations
// on a Pod (or on a workload's pod template, from which every Pod inherits them) and on a Node. The control
// endpoints under /fakekube/v1/ write the same annotations, so a scripted object reads back through the API
// like any other.

#include "tests/fakekube/http.hpp"

#include <optional>
#include <string>

namespace meshlink::fakekube::script {

inline constexpr const char* k_prefix = "fakekube.meshlink.io/";
// "false": the Pod runs but is not Ready (its containers not ready); a Node is NotReady.
inline constexpr const char* k_ready = "fakekube.meshlink.io/ready";
// Exit code of every container ("0", "3"), or of one with the suffix ".<container>". A Pod whose
// restartPolicy is Never or OnFailure exits 0 when nothing is scripted; one with Always runs until deleted
// unless scripted.
inline constexpr const char* k_exit_code = "fakekube.meshlink.io/exit-code";
// Log text of the only container, or of one with the suffix ".<container>", served by pods/log.
inline constexpr const char* k_log = "fakekube.meshlink.io/log";
// Exec: a table of commands (JSON, see exec_rule), else the same output for any command.
inline constexpr const char* k_exec = "fakekube.meshlink.io/exec";
inline constexpr const char* k_exec_stdout = "fakekube.meshlink.io/exec-stdout";
inline constexpr const char* k_exec_stderr = "fakekube.meshlink.io/exec-stderr";
inline constexpr const char* k_exec_exit = "fakekube.meshlink.io/exec-exit";
// The image of every container, or of one with the suffix ".<container>", cannot be pulled: the container
// waits with reason ErrImagePull (the value is kubelet's message; empty = a containerd-style "not found"
// naming the image), then ImagePullBackOff, and never starts.
inline constexpr const char* k_image_pull_error = "fakekube.meshlink.io/image-pull-error";

// The annotation `key` for `container`: the ".<container>" form wins over the plain one.
std::optional<std::string> for_container(const json& object, const std::string& key,
                                         const std::string& container);

// The scripted exit code of `container`, or nullopt when it keeps running.
std::optional<int> exit_code(const json& pod, const std::string& container);

// Whether the object is scripted not ready.
bool not_ready(const json& object);

// The scripted ErrImagePull message for `container` (its image is `image`), or nullopt when it pulls.
std::optional<std::string> image_pull_error(const json& pod, const std::string& container,
                                            const std::string& image);

// A pod rule (POST /fakekube/v1/pod-rules): annotations added to every Pod created later (by a client or a
// controller) that matches, the way a mutating admission webhook would add them. This is how a test scripts
// the Pods the code under test creates (a verify Job's log, an image that cannot be pulled). Empty fields
// match everything.
struct PodRule {
    std::string ns;       // the Pod's namespace
    std::string selector; // a label selector on the Pod
    std::string image;    // some container's image, exactly
    json annotations = json::object();
};

} // namespace meshlink::fakekube::script
