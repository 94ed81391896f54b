#include "probe/mounts.hpp"

namespace meshlink::probe {
namespace {

// Undoes the kernel's octal escaping of space, tab, newline and backslash in mount paths.
std::string unescape(std::string_view field) {
    std::string out;
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size()) {
            const char a = field[i + 1], b = field[i + 2], c = field[i + 3];
            if (a >= '0' && a <= '3' && b >= '0' && b <= '7' && c >= '0' && c <= '7') {
                out += static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (c - '0'));
                i += 3;
                continue;
            }
        }
        out += field[i];
    }
    return out;
}

std::vector<std::string_view> split_spaces(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t pos = 0;
    while (pos < line.size()) {
        while (pos < line.size() && line[pos] == ' ') {
            ++pos;
        }
        const std::size_t start = pos;
        while (pos < line.size() && line[pos] != ' ') {
            ++pos;
        }
        if (pos > start) {
            fields.push_back(line.substr(start, pos - start));
        }
    }
    return fields;
}

} // namespace

std::vector<MountEntry> parse_mountinfo(std::string_view text) {
    std::vector<MountEntry> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t end = text.find('\n', pos);
        const std::string_view line =
            text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        pos = end == std::string_view::npos ? text.size() : end + 1;
        // id parent major:minor root mount-point options [optional...] - fstype source super-options
        const auto fields = split_spaces(line);
        if (fields.size() < 7) {
            continue;
        }
        std::size_t dash = 6;
        while (dash < fields.size() && fields[dash] != "-") {
            ++dash;
        }
        if (dash + 1 >= fields.size()) {
            continue;
        }
        out.push_back({unescape(fields[4]), std::string(fields[dash + 1])});
    }
    return out;
}

MountFacts read_mounts(const Host& host) {
    MountFacts facts;
    FileText filesystems = read_text(host.in_proc("filesystems"), 64 * 1024);
    if (filesystems.text) {
        bool found = false;
        std::size_t pos = 0;
        const std::string_view text = *filesystems.text;
        while (pos < text.size()) {
            const std::size_t end = text.find('\n', pos);
            const std::string_view line =
                text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
            pos = end == std::string_view::npos ? text.size() : end + 1;
            // "nodev\tcgroup2" or "\text4": the name is the last tab-separated field.
            const std::size_t tab = line.rfind('\t');
            found = found || trim(tab == std::string_view::npos ? line : line.substr(tab + 1)) == "cgroup2";
        }
        facts.cgroup2_supported = found;
    }

    const auto path = host.mount_table();
    FileText file = read_text(path, 4u << 20);
    if (!file.text) {
        facts.error = file.error;
        return facts;
    }
    facts.source = path.string();
    facts.bpffs = false;
    facts.cgroup2 = false;
    for (auto& entry : parse_mountinfo(*file.text)) {
        if (entry.fs_type == "bpf") {
            if (entry.mount_point == "/sys/fs/bpf") {
                facts.bpffs = true;
            }
            facts.bpffs_mounts.push_back(entry.mount_point);
        } else if (entry.fs_type == "cgroup2") {
            facts.cgroup2 = true;
            facts.cgroup2_mounts.push_back(entry.mount_point);
        }
    }
    return facts;
}

} // namespace meshlink::probe
