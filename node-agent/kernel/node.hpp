#pragma once
// What the upgrade reads from the node before changing anything: the EL release, the running kernel and
// boot, Secure Boot, the boot menu, GRUB's environment block and defaults, and where that block lives.
// Everything is data from the node, validated before use (README "Kernel upgrade on a node").

#include "node-agent/kernel/boot_device.hpp"
#include "node-agent/kernel/boot_loader.hpp"
#include "node-agent/kernel/host.hpp"
#include "probe/boot.hpp"
#include "probe/kernel_release.hpp"
#include "probe/os_release.hpp"

#include <map>
#include <optional>
#include <string>

namespace meshlink::agent::kernel {

struct GrubEnv {
    std::string file;                          // host path ("/boot/grub2/grubenv")
    std::map<std::string, std::string> values; // as `grub2-editenv FILE list` prints them
    std::string error;                         // why it could not be read; empty when it was
};

struct NodeState {
    probe::OsRelease os;
    std::optional<int> el; // 7, 8, 9, 10; nullopt when not Enterprise Linux (el_error says why)
    std::string el_error;
    probe::KernelRelease running;
    std::string boot_id; // <proc>/sys/kernel/random/boot_id
    std::string cmdline; // <proc>/cmdline
    probe::SecureBootState secure_boot;
    std::optional<std::uint64_t> boot_free_bytes;
    BootLoader loader;
    GrubEnv grubenv;
    BootDevice grubenv_device;               // the device holding the grubenv's real file
    std::optional<std::string> grub_default; // GRUB_DEFAULT in /etc/default/grub
    std::string grub_default_error;
};

// The EL major version from os-release: PLATFORM_ID "platform:elN", else VERSION_ID of a RHEL-like ID. Fedora
// and non-RHEL distributions are not Enterprise Linux.
std::optional<int> el_release(const probe::OsRelease& os, std::string* why);

// Reads the node. Only a missing tool or scratch failure is an error; every unreadable fact is recorded.
util::Result<NodeState> read_node(Host& host);

// `grub2-editenv FILE list` of the node's grubenv.
GrubEnv read_grubenv(Host& host, const std::string& file);

// The value of one environment variable, or "".
std::string env_value(const GrubEnv& env, const std::string& key);

} // namespace meshlink::agent::kernel
