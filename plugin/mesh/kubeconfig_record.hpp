#pragma once
// What join wrote into the user's kubeconfig, recorded on the operator's machine, next to the file it wrote
// (`<file>.meshlink.json`, mode 0600, beside the kubeconfig's backups) and never in a cluster: a cluster
// must not learn the operator's home path, and nothing a cluster says may choose which local file leave
// edits or allow join to overwrite an entry. Each entry is needed by the joined pairs of clusters that
// include its cluster; leave releases one pair and removes the entries no pair needs any more.
//
//   {"format": 1, "entries": [{"name": "cluster2", "server": "https://...", "state": "pending|applied",
//                              "pairs": ["cluster1,cluster2"]}],
//    "originalSha256": "<the file before join first wrote it>", "original": "<the backup holding that>",
//    "writtenSha256": "<the file as join last wrote it>"}
// When leave releases the last entry and the file is still exactly as join last wrote it, the original is
// put back byte for byte (a file the user changed since is edited entry by entry instead).

#include "util/error.hpp"

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::plugin::mesh {

struct RecordedEntries {
    std::string name;   // of the cluster, user and context join wrote
    std::string server; // the server it wrote
    std::string state = "pending";
    std::set<std::string> pairs; // pair_key() of every joined pair that needs them
};

// The key of a joined pair, the same whichever side names it: "cluster1,cluster2".
std::string pair_key(const std::string& a, const std::string& b);

class KubeconfigRecord {
public:
    // The record of `kubeconfig` (absent: an empty record). A record that cannot be read fails, naming it.
    static util::Result<KubeconfigRecord> load(const std::filesystem::path& kubeconfig);
    static std::filesystem::path path_for(const std::filesystem::path& kubeconfig);

    [[nodiscard]] const std::filesystem::path& kubeconfig() const { return m_kubeconfig; }
    [[nodiscard]] std::optional<RecordedEntries> find(const std::string& name) const;
    [[nodiscard]] bool empty() const { return m_entries.empty(); }

    // Adds (pending) or updates the entries `name`, adding `pairs` to those already recorded.
    void intend(const std::string& name, const std::string& server, const std::set<std::string>& pairs);
    void mark_applied(const std::string& name);
    void forget(const std::string& name);
    // Drops `pair` from every entry; returns the entries no pair needs any more (still recorded until
    // forget()).
    std::vector<RecordedEntries> release(const std::string& pair);

    // Before each write join makes: remembers, once, what the kubeconfig held before join first wrote it (its
    // digest; read only that once, nothing for a file that does not exist yet), so the backup holding it can
    // be found however the run ends (kill -9 included). Save the record before writing.
    void before_write();
    // After a write: `written` is the file's content now, `backups` the file's backups (newest first).
    void wrote(std::string_view written, const std::vector<std::filesystem::path>& backups);
    // The original to put back when every entry is released and the file is still `current` as join left it;
    // nullopt otherwise.
    [[nodiscard]] std::optional<std::filesystem::path> restorable(std::string_view current) const;

    // Writes the record atomically (0600) when it changed since it was loaded or saved; an empty record
    // removes the file.
    util::Result<void> save();

private:
    explicit KubeconfigRecord(std::filesystem::path kubeconfig) : m_kubeconfig(std::move(kubeconfig)) {}
    std::filesystem::path m_kubeconfig;
    std::vector<RecordedEntries> m_entries;
    std::string m_original_sha256; // of the file before join first wrote it
    std::string m_original;        // the backup holding that
    std::string m_written_sha256;  // of the file as join last wrote it
    bool m_dirty = false;
};

} // namespace meshlink::plugin::mesh
