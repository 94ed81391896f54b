#pragma once
// The journal: what join did in one cluster, so that a re-run resumes and `leave` undoes exactly that.
//
// ConfigMap kube-system/meshlink-journal, data key "journal.json" (README "Join journal"):
//   {"format": 1, "cluster": "<cilium cluster-name>",
//    "peers":   {"<peer>": {"state": "joining|joined", "context": "...", "steps": {"expose": "done", ...},
//                           "updated": "<RFC 3339>"}},
//    "changes": [{"id": "...", "action": "...", "state": "pending|applied", "peers": ["<peer>", ...],
//                 "detail": {...}}]}
// A change is written "pending" before the object changes and "applied" once verified (write-ahead), so a
// run killed in between is finished by the next one and undone by leave. `peers` counts who needs a change:
// leave PEER drops PEER and undoes a change only when no peer is left. Nothing secret is in the ConfigMap:
// values meshlink replaced and may need back (a previous cilium-ca, a previous per-peer key) are copied into
// Secret kube-system/meshlink-journal-secrets, which a change's "backup" names; written values are
// identified by their SHA-256 only.

#include "plugin/mesh/api.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

inline constexpr int k_journal_format = 1;

// What a change is; each kind is one row of the table in changes.cpp (its name in the journal's JSON:
// "create", "secret-key", "host-alias", "replace-secret", "node-port", "cilium-cli", "helm", "kubeconfig").
enum class Action {
    create,         // an object meshlink created (Service, EndpointSlice, Secret)
    secret_key,     // one data key of a Secret
    host_alias,     // one hostAliases entry (ip, hostname) of a pod template
    replace_secret, // a whole Secret's content replaced (a copied cilium-ca)
    node_port,      // the clustermesh-apiserver Service moved to another NodePort
    cilium_cli,     // `cilium clustermesh enable|connect`
    helm,           // a `helm upgrade` of Cilium's release with some values
    kubeconfig,     // entries merged into the user's kubeconfig
    unknown,        // a name this meshlink does not know (a newer one wrote it): kept, never undone
};

struct Change {
    Change() = default;
    Change(std::string id_, Action action_, std::string state_, std::set<std::string> peers_, json detail_)
        : id(std::move(id_)), action(action_), state(std::move(state_)), peers(std::move(peers_)),
          detail(std::move(detail_)) {}

    std::string id; // stable: "service/meshlink-apiserver", "secret-key/cilium-clustermesh/cluster2", ...
    Action action = Action::unknown;
    std::string state = "pending";
    std::set<std::string> peers;
    json detail = json::object();
    std::string unknown_action; // for Action::unknown: the name as read, written back unchanged
    // Why the entry as read is not one meshlink writes (changes.hpp invalid_change); "" for a valid one. A
    // rejected entry is reported, written back exactly as read (`raw`), and never acted on.
    std::string rejected;
    json raw;
};

struct PeerRecord {
    std::string state; // joining | joined
    std::string context;
    std::map<std::string, std::string> steps; // step -> done
    std::string updated;
};

struct JournalDoc {
    std::string cluster;
    std::map<std::string, PeerRecord> peers;
    std::vector<Change> changes;
    // Peer records that are not meshlink's (a name that is no cluster name, a value that is no record): kept
    // as read, never used.
    json rejected_peers = json::object();
};

json to_json(const JournalDoc& doc);
// Reads a stored journal. A document that is not a journal fails; an entry that is not one meshlink writes
// is kept, marked rejected.
util::Result<JournalDoc> journal_from_json(const json& document);

// Three-way merge for a journal written concurrently: what `ours` changed since `base` (entries and peer
// records added, changed or removed) applied to `theirs`; everything else as `theirs` has it.
JournalDoc merge_journals(const JournalDoc& base, const JournalDoc& ours, const JournalDoc& theirs);

// One cluster's journal, shared by the threads working on that cluster.
class Journal {
public:
    Journal(MeshApi& api, std::string ns, bool dry_run)
        : m_api(&api), m_ns(std::move(ns)), m_dry_run(dry_run) {}

    // Reads the ConfigMap (absent: an empty journal for `cluster`).
    util::Result<void> load(const std::string& cluster);
    [[nodiscard]] bool exists() const;

    // A copy of the document, for reading (rejected entries left out).
    [[nodiscard]] JournalDoc snapshot() const;
    // The entries that failed validation when the journal was read, for reporting; the peer records too.
    [[nodiscard]] std::vector<Change> rejected() const;
    [[nodiscard]] std::vector<std::string> rejected_peers() const;
    // A valid change recorded under `id`.
    [[nodiscard]] std::optional<Change> find(const std::string& id) const;

    // Adds `change` as pending, or adds its peers to the change already recorded under its id (keeping that
    // change's state and detail unless `refresh_detail`). Returns whether the stored change was applied.
    bool intend(const Change& change, bool refresh_detail = false);
    void mark_applied(const std::string& id);
    void set_step(const std::string& peer, const std::string& step, const std::string& context);
    void set_peer_state(const std::string& peer, const std::string& state);
    [[nodiscard]] bool step_done(const std::string& peer, const std::string& step) const;
    // Drops `peer` from every change and the peer record; returns the changes no peer needs any more
    // (newest first, the order to undo them in). They stay in the journal until forget() is called.
    std::vector<Change> release_peer(const std::string& peer);
    void forget(const std::string& id);
    void forget_peer(const std::string& peer);

    // Writes the ConfigMap when it changed (create, or update with its resourceVersion). A conflict (another
    // writer, or an earlier attempt of this write whose answer was lost) re-reads the stored journal and
    // merges this run's edits into it (merge_journals), so other writers' entries are kept. An empty journal
    // deletes the ConfigMap and the backup Secret.
    util::Result<void> flush();

    // Keeps secret material in the backup Secret: data[<key>] = value (base64 done here).
    util::Result<void> backup(const std::map<std::string, std::string>& values);
    // Reads backed-up values; nullopt for keys that are not there.
    util::Result<std::map<std::string, std::string>> restore(const std::vector<std::string>& keys);
    // Removes keys from the backup Secret.
    util::Result<void> drop_backup(const std::vector<std::string>& keys);

private:
    MeshApi* m_api;
    std::string m_ns;
    bool m_dry_run;
    mutable std::mutex m_mutex;
    JournalDoc m_doc;
    JournalDoc m_base;              // the journal as last read or written: what this run's edits started from
    std::string m_resource_version; // "" = not stored
    bool m_dirty = false;
};

// Lower-case hex SHA-256, for identifying values without keeping them.
std::string sha256_hex(std::string_view data);

} // namespace meshlink::plugin::mesh
