#include "util/files.hpp"

#include "util/fd.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

namespace meshlink::util {
namespace {

std::string errno_text(int err) {
    return std::strerror(err);
}

void sync_directory(const std::filesystem::path& dir) {
    // The rename or unlink is durable only once the directory is.
    if (Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); fd) {
        ::fsync(fd.get());
    }
}

Result<> make_parents(const std::filesystem::path& path) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
        return fail(ErrorKind::io, "create directory " + path.parent_path().string() + ": " + ec.message());
    }
    return {};
}

bool same_content(const std::filesystem::path& path, std::string_view content) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        return false;
    }
    std::string current;
    char buffer[8192];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n == 0 && current == content;
        }
        current.append(buffer, static_cast<std::size_t>(n));
        if (current.size() > content.size()) {
            return false;
        }
    }
}

} // namespace

Result<> write_file_atomically(const std::filesystem::path& path, std::string_view content, mode_t mode) {
    if (same_content(path, content)) {
        return {};
    }
    if (auto made = make_parents(path); !made) {
        return made;
    }
    struct stat info {};
    if (::lstat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
        mode = info.st_mode & 07777;
    }
    std::string temp = path.string() + ".meshlink-XXXXXX";
    Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (!fd) {
        return fail(ErrorKind::io,
                    "create a temporary file next to " + path.string() + ": " + errno_text(errno));
    }
    auto abandon = [&](std::string message) {
        ::unlink(temp.c_str());
        return fail(ErrorKind::io, std::move(message));
    };
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return abandon("write " + temp + ": " + errno_text(errno));
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd.get(), mode) != 0) {
        return abandon("chmod " + temp + ": " + errno_text(errno));
    }
    if (::fsync(fd.get()) != 0) {
        return abandon("fsync " + temp + ": " + errno_text(errno));
    }
    if (::close(fd.release()) != 0) {
        return abandon("close " + temp + ": " + errno_text(errno));
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        return abandon("rename " + temp + " to " + path.string() + ": " + errno_text(errno));
    }
    sync_directory(path.parent_path());
    return {};
}

Result<> remove_file_durably(const std::filesystem::path& path) {
    if (::unlink(path.c_str()) != 0) {
        if (errno == ENOENT) {
            return {};
        }
        return fail(ErrorKind::io, "remove " + path.string() + ": " + errno_text(errno));
    }
    sync_directory(path.parent_path());
    return {};
}

Result<> write_symlink_atomically(const std::filesystem::path& link, const std::filesystem::path& target) {
    std::error_code ec;
    if (std::filesystem::is_symlink(link, ec) && std::filesystem::read_symlink(link, ec) == target) {
        return {};
    }
    if (auto made = make_parents(link); !made) {
        return made;
    }
    const std::string temp = link.string() + ".meshlink-new";
    ::unlink(temp.c_str());
    if (::symlink(target.c_str(), temp.c_str()) != 0) {
        return fail(ErrorKind::io, "create symlink " + temp + ": " + errno_text(errno));
    }
    if (::rename(temp.c_str(), link.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return fail(ErrorKind::io, "rename " + temp + " to " + link.string() + ": " + errno_text(err));
    }
    sync_directory(link.parent_path());
    return {};
}

Result<Fd> memory_file(std::string_view data) {
    Fd fd(::memfd_create("meshlink-memory", MFD_CLOEXEC));
    if (!fd) {
        const char* tmp = std::getenv("TMPDIR");
        const std::string dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
        fd = Fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600));
        if (!fd) {
            return fail(ErrorKind::io,
                        fmt::format("no memfd and no unnamed file in {} to hold data in memory: {}", dir,
                                    std::strerror(errno)));
        }
    }
    std::string_view rest = data;
    while (!rest.empty()) {
        const ssize_t n = ::write(fd.get(), rest.data(), rest.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return fail(ErrorKind::io, fmt::format("writing an in-memory file: {}", std::strerror(errno)));
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) {
        return fail(ErrorKind::io, fmt::format("rewinding an in-memory file: {}", std::strerror(errno)));
    }
    return fd;
}

} // namespace meshlink::util
