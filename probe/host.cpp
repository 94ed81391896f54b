#include "probe/host.hpp"

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
std::filesystem::path Host::mount_table() const {
    return mountinfo.empty() ? in_proc("1/mountinfo") : mountinfo;
}

std::string path_error(const std::filesystem::path& path, int err) {
    return path.string() + ": " + std::strerror(err);
}

std::string file_error(const std::filesystem::path& path, const util::FileError& error) {
    return path.string() + ": " + error.reason();
}

FileText read_text(const std::filesystem::path& path, std::size_t limit) {
    FileText result;
    auto text = util::read_file(path, {.regular_only = true, .limit = limit});
    if (!text) {
        result.error = file_error(path, text.error());
        return result;
    }
    result.text = std::move(*text);
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
