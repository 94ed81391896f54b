#pragma once
// What join, leave and status run with: the options, and the session the steps share (progress on stderr,
// confirmations, the dry-run plan), plus how a step runs: retried on transient errors, and concurrently on
// every cluster where the clusters' work is independent.

#include "kube/kubeconfig.hpp"
#include "plugin/defaults.hpp"
#include "plugin/mesh/api.hpp"
#include "plugin/mesh/model.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

// The options of join, leave and status (one struct: the three share the session and the steps' code). What a
// verb does not use keeps its default.
struct JoinOptions {
    // Every verb.
    bool dry_run = false;     // join, leave: plan only, write nothing
    bool yes = false;         // answer every confirmation
    bool interactive = false; // stdin and stderr are a terminal: ask
    std::string ns{defaults::k_cilium_namespace};
    std::string kubectl{defaults::k_kubectl}; // $KUBECTL_PATH, else kubectl on PATH
    // The user's kubeconfig files (client-go's loading rules): step 3 merges into the one kubectl writes new
    // entries to.
    kube::LoadingRules kubeconfig_rules;
    // join.
    Backend backend = Backend::automatic;
    std::string service_type = "NodePort"; // NodePort | LoadBalancer (clustermesh-apiserver, when enabled)
    bool skip_preflight = false;
    std::chrono::milliseconds timeout = defaults::k_join_timeout; // step 7
    std::chrono::milliseconds poll = defaults::k_join_poll_interval;
    // leave.
    bool keep_kubeconfig = false;
};

// One thing a dry run would do.
struct PlannedAction {
    std::string cluster;
    std::string step;
    std::string summary;              // "create Service kube-system/meshlink-apiserver"
    std::optional<json> object;       // the object or patch, Secret data redacted
    std::vector<std::string> command; // a command, secret arguments redacted
};

class Session {
public:
    Session(JoinOptions options, MeshHost& host, std::function<void(const std::string&)> progress,
            std::function<bool(const std::string&)> confirm)
        : m_options(std::move(options)), m_host(&host), m_progress(std::move(progress)),
          m_confirm(std::move(confirm)) {}

    [[nodiscard]] const JoinOptions& options() const { return m_options; }
    [[nodiscard]] MeshHost& host() const { return *m_host; }
    [[nodiscard]] bool dry_run() const { return m_options.dry_run; }

    // One progress line on stderr ("join: ..."), serialised across threads.
    void say(const std::string& line);
    // A warning about `cluster` the user sees even when progress lines are off (status without -v).
    void warn(const std::string& cluster, const std::string& message);
    // Asks before something disruptive: --yes answers yes; a terminal asks; otherwise no.
    bool confirm(const std::string& question);

    void plan(PlannedAction action);
    [[nodiscard]] std::vector<PlannedAction> planned() const;

private:
    JoinOptions m_options;
    MeshHost* m_host;
    std::function<void(const std::string&)> m_progress;
    std::function<bool(const std::string&)> m_confirm;
    mutable std::mutex m_mutex;
    std::vector<PlannedAction> m_planned;
};

// Whether a failed attempt of a step is worth another one (transient() unless a step says otherwise).
using RetryClassifier = std::function<bool(const util::Error&)>;

// Runs `step` until it succeeds, fails for good (`retryable` says no), or fails defaults::k_step_attempts
// times in a row, waiting between attempts with exponential backoff; each attempt is a full check -> apply ->
// verify, so repeating it is safe. Every retry of join, leave and status goes through here.
util::Result<void> with_retries(Session& session, const std::string& what,
                                const std::function<util::Result<void>()>& step,
                                const RetryClassifier& retryable = transient);

// Runs fn(i) for i in [0, n) on n threads and returns the first error (all run to completion).
util::Result<void> for_each_parallel(std::size_t n, const std::function<util::Result<void>(std::size_t)>& fn);

// Runs `step` on every cluster concurrently, each with its own retries (with_retries, labelled "<cluster>:
// <what>" by its Cilium name, or its context before step 1 read the name), and returns the first error.
util::Result<void> for_each_cluster(Session& session, std::vector<Cluster*>& clusters,
                                    const std::string& what,
                                    const std::function<util::Result<void>(Cluster&)>& step);

// A JSON copy of `object` with Secret data replaced by "<redacted>" (keys kept), for plans and logs.
json redact_object(const json& object);

} // namespace meshlink::plugin::mesh
