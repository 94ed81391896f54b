#include "node-agent/kernel/boot_device.hpp"

#include "node-agent/kernel/boot_loader.hpp"

#include <system_error>

namespace meshlink::agent::kernel {
namespace {

namespace fs = std::filesystem;

// mountinfo escapes space, tab, newline and backslash as octal (\040).
std::string unescape(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 3 < text.size()) {
            const auto digits = text.substr(i + 1, 3);
            if (digits.size() == 3 && digits.find_first_not_of("01234567") == std::string_view::npos) {
                out += static_cast<char>(((digits[0] - '0') << 6) | ((digits[1] - '0') << 3) |
                                         (digits[2] - '0'));
                i += 3;
                continue;
            }
        }
        out += text[i];
    }
    return out;
}

bool under(std::string_view path, std::string_view mount) {
    if (mount == "/") {
        return true;
    }
    return path.substr(0, mount.size()) == mount &&
           (path.size() == mount.size() || path[mount.size()] == '/');
}

bool path_exists(const fs::path& path) {
    std::error_code ec;
    return fs::exists(path, ec);
}

void classify_block_device(const probe::Host& files, const std::string& dev, BootDevice& device) {
    const auto node = files.in_sys("dev/block/" + dev);
    if (!path_exists(node)) {
        device.evidence = node.string() + " absent: cannot tell the device's kind";
        if (device.source.rfind("/dev/md", 0) == 0) {
            device.kind = BootDevice::Kind::md_raid;
            device.evidence += "; the device name says md RAID";
        } else if (device.source.rfind("/dev/mapper/", 0) == 0 || device.source.rfind("/dev/dm-", 0) == 0) {
            device.kind = BootDevice::Kind::device_mapper;
            device.evidence += "; the device name says device-mapper";
        }
        return;
    }
    std::error_code ec;
    const fs::path real = fs::canonical(node, ec);
    std::vector<fs::path> candidates{node};
    if (!ec && path_exists(node / "partition")) {
        candidates.push_back(real.parent_path()); // a partition of an md array or a disk
    }
    for (const auto& candidate : candidates) {
        if (path_exists(candidate / "md")) {
            device.kind = BootDevice::Kind::md_raid;
            device.evidence = (candidate / "md").string() + " exists: md RAID";
            return;
        }
        if (auto uuid = probe::read_text(candidate / "dm" / "uuid", 4096); uuid.text) {
            const auto value = probe::trim(*uuid.text);
            device.kind =
                value.rfind("LVM-", 0) == 0 ? BootDevice::Kind::lvm : BootDevice::Kind::device_mapper;
            device.evidence = (candidate / "dm" / "uuid").string() + " = " + std::string(value);
            return;
        }
    }
    device.kind = BootDevice::Kind::plain;
    device.evidence = node.string() + ": neither md RAID nor device-mapper";
}

} // namespace

std::string_view to_string(BootDevice::Kind kind) {
    switch (kind) {
    case BootDevice::Kind::plain:
        return "plain";
    case BootDevice::Kind::md_raid:
        return "md-raid";
    case BootDevice::Kind::lvm:
        return "lvm";
    case BootDevice::Kind::device_mapper:
        return "device-mapper";
    case BootDevice::Kind::checksumming_fs:
        return "checksumming-filesystem";
    case BootDevice::Kind::unknown:
        return "unknown";
    }
    return "unknown";
}

BootDevice read_boot_device(const probe::Host& files, std::string_view host_path) {
    BootDevice device;
    const auto mountinfo = files.in_proc("1/mountinfo");
    auto text = probe::read_text(mountinfo, 4 * 1024 * 1024);
    if (!text.text) {
        device.evidence = text.error + " (the host's mount table is needed to find /boot's device)";
        return device;
    }
    std::string dev;
    std::size_t pos = 0;
    const std::string_view all = *text.text;
    while (pos < all.size()) {
        std::size_t end = all.find('\n', pos);
        if (end == std::string_view::npos) {
            end = all.size();
        }
        const auto words = split_words(all.substr(pos, end - pos));
        pos = end + 1;
        // id parent major:minor root mount-point options [optional...] - fstype source super-options
        std::size_t dash = 6;
        while (dash < words.size() && words[dash] != "-") {
            ++dash;
        }
        if (words.size() < 5 || dash + 2 >= words.size()) {
            continue;
        }
        const std::string mount = unescape(words[4]);
        if (under(host_path, mount) && mount.size() >= device.mount_point.size()) {
            device.mount_point = mount; // later lines win: they are mounted over earlier ones
            dev = words[2];
            device.fstype = words[dash + 1];
            device.source = unescape(words[dash + 2]);
        }
    }
    if (device.mount_point.empty()) {
        device.evidence = mountinfo.string() + ": no mount holds " + std::string(host_path);
        return device;
    }
    if (device.fstype == "btrfs" || device.fstype == "zfs") {
        device.kind = BootDevice::Kind::checksumming_fs;
        device.evidence =
            device.mount_point + " is " + device.fstype + ", where GRUB cannot write its environment";
        return device;
    }
    classify_block_device(files, dev, device);
    return device;
}

} // namespace meshlink::agent::kernel
