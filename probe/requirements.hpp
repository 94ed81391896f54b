#pragma once
// What Cilium needs from a node's kernel, by Cilium version: one data table (requirements.cpp), so a new
// Cilium release is a new row. Facts and sources: docs/kernel-requirements.md.

#include "probe/kernel_release.hpp"

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::probe {

struct CiliumVersion {
    int major = 1;
    int minor = 0;

    friend auto operator<=>(const CiliumVersion&, const CiliumVersion&) = default;
    friend bool operator==(const CiliumVersion&, const CiliumVersion&) = default;
};

// "1.18".
std::string to_string(const CiliumVersion& version);

// Accepts "1.18", "v1.18", "1.18.3" (the patch level does not change kernel requirements).
std::optional<CiliumVersion> parse_cilium_version(std::string_view text);

// A distribution kernel Cilium accepts below its minimum because the vendor backported what it needs, e.g.
// RHEL 8.10's 4.18.0-553. Matched on the kernel release: version, ".elN" tag and the build number.
struct KernelException {
    std::string_view distribution; // "RHEL 8.10"
    KernelVersion kernel;          // 4.18.0
    int el_major = 0;              // 8
    int min_build = 0;             // 553: the first RHEL 8.10 kernel build
};

// A BPF helper a program type must be able to call.
struct HelperNeed {
    std::string_view program_type; // libbpf's name: "sched_cls"
    std::string_view helper;       // without "bpf_": "redirect_peer"
};

// One row: the requirements of the Cilium releases first..last.
struct CiliumRequirements {
    CiliumVersion first{};
    CiliumVersion last{};
    KernelVersion min_kernel{};
    std::optional<KernelException> exception{};
    std::string_view source{};               // where the kernel minimum is stated
    std::vector<std::string_view> options{}; // base options; y or m both pass ("either choice is valid")
    bool btf_required = false;
    bool jit_required = false;
    std::vector<std::string_view> program_types{};
    std::vector<std::string_view> map_types{};
    std::vector<HelperNeed> helpers{};
};

// An optional datapath feature chosen by Helm values; a node without it still runs Cilium, so a missing
// feature is a warning.
struct FeatureRequirement {
    std::string_view id{};      // the check ID: "node.feature.wireguard"
    std::string_view name{};    // "WireGuard encryption"
    std::string_view helm{};    // how it is switched on: "encryption.enabled=true, encryption.type=wireguard"
    KernelVersion min_kernel{}; // {0,0,0} when no version gate is documented
    bool any_option = false;    // true: one of `options` is enough (VXLAN or Geneve)
    std::vector<std::string_view> options{};
    bool option_must_be_builtin = false; // the option is bool-only in Kconfig (NETKIT=y)
    std::vector<std::string_view> program_types{};
    std::vector<HelperNeed> helpers{};
    bool needs_cgroup2 = false;
    std::string_view without{}; // what to do (or what Cilium does) without it
};

// Rows in ascending version order, without gaps.
const std::vector<CiliumRequirements>& cilium_requirements();

const std::vector<FeatureRequirement>& feature_requirements();

// The row covering `version`. Versions above the newest row get the newest row (`*extrapolated` = true),
// versions below the oldest get the oldest.
const CiliumRequirements& requirements_for(CiliumVersion version, bool* extrapolated = nullptr);

// The newest Cilium release the table knows (the default of --cilium-version).
CiliumVersion newest_cilium();

// The kbuild module that CONFIG_<option> builds when it is =m, or "" for bool-only options.
std::string_view module_for_option(std::string_view option);

// Modules Cilium loads through its iptables manager; a missing one is a warning only.
const std::vector<std::string_view>& iptables_modules();

// Every kernel option the report lists: the table's options plus the BPF-related options bpftool reports.
std::vector<std::string_view> reported_options();

// Every module the report lists: the modules of the table's options and the iptables modules.
std::vector<std::string_view> reported_modules();

// Every helper any row or feature needs, grouped for probing.
std::vector<HelperNeed> reported_helpers();

} // namespace meshlink::probe
