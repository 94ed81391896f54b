#pragma once
// The running kernel's build configuration, from the first usable file in the kubeadm system-validators
// search order. Only tristate answers count: an option is y, m, n or unset, and everything is "unknown"
// (never "missing") when no config file could be read.

#include "probe/host.hpp"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::probe {

enum class OptionState { y, m, n, unset, unknown };

// "y", "m", "n", "unset", "unknown".
std::string_view to_string(OptionState state);

struct KernelConfig {
    // Options whose value starts with y, m or n (system-validators counts `^CONFIG_[A-Z0-9_]+=[myn]`);
    // strings and numbers are ignored, and "# CONFIG_X is not set" leaves X unset.
    std::map<std::string, char, std::less<>> options;
    std::size_t assignments = 0;   // every CONFIG_X=... line, tristate or not
    bool generated_header = false; // "# Automatically generated file; DO NOT EDIT." (what bpftool requires)
    std::size_t bad_line = 0; // the first line that is neither blank, a comment nor CONFIG_X=value; 0 if none
    std::string bad_reason;

    // Usable as a kernel config: some assignments and no malformed line (a corrupt file must not make
    // present options look unset).
    [[nodiscard]] bool usable() const { return assignments > 0 && bad_line == 0; }
};

KernelConfig parse_kconfig(std::string_view text);

struct KconfigFacts {
    std::string source; // the file the options came from; empty when unknown
    KernelConfig config;
    std::string error;                 // why the config is unknown, or which candidates were unusable
    std::vector<std::string> searched; // every candidate path, in order

    // y/m/n/unset from the config, or unknown when no config was read.
    [[nodiscard]] OptionState get(std::string_view option) const;
};

// The candidates, in order: <proc>/config.gz, then under <root>: /boot/config-R, /lib/modules/R/config,
// /usr/lib/modules/R/config, /usr/src/linux-R/.config, /usr/lib/ostree-boot/config-R,
// /usr/lib/kernel/config-R, /usr/src/linux-headers-R/.config, /lib/modules/R/build/.config.
// Without a release only /proc/config.gz can describe the running kernel.
std::vector<std::filesystem::path> kconfig_candidates(const Host& host, std::string_view release);

// Reads the first candidate that exists and parses as a kernel config (gzip or plain text); unreadable or
// malformed candidates are skipped and named in `error`.
KconfigFacts read_kconfig(const Host& host, std::string_view release);

} // namespace meshlink::probe
