#include "kube/kubeconfig_write.hpp"

#include "util/duration.hpp"
#include "util/fd.hpp"
#include "util/file.hpp"
#include "util/time.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <thread>

namespace meshlink::kube {
namespace fs = std::filesystem;
namespace {

std::string errno_text(int error) {
    return std::strerror(error);
}

// Signals deferred while a lock is held: the ones a user or a service manager sends to stop us.
sigset_t deferred_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    return set;
}

// Lock holders in this thread; signals are restored when the last one is released.
thread_local int t_locks_held = 0;
thread_local sigset_t t_saved_mask;

void defer_signals() {
    if (t_locks_held++ == 0) {
        const sigset_t set = deferred_signals();
        pthread_sigmask(SIG_BLOCK, &set, &t_saved_mask);
    }
}

void restore_signals() {
    if (t_locks_held > 0 && --t_locks_held == 0) {
        pthread_sigmask(SIG_SETMASK, &t_saved_mask, nullptr);
    }
}

// mkdir -p with mode 0755 (client-go's MkdirAll(dir, 0755)).
util::Result<> make_directories(const fs::path& dir) {
    if (dir.empty()) {
        return {};
    }
    std::error_code ec;
    if (fs::is_directory(dir, ec)) {
        return {};
    }
    if (dir.has_parent_path() && dir.parent_path() != dir) {
        if (auto parent = make_directories(dir.parent_path()); !parent) {
            return parent;
        }
    }
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        return util::fail(util::ErrorKind::io, "create directory " + dir.string() + ": " + errno_text(errno));
    }
    return {};
}

util::Result<> write_all(int fd, std::string_view data, const fs::path& name) {
    while (!data.empty()) {
        const ssize_t written = ::write(fd, data.data(), data.size());
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written < 0) {
            return util::fail(util::ErrorKind::io, "write " + name.string() + ": " + errno_text(errno));
        }
        data.remove_prefix(static_cast<std::size_t>(written));
    }
    return {};
}

util::Result<std::string> read_all(const fs::path& path) {
    auto text = util::read_file(path);
    if (!text) {
        const bool opening = text.error().step == util::FileError::Step::open;
        return util::fail(text.error().kind(),
                          (opening ? "open " : "read ") + path.string() + ": " + text.error().reason());
    }
    return std::move(*text);
}

std::string backup_prefix(const fs::path& file) {
    return file.filename().string() + ".meshlink-";
}
std::string temp_prefix(const fs::path& file) {
    return file.filename().string() + ".meshlink-tmp-";
}

// Keeps the old content under a backup name: always a copy created 0600 with the file's owner. (A hard link
// would keep the old mode: a backup of a 0644 file stayed world-readable after `chmod 600` of the file.)
util::Result<fs::path> make_backup(const fs::path& file, const std::string& old_content,
                                   const struct stat& info) {
    for (int attempt = 0; attempt < 100; ++attempt) {
        const fs::path backup =
            file.parent_path() /
            (backup_prefix(file) + util::format_compact_utc(std::chrono::system_clock::now()) + ".bak");
        util::Fd fd(::open(backup.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!fd) {
            if (errno == EEXIST) {
                continue;
            }
            return util::fail(util::ErrorKind::io,
                              "create backup " + backup.string() + ": " + errno_text(errno));
        }
        // The umask may have taken bits away, never added: 0600 exactly.
        auto written =
            ::fchmod(fd.get(), 0600) == 0
                ? write_all(fd.get(), old_content, backup)
                : util::fail(util::ErrorKind::io, "chmod " + backup.string() + ": " + errno_text(errno));
        if (written && (info.st_uid != ::geteuid() || info.st_gid != ::getegid()) &&
            ::fchown(fd.get(), info.st_uid, info.st_gid) != 0) {
            written = util::fail(util::ErrorKind::io, "keep owner " + std::to_string(info.st_uid) + ":" +
                                                          std::to_string(info.st_gid) + " of " +
                                                          backup.string() + ": " + errno_text(errno));
        }
        if (written && ::fsync(fd.get()) != 0) {
            written = util::fail(util::ErrorKind::io, "fsync " + backup.string() + ": " + errno_text(errno));
        }
        if (!written) {
            ::unlink(backup.c_str());
            return std::unexpected(written.error());
        }
        return backup;
    }
    return util::fail(util::ErrorKind::io,
                      "create backup of " + file.string() + ": too many backups in the same instant");
}

// Removes backups beyond the newest few and makes the kept ones 0600: earlier versions linked backups to
// the old file, so they kept its mode. A backup with other links is left alone (chmod would change them).
void prune_backups(const fs::path& file) {
    auto backups = kubeconfig_backups(file);
    for (std::size_t i = 0; i < backups.size(); ++i) {
        if (i >= k_kubeconfig_backups_kept) {
            std::error_code ec;
            fs::remove(backups[i], ec);
            continue;
        }
        struct stat info {};
        if (::lstat(backups[i].c_str(), &info) == 0 && S_ISREG(info.st_mode) && info.st_nlink == 1 &&
            (info.st_mode & 0077) != 0) {
            ::chmod(backups[i].c_str(), info.st_mode & 0700);
        }
    }
}

// Only the lock holder writes temporary files, so any left while we hold the lock are from a killed run.
void remove_stale_temporaries(const fs::path& file) {
    std::error_code ec;
    const std::string prefix = temp_prefix(file);
    for (const auto& entry : fs::directory_iterator(file.parent_path(), ec)) {
        if (entry.path().filename().string().starts_with(prefix)) {
            std::error_code ignored;
            fs::remove(entry.path(), ignored);
        }
    }
}

// Removes the temporary file unless it was renamed into place.
struct TempGuard {
    fs::path path;
    bool keep = false;
    ~TempGuard() {
        if (!keep && !path.empty()) {
            ::unlink(path.c_str());
        }
    }
};

} // namespace

fs::path kubeconfig_lock_path(const fs::path& file) {
    return fs::path(file.string() + ".lock");
}

// --- Lock

KubeconfigLock::KubeconfigLock(fs::path lock_path) : m_lock_path(std::move(lock_path)) {}

KubeconfigLock::KubeconfigLock(KubeconfigLock&& other) noexcept : m_lock_path(std::move(other.m_lock_path)) {
    other.m_lock_path.clear();
}

KubeconfigLock& KubeconfigLock::operator=(KubeconfigLock&& other) noexcept {
    if (this != &other) {
        release();
        m_lock_path = std::move(other.m_lock_path);
        other.m_lock_path.clear();
    }
    return *this;
}

KubeconfigLock::~KubeconfigLock() {
    release();
}

void KubeconfigLock::release() noexcept {
    if (m_lock_path.empty()) {
        return;
    }
    ::unlink(m_lock_path.c_str());
    m_lock_path.clear();
    restore_signals();
}

util::Result<KubeconfigLock> KubeconfigLock::acquire(const fs::path& file, std::chrono::nanoseconds timeout) {
    const fs::path lock = kubeconfig_lock_path(file);
    if (auto made = make_directories(lock.parent_path()); !made) {
        return std::unexpected(made.error().with_context("lock " + file.string()));
    }
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + timeout;
    auto pause = std::chrono::milliseconds(20);
    for (;;) {
        defer_signals();
        // Mode 0 and O_EXCL exactly like client-go: the file's existence is the lock.
        util::Fd fd(::open(lock.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
        const int error = errno;
        if (fd) {
            return KubeconfigLock(lock);
        }
        restore_signals();
        if (error != EEXIST) {
            std::string message =
                "cannot lock " + file.string() + ": create " + lock.string() + ": " + errno_text(error);
            if (error == EACCES || error == EROFS) {
                message +=
                    " (kubectl needs the same lock: make " + lock.parent_path().string() + " writable)";
            }
            return util::fail(util::ErrorKind::io, message);
        }
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            struct stat info {};
            if (::stat(lock.c_str(), &info) != 0) {
                continue; // released just now: try again
            }
            const auto created = std::chrono::system_clock::from_time_t(info.st_mtim.tv_sec);
            const auto age =
                std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - created);
            return util::fail(
                util::ErrorKind::timeout,
                "kubeconfig " + file.string() + " is locked: " + lock.string() + " exists (created " +
                    util::format_duration(std::max(age, std::chrono::seconds(0))) + " ago; waited " +
                    util::format_duration(
                        std::chrono::duration_cast<std::chrono::milliseconds>(now - start)) +
                    "). Another kubectl, meshlink or similar tool is writing this file, or one was killed "
                    "and left its lock behind. If no such process is running, remove the stale lock: rm " +
                    lock.string());
        }
        std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(pause, deadline - now));
        pause = std::min(pause * 2, std::chrono::milliseconds(250));
    }
}

// --- Atomic write

std::vector<fs::path> kubeconfig_backups(const fs::path& file) {
    std::vector<fs::path> backups;
    std::error_code ec;
    fs::path target = file;
    if (fs::is_symlink(file, ec)) {
        target = fs::weakly_canonical(file, ec);
    }
    const std::string prefix = backup_prefix(target);
    const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with(prefix) && name.ends_with(".bak") && !name.starts_with(temp_prefix(target))) {
            backups.push_back(entry.path());
        }
    }
    std::sort(backups.begin(), backups.end(), [](const fs::path& a, const fs::path& b) { return a > b; });
    return backups;
}

util::Result<KubeconfigWrite> write_kubeconfig_atomically(const fs::path& file, std::string_view content) {
    KubeconfigWrite result;
    std::error_code ec;
    fs::path target = fs::absolute(file, ec);
    if (fs::is_symlink(target, ec)) {
        // Dotfile managers link ~/.kube/config: replace the file it points to, keep the link.
        target = fs::weakly_canonical(target, ec);
        if (ec) {
            return util::fail(util::ErrorKind::io, "resolve symlink " + file.string() + ": " + ec.message());
        }
    }
    result.path = target;

    struct stat info {};
    std::string old_content;
    if (::stat(target.c_str(), &info) == 0) {
        if (!S_ISREG(info.st_mode)) {
            return util::fail(util::ErrorKind::io, "write " + target.string() + ": not a regular file");
        }
        auto old = read_all(target);
        if (!old) {
            return std::unexpected(old.error());
        }
        old_content = std::move(*old);
        if (old_content == content) {
            result.unchanged = true;
            return result;
        }
    } else if (errno == ENOENT) {
        result.created = true;
        if (auto made = make_directories(target.parent_path()); !made) {
            return std::unexpected(made.error());
        }
    } else {
        return util::fail(util::ErrorKind::io, "stat " + target.string() + ": " + errno_text(errno));
    }

    remove_stale_temporaries(target);
    std::string temp_name = (target.parent_path() / (temp_prefix(target) + "XXXXXX")).string();
    util::Fd fd(::mkostemp(temp_name.data(), O_CLOEXEC)); // created 0600
    if (!fd) {
        return util::fail(util::ErrorKind::io, "create temporary file in " + target.parent_path().string() +
                                                   ": " + errno_text(errno));
    }
    TempGuard guard{temp_name};
    if (auto written = write_all(fd.get(), content, temp_name); !written) {
        return std::unexpected(written.error());
    }
    if (!result.created) {
        if (::fchmod(fd.get(), info.st_mode & 07777) != 0) {
            return util::fail(util::ErrorKind::io, "chmod " + temp_name + ": " + errno_text(errno));
        }
        if ((info.st_uid != ::geteuid() || info.st_gid != ::getegid()) &&
            ::fchown(fd.get(), info.st_uid, info.st_gid) != 0) {
            return util::fail(util::ErrorKind::io, "keep owner " + std::to_string(info.st_uid) + ":" +
                                                       std::to_string(info.st_gid) + " of " +
                                                       target.string() + ": " + errno_text(errno) +
                                                       " (run as that user)");
        }
    }
    if (::fsync(fd.get()) != 0) {
        return util::fail(util::ErrorKind::io, "fsync " + temp_name + ": " + errno_text(errno));
    }
    if (::close(fd.release()) != 0) {
        return util::fail(util::ErrorKind::io, "close " + temp_name + ": " + errno_text(errno));
    }
    if (!result.created) {
        auto backup = make_backup(target, old_content, info);
        if (!backup) {
            return std::unexpected(backup.error());
        }
        result.backup = *backup;
    }
    if (::rename(temp_name.c_str(), target.c_str()) != 0) {
        return util::fail(util::ErrorKind::io,
                          "rename " + temp_name + " to " + target.string() + ": " + errno_text(errno));
    }
    guard.keep = true;
    // The rename is durable only once the directory is.
    if (util::Fd dir(::open(target.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); dir) {
        ::fsync(dir.get());
    }
    prune_backups(target);
    return result;
}

util::Result<KubeconfigWrite> modify_kubeconfig_file(const fs::path& file,
                                                     std::chrono::nanoseconds lock_timeout,
                                                     const KubeconfigChange& change) {
    auto lock = KubeconfigLock::acquire(file, lock_timeout);
    if (!lock) {
        return std::unexpected(lock.error());
    }
    std::optional<KubeconfigFile> current;
    if (auto read = read_kubeconfig_file(file); read) {
        current = std::move(*read);
    } else if (read.error().kind != util::ErrorKind::not_found) {
        return std::unexpected(read.error());
    }
    auto text = change(current);
    if (!text) {
        return std::unexpected(text.error());
    }
    if (!*text) {
        KubeconfigWrite result;
        result.path = file;
        result.unchanged = true;
        return result;
    }
    return write_kubeconfig_atomically(file, **text);
}

} // namespace meshlink::kube
