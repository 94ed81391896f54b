#pragma once
// How the node boots, for a later kernel upgrade: firmware (BIOS or UEFI), Secure Boot, free space on
// /boot, and the default boot entry (GRUB's saved_entry, BLS entries).

#include "probe/host.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::probe {

struct BootFacts {
    std::optional<std::string> firmware;          // "uefi" or "bios"; nullopt when sysfs cannot tell
    std::optional<bool> secure_boot;              // nullopt when efivars are not readable
    std::optional<std::uint64_t> boot_free_bytes; // free space for unprivileged writers on <root>/boot
    std::string grubenv;                          // the grubenv file read; empty when none
    std::optional<std::string> saved_entry;       // grubenv saved_entry
    std::optional<bool> bls; // GRUB_ENABLE_BLSCFG=true in /etc/default/grub, or BLS entries exist
    std::vector<std::string> bls_entries; // entry ids under /boot/loader/entries (file names without .conf)
    std::optional<std::string> default_kernel; // the kernel of the saved entry, when a BLS entry names it
    std::vector<std::string> errors;           // what could not be read, one line each
};

BootFacts read_boot(const Host& host);

// Parses grubenv ("# GRUB Environment Block" + key=value lines padded with '#'): the value of `key`.
std::optional<std::string> grubenv_value(std::string_view text, std::string_view key);

} // namespace meshlink::probe
