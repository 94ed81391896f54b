#pragma once
// The boot menu as GRUB on EL builds it: Boot Loader Specification entries (/boot/loader/entries/*.conf,
// EL8 and later) or the menuentry blocks of a static grub.cfg (EL7), and the edits the upgrade makes to
// them: trial-only kernel arguments on one entry, removed again on confirm or rollback.

#include "probe/host.hpp"
#include "util/error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::agent::kernel {

struct BootEntry {
    // What GRUB's saved_entry/next_entry name: a BLS entry's file name without ".conf" (GRUB's menu id), or
    // an EL7 menuentry's title (what grub2-set-default takes).
    std::string id;
    std::string title;
    std::string kernel;  // the release of its vmlinuz ("7.1.9-1.el9.elrepo.x86_64"); empty if none
    std::string options; // its kernel arguments
    std::string file;    // host path of the file that defines it
};

enum class LoaderKind { bls, grub_cfg };

// "bls" or "grub.cfg".
std::string_view to_string(LoaderKind kind);

struct BootLoader {
    LoaderKind kind = LoaderKind::bls;
    std::vector<BootEntry> entries;
    std::string grub_cfg; // host path of the grub.cfg read (grub_cfg kind only)
    std::string error;    // why the entries could not be read; empty when they were

    // The entry that boots `release`, or nullptr.
    [[nodiscard]] const BootEntry* for_kernel(std::string_view release) const;
    // The entry with this id, or nullptr.
    [[nodiscard]] const BootEntry* by_id(std::string_view id) const;
};

// EL8 and later: every /boot/loader/entries/*.conf; EL7: the menuentries of grub.cfg (the ESP's on UEFI).
BootLoader read_boot_loader(const probe::Host& files, int el);

// One BLS entry's "key value" lines.
BootEntry parse_bls_entry(std::string_view text, std::string id, std::string file);

// The top-level menuentry blocks of a grub.cfg (submenus are not looked into: EL7 generates none).
std::vector<BootEntry> parse_grub_cfg(std::string_view text, const std::string& file);

// The text of the file that defines `entry` with `args` appended to its kernel arguments, skipping those
// already present; `added` gets the ones appended. Identical text when nothing was missing.
util::Result<std::string> add_kernel_args(std::string_view text, LoaderKind kind, const BootEntry& entry,
                                          const std::vector<std::string>& args,
                                          std::vector<std::string>* added);

// The inverse: `args` (each one whole word) removed from the entry's kernel arguments.
util::Result<std::string> remove_kernel_args(std::string_view text, LoaderKind kind, const BootEntry& entry,
                                             const std::vector<std::string>& args);

// "a b  c" -> {"a", "b", "c"}.
std::vector<std::string> split_words(std::string_view text);

} // namespace meshlink::agent::kernel
