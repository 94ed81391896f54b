#pragma once
// Can GRUB write its environment block? It can only on a plain partition with a non-checksumming
// filesystem: on md RAID or LVM (and btrfs/ZFS) GRUB cannot clear next_entry at boot, so a "one-shot" boot
// becomes a permanent switch to the new kernel and a failed kernel never falls back. Told from the host's
// mount table (<proc>/1/mountinfo) and the block device in sysfs.

#include "probe/host.hpp"

#include <string>
#include <string_view>

namespace meshlink::agent::kernel {

struct BootDevice {
    enum class Kind { plain, md_raid, lvm, device_mapper, checksumming_fs, unknown };
    Kind kind = Kind::unknown;
    std::string mount_point; // the host mount holding the file ("/boot")
    std::string source;      // its device ("/dev/sda1")
    std::string fstype;
    std::string evidence; // how the kind was decided, or why unknown

    // True only for `plain`: everything else blocks the unattended one-shot boot.
    [[nodiscard]] bool grub_can_write() const { return kind == Kind::plain; }
};

// "plain", "md-raid", "lvm", "device-mapper", "checksumming-filesystem", "unknown".
std::string_view to_string(BootDevice::Kind kind);

// The device under `host_path` (a path as the host sees it, e.g. the grubenv's real location).
BootDevice read_boot_device(const probe::Host& files, std::string_view host_path);

} // namespace meshlink::agent::kernel
