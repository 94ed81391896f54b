#include "probe/host.hpp"

#include "util/fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace meshlink::probe {
namespace {

std::filesystem::path join(const std::filesystem::path& base, std::string_view tail) {
    while (!tail.empty() && tail.front() == '/') {
        tail.remove_prefix(1);
    }
    return tail.empty() ? base : base / std::filesystem::path(tail);
}

} // namespace

std::filesystem::path Host::in_root(std::string_view absolute) const {
    return join(root, absolute);
}
std::filesystem::path Host::in_proc(std::string_view relative) const {
    return join(proc, relative);
}
std::filesystem::path Host::in_sys(std::string_view relative) const {
    return join(sys, relative);
}

std::string path_error(const std::filesystem::path& path, int err) {
    return path.string() + ": " + std::strerror(err);
}

FileText read_text(const std::filesystem::path& path, std::size_t limit) {
    FileText result;
    // O_NONBLOCK: opening a FIFO planted where a file belongs must not hang the probe.
    util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) {
        result.error = path_error(path, errno);
        return result;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        result.error = path_error(path, errno);
        return result;
    }
    if (S_ISDIR(st.st_mode)) {
        result.error = path_error(path, EISDIR);
        return result;
    }
    if (!S_ISREG(st.st_mode)) {
        result.error = path.string() + ": not a regular file";
        return result;
    }
    std::string text;
    // procfs and sysfs files report size 0, so read until EOF rather than trusting st_size.
    char buffer[16384];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            result.error = path_error(path, errno);
            return result;
        }
        if (n == 0) {
            break;
        }
        if (text.size() + static_cast<std::size_t>(n) > limit) {
            result.error = path.string() + ": larger than " + std::to_string(limit) + " bytes";
            return result;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    result.text = std::move(text);
    return result;
}

std::string_view trim(std::string_view text) {
    const auto is_space = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    };
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

} // namespace meshlink::probe
