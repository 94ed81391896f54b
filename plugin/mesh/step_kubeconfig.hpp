#pragma once
// Step 3 of join, kubeconfig: every cluster's entries (cluster, user, context) copied from the ones that
// reach it (Cluster::source) under its Cilium cluster name, pointing at the API server step 2 exposed, and
// merged into the user's kubeconfig by the kubeconfig library (kubectl's lock, atomic write, backup). The
// entries are recorded on this machine, next to the file they went to (kubeconfig_record.hpp), so leave can
// remove them; never in a cluster.

#include "kube/kubeconfig.hpp"
#include "plugin/mesh/kubeconfig_record.hpp"
#include "plugin/mesh/session.hpp"
#include "util/error.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

// What step 3 does for one cluster, and why (said on stderr, and in the plan of a dry run).
enum class EntryChoice {
    write,      // entries named after the Cilium cluster, with the exposed server
    keep_named, // a context named after the Cilium cluster already reaches it: the user's, kept
    keep_given, // the context join was given reaches it at an address peers can reach: nothing to add
};
struct EntryDecision {
    EntryChoice choice = EntryChoice::write;
    std::filesystem::path file; // keep_*: the file holding the kept context
    std::string why;            // one sentence, for messages
};

// Decides for `cluster` (its source, Cilium name and exposed server known) against the user's kubeconfig
// (`config`, every KUBECONFIG file): entries this machine's record says an earlier join wrote (`recorded`)
// stay join's and are written again; a context named after the Cilium cluster that reaches the same cluster
// is kept; the context join was given is enough when it comes from the user's kubeconfig and its server is
// reachable beyond this machine (not loopback, link-local or cluster-internal) or is the exposed server
// itself; otherwise (the peer came from --peer-kubeconfig, or its server is reachable from this machine only)
// the entries are written.
EntryDecision decide_entries(const kube::Kubeconfig& config, const Cluster& cluster, bool recorded);

// Merges every cluster's entries, retried on transient errors.
util::Result<void> step_kubeconfig(Session& session, std::vector<Cluster*>& clusters);

// Removes the cluster, user and context named `name` from `file` (locked, atomic, backup): leave's undo of
// step 3. Entries that are not there are fine.
util::Result<void> remove_kubeconfig_entries(const std::filesystem::path& file, const std::string& name);

// Puts `original` (the backup join's first write made) back as `file`, byte for byte, when under the file's
// lock `file` is still exactly as `record` says join left it; false (nothing written) when it is not.
util::Result<bool> restore_kubeconfig(const KubeconfigRecord& record, const std::filesystem::path& original);

} // namespace meshlink::plugin::mesh
