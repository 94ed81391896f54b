#pragma once
// Short-lived Jobs that run a script in a cluster and hand back what it printed: `demo verify`'s client
// (client.sh) and `verify`'s per-node TCP probes (plugin/verify/tcp_probe.sh). Results come back through the
// pod log API (plain REST; no exec), a Pod that cannot run is reported with its cause as soon as kubelet says
// so (an image that cannot be pulled, an admission rejection), and the Jobs are deleted with
// propagationPolicy=Background so no Pod is left behind (a TTL removes them should meshlink die first).

#include "plugin/demo/api.hpp"
#include "plugin/demo/pods.hpp"
#include "plugin/mesh/api.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace meshlink::plugin::demo {

struct JobSpec {
    std::string ns;
    std::string role;                          // meshlink.io/role
    std::map<std::string, std::string> labels; // more labels on the Job and its Pod
    std::string image;
    std::string script; // run as `sh -c <script>`
    std::vector<std::pair<std::string, std::string>> env;
    std::optional<std::string> node; // spec.nodeName: run there, past the scheduler
    bool host_network = false;
    bool tolerate_everything = false;
    std::vector<std::string> pull_secrets;
    std::chrono::seconds deadline{300}; // activeDeadlineSeconds
};

// The batch/v1 Job for `spec` (generateName meshlink-verify-). Its Pod meets Pod Security `restricted` unless
// it runs on the host network: non-root, no privilege escalation, every capability dropped, read-only root
// filesystem with an emptyDir at /tmp, no service account token.
json job_object(const JobSpec& spec);

struct JobRun {
    std::string job; // its name
    std::string pod;
    bool finished = false;             // the Job completed or failed, and its log was read
    std::string log;                   // the container's log (the cluster's data: parse, never trust)
    std::optional<PodProblem> problem; // why its Pod does not run
    std::string error;                 // anything else that went wrong (deadline, API)
};

struct JobOptions {
    bool keep = false; // leave the Jobs for inspection
    mesh::MeshHost* clock = nullptr;
    std::function<void(const std::string&)> progress;
};

// Creates one Job per spec in the cluster behind `api`, waits until each is done (its deadline plus the
// verify slack at most), reads each Pod's log, and deletes the Jobs unless `keep`. An API failure while
// creating is an error; everything after is reported per Job.
util::Result<std::vector<JobRun>> run_jobs(DemoApi& api, const std::vector<JobSpec>& specs,
                                           const JobOptions& options);

} // namespace meshlink::plugin::demo
