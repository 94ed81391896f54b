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

// Secure Boot as mokutil decides it (SecureBoot, SetupMode and shim's MokSBStateRT EFI variables), with the
// evidence: what a kernel upgrade must know before it boots an unsigned kernel.
struct SecureBootState {
    enum class Mode {
        bios,                // no UEFI: Secure Boot does not exist
        disabled,            // SecureBoot=0
        setup_mode,          // SetupMode=1: the firmware does not enforce signatures
        validation_disabled, // SecureBoot=1, but shim's validation is off (mokutil --disable-validation)
        enabled,             // SecureBoot=1: only signed kernels boot
        unknown,             // UEFI, but the variables cannot be read
    };
    Mode mode = Mode::unknown;
    std::string evidence; // "SecureBoot=1, SetupMode=0" or why unknown
};

// "bios", "disabled", "setup-mode", "validation-disabled", "enabled", "unknown".
std::string_view to_string(SecureBootState::Mode mode);

SecureBootState read_secure_boot(const Host& host);

// The value of a shell-style KEY=value line (quotes removed; the last assignment wins, as in the shell), as
// /etc/default/grub and /etc/sysconfig files hold them.
std::optional<std::string> shell_assignment(std::string_view text, std::string_view key);

// Parses grubenv ("# GRUB Environment Block" + key=value lines padded with '#'): the value of `key`.
std::optional<std::string> grubenv_value(std::string_view text, std::string_view key);

} // namespace meshlink::probe
