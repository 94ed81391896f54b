#pragma once
// Writing kubeconfig files without ever losing one (README "Kubeconfig rules"):
//  - kubectl's lock: `<file>.lock` created with O_CREAT|O_EXCL (client-go tools/clientcmd), so kubectl,
//    kind, eksctl and meshlink exclude each other; unlike kubectl, meshlink retries until a timeout;
//  - atomic replacement: a temporary file in the same directory, fsync, rename, fsync of the directory;
//    an existing file keeps its mode and owner, a new one is created 0600;
//  - a timestamped backup of the previous content, the newest few kept.

#include "kube/kubeconfig.hpp"
#include "util/error.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::kube {

inline constexpr std::chrono::seconds k_default_lock_timeout{10};
inline constexpr std::size_t k_kubeconfig_backups_kept = 5;

// Holds `<file>.lock`; removes it when destroyed or released. While held, SIGINT, SIGTERM, SIGHUP and
// SIGQUIT are deferred (delivered on release), so an interrupted write cannot leave a stale lock behind.
class KubeconfigLock {
public:
    // Takes the lock for `file`, creating missing parent directories (0755) as client-go does. A held lock
    // is retried until `timeout` (zero: a single attempt, like kubectl); then the error (ErrorKind::timeout)
    // names the lock file, its age and how to remove it if it is stale.
    static util::Result<KubeconfigLock> acquire(const std::filesystem::path& file,
                                                std::chrono::nanoseconds timeout);

    KubeconfigLock(KubeconfigLock&& other) noexcept;
    KubeconfigLock& operator=(KubeconfigLock&& other) noexcept;
    KubeconfigLock(const KubeconfigLock&) = delete;
    KubeconfigLock& operator=(const KubeconfigLock&) = delete;
    ~KubeconfigLock();

    [[nodiscard]] const std::filesystem::path& lock_path() const { return m_lock_path; }
    void release() noexcept;

private:
    explicit KubeconfigLock(std::filesystem::path lock_path);
    std::filesystem::path m_lock_path; // empty when released or moved from
};

// The lock file client-go uses for `file`: the path as given plus ".lock".
std::filesystem::path kubeconfig_lock_path(const std::filesystem::path& file);

struct KubeconfigWrite {
    std::filesystem::path path;                  // the file written (a symlink's target)
    std::optional<std::filesystem::path> backup; // the previous content, when there was one
    bool created = false;                        // the file did not exist
    bool unchanged = false;                      // same bytes as before: nothing was written
};

// Replaces `file` with `content` atomically. The caller holds the file's lock. A symlink is followed (the
// link stays); an existing file keeps mode and owner; a new file is 0600 in directories created 0755.
// Before replacing, the old content is kept as `<file>.meshlink-<UTC timestamp>.bak` (a copy, mode 0600, the
// file's owner, whatever the file's mode) and backups beyond the newest k_kubeconfig_backups_kept are
// removed (the kept ones made 0600). Temporary files a killed
// earlier run left behind are removed. Identical content writes nothing. On any error the file is untouched.
util::Result<KubeconfigWrite> write_kubeconfig_atomically(const std::filesystem::path& file,
                                                          std::string_view content);

// The backups of `file`, newest first.
std::vector<std::filesystem::path> kubeconfig_backups(const std::filesystem::path& file);

// Computes a file's new text from its current content (nullopt: the file does not exist); returns nullopt
// to write nothing.
using KubeconfigChange =
    std::function<util::Result<std::optional<std::string>>(const std::optional<KubeconfigFile>& current)>;

// Lock, read, change, write: takes the lock (waiting up to `lock_timeout`), reads and validates the file
// under it, calls `change`, and writes the result atomically; the lock is released on return. Errors of
// `change` are returned unchanged and leave the file untouched.
util::Result<KubeconfigWrite> modify_kubeconfig_file(const std::filesystem::path& file,
                                                     std::chrono::nanoseconds lock_timeout,
                                                     const KubeconfigChange& change);

} // namespace meshlink::kube
