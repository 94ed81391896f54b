#pragma once
// The BPF filesystem and cgroup v2, from the mount table of the host's init process (<proc>/1/mountinfo:
// with hostPID that is the host's view, not the agent container's).

#include "probe/host.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::probe {

struct MountEntry {
    std::string mount_point; // octal escapes (\040) decoded
    std::string fs_type;
};

// Parses /proc/<pid>/mountinfo (proc(5)); malformed lines are skipped.
std::vector<MountEntry> parse_mountinfo(std::string_view text);

struct MountFacts {
    std::string source; // the mountinfo file read; empty when unreadable
    std::string error;
    std::optional<bool> bpffs;             // bpf mounted at /sys/fs/bpf
    std::vector<std::string> bpffs_mounts; // every mount point of type bpf
    std::optional<bool> cgroup2;           // some cgroup2 mount exists
    std::vector<std::string> cgroup2_mounts;
    std::optional<bool> cgroup2_supported; // "cgroup2" listed in <proc>/filesystems
};

MountFacts read_mounts(const Host& host);

} // namespace meshlink::probe
