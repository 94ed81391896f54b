#pragma once
// `kubectl meshlink kubeconfig merge` as a library (join uses it too): adds the clusters, users and contexts
// of kubeconfig files to a target file without changing the meaning of anything already there.
//
//  - Identical entries (same meaning once relative paths are resolved) are skipped; a name that exists with
//    other content is a conflict: refused (listing every one), renamed with a "-2", "-3"... suffix, or
//    overwritten, by choice.
//  - Relative certificate/key/tokenFile paths and path-like exec commands become absolute against the file
//    that defined them; --flatten inlines certificates and keys. Everything else is carried verbatim.
//  - The target is written under kubectl's lock, atomically, with a backup (kube/kubeconfig_write.hpp).

#include "kube/kubeconfig.hpp"
#include "kube/kubeconfig_write.hpp"
#include "plugin/kubeconfig/entries.hpp"
#include "util/error.hpp"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::kubeconfig {

enum class ConflictPolicy { refuse, rename, overwrite };

struct MergeOptions {
    std::optional<std::string> as_name; // the single input context, its cluster and user all get this name
    ConflictPolicy on_conflict = ConflictPolicy::refuse;
    std::optional<std::string> server; // replaces the merged cluster's server (one cluster only)
    std::optional<std::string>
        tls_server_name;      // sets the merged cluster's tls-server-name (one cluster only)
    bool set_current = false; // current-context becomes the merged context
    bool flatten = false;     // inline certificate files as *-data
};

enum class MergeAction {
    add,       // new name
    identical, // the name exists with the same meaning: nothing to do
    rename,    // added under a new name because the input's name was taken (--rename-on-conflict)
    overwrite, // replaced an entry with other content (--overwrite)
};

struct MergeChange {
    EntryKind kind = EntryKind::cluster;
    std::string name;       // in the target
    std::string input_name; // in the input
    std::string source;     // "file:line" of the input entry
    MergeAction action = MergeAction::add;
};

// An entry a plan adds or replaces, as it will be written.
struct WrittenEntry {
    EntryKind kind = EntryKind::cluster;
    std::string name;
    YAML::Node inner;
};

struct MergePlan {
    YAML::Node document;                // the target's complete new content
    std::vector<WrittenEntry> written;  // the entries added or replaced (for --dry-run)
    std::vector<MergeChange> changes;   // one per merged input entry, in input order
    std::string current_context_before; // in the target file
    std::string current_context_after;
    bool preferences_adopted = false; // the target had none; the first input's were taken
    std::vector<std::string> extensions_added;

    // True when the target's content changes.
    [[nodiscard]] bool changes_file() const;
};

// Plans merging `inputs` (validated files, in order) into `target` (nullopt: it does not exist yet; then
// `target_path` names it). `others` are the other files kubectl reads along with the target ($KUBECONFIG):
// their names count as taken, like the target's. A refused conflict fails with ErrorKind::conflict naming
// every conflicting entry on both sides; a referenced certificate file that is missing fails with the
// input's file and line. Reads nothing but referenced certificate files; writes nothing. With `memory_of`
// (the yaml-cpp memory the inputs were read into), the plan's documents are built there too, which keeps
// large merges from copying node sets between memories (yaml::make_node_like).
util::Result<MergePlan> plan_merge(const std::optional<kube::KubeconfigFile>& target,
                                   const std::filesystem::path& target_path,
                                   const std::vector<kube::KubeconfigFile>& others,
                                   const std::vector<kube::KubeconfigFile>& inputs,
                                   const MergeOptions& options, const YAML::Node* memory_of = nullptr);

struct MergeRequest {
    std::vector<std::filesystem::path> inputs;
    std::optional<std::filesystem::path> into; // else kubectl's file for new entries (LoadingRules)
    kube::LoadingRules rules;
    MergeOptions options;
    std::chrono::nanoseconds lock_timeout = kube::k_default_lock_timeout;
    bool dry_run = false;
};

struct MergeResult {
    std::filesystem::path target;
    MergePlan plan;
    std::optional<kube::KubeconfigWrite> write; // absent for a dry run
};

// Reads and validates every input first; then takes the target's lock, re-reads the target under it, plans,
// and writes atomically with a backup. A dry run plans against the current target without locking or
// writing. On any error the target is untouched.
util::Result<MergeResult> run_merge(const MergeRequest& request);

// The entries a plan adds or replaces as kubeconfig YAML, for --dry-run: credentials redacted unless `raw`.
std::string dry_run_yaml(const MergePlan& plan, bool raw);

// The target kubectl writes new entries to, or `into` when given.
std::filesystem::path merge_target(const kube::LoadingRules& rules,
                                   const std::optional<std::filesystem::path>& into);

} // namespace meshlink::plugin::kubeconfig
