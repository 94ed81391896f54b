#include "util/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace meshlink::util {

ErrorKind FileError::kind() const {
    return step == Step::open && number == ENOENT ? ErrorKind::not_found : ErrorKind::io;
}

std::string FileError::reason() const {
    switch (step) {
    case Step::not_regular:
        return number != 0 ? std::strerror(number) : "not a regular file";
    case Step::too_large:
        return "larger than " + std::to_string(limit) + " bytes";
    case Step::open:
    case Step::stat:
    case Step::read:
        break;
    }
    return std::strerror(number);
}

FileResult<Fd> open_for_reading(const std::filesystem::path& path, const ReadFileOptions& options) {
    const int flags = O_RDONLY | O_CLOEXEC | (options.regular_only ? O_NONBLOCK | O_NOCTTY : 0);
    Fd fd(::open(path.c_str(), flags));
    if (!fd) {
        return FileError{FileError::Step::open, errno};
    }
    if (options.regular_only) {
        struct stat info {};
        if (::fstat(fd.get(), &info) != 0) {
            return FileError{FileError::Step::stat, errno};
        }
        if (!S_ISREG(info.st_mode)) {
            return FileError{FileError::Step::not_regular, S_ISDIR(info.st_mode) ? EISDIR : 0};
        }
    }
    return fd;
}

FileResult<std::string> read_file(const std::filesystem::path& path, const ReadFileOptions& options) {
    auto fd = open_for_reading(path, options);
    if (!fd) {
        return fd.error();
    }
    std::string text;
    if (struct stat info{}; ::fstat(fd->get(), &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0) {
        text.reserve(std::min(static_cast<std::size_t>(info.st_size), options.limit));
    }
    char buffer[65536];
    for (;;) {
        const ssize_t got = ::read(fd->get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return FileError{FileError::Step::read, errno};
        }
        if (got == 0) {
            return text;
        }
        if (static_cast<std::size_t>(got) > options.limit - text.size()) {
            return FileError{FileError::Step::too_large, 0, options.limit};
        }
        text.append(buffer, static_cast<std::size_t>(got));
    }
}

} // namespace meshlink::util
