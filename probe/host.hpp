#pragma once
// Where the node's files are. The probe never opens an absolute host path itself: every read goes through a
// Host, so the DaemonSet can mount the host under /host and tests can point it at a fixture tree.
//
// This header and the parsers that include it are also compiled by clang for the libFuzzer target, so it
// must stay free of <expected> (clang cannot use libstdc++ 12's) and of C++23-only library calls.

#include "util/file.hpp"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace meshlink::probe {

struct Host {
    std::filesystem::path root = "/";     // holds the host's /boot, /etc, /lib/modules, /usr/lib/modules
    std::filesystem::path proc = "/proc"; // the host's procfs (the running kernel)
    std::filesystem::path sys = "/sys";   // the host's sysfs
    // The host's mount table (its init process's mountinfo); empty: <proc>/1/mountinfo. The DaemonSet
    // mounts only this file of the host's procfs, so the agent never sees the host's processes.
    std::filesystem::path mountinfo;

    // "<root>/etc/os-release" for "/etc/os-release"; `absolute` is a path as seen on the host.
    [[nodiscard]] std::filesystem::path in_root(std::string_view absolute) const;
    // "<proc>/sys/kernel/osrelease" for "sys/kernel/osrelease".
    [[nodiscard]] std::filesystem::path in_proc(std::string_view relative) const;
    // "<sys>/kernel/btf/vmlinux" for "kernel/btf/vmlinux".
    [[nodiscard]] std::filesystem::path in_sys(std::string_view relative) const;
    // `mountinfo`, or "<proc>/1/mountinfo" when it is empty.
    [[nodiscard]] std::filesystem::path mount_table() const;
};

// The content of a small file, or why it could not be read ("<path>: Permission denied").
struct FileText {
    std::optional<std::string> text;
    std::string error;
};

// Reads a whole regular file of at most `limit` bytes. Directories, FIFOs and larger files are errors,
// so a bad mount or a hostile fixture can neither block nor exhaust the agent.
FileText read_text(const std::filesystem::path& path, std::size_t limit = std::size_t{1} << 20);

// "<path>: <strerror(err)>".
std::string path_error(const std::filesystem::path& path, int err);
// "<path>: <why>", as read_text words it.
std::string file_error(const std::filesystem::path& path, const util::FileError& error);

// `text` without leading and trailing ASCII whitespace.
std::string_view trim(std::string_view text);

} // namespace meshlink::probe
