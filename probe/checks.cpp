#include "probe/checks.hpp"

#include "probe/check_text.hpp"
#include "probe/defaults.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>

namespace meshlink::probe {
namespace {

using detail::cilium_label;
using detail::describe_kernel;
using detail::distribution;
using detail::el_major;
using detail::join;
using detail::option_present;
using detail::upgrade_hint;

Check kernel_version(const NodeFacts& facts, const CiliumRequirements& req, CiliumVersion cilium) {
    Check check{std::string(check_id::kernel_version), Status::unknown, {}, {}};
    const auto& kernel = facts.kernel;
    if (!kernel.version) {
        check.message = "kernel version unknown: " + kernel.error;
        check.hint =
            "point --proc at the host's procfs (the kernel release is read from <proc>/sys/kernel/osrelease)";
        return check;
    }
    const std::string have = describe_kernel(kernel);
    const std::string need = to_string(req.min_kernel);
    if (*kernel.version >= req.min_kernel) {
        check.status = Status::pass;
        check.message = fmt::format("kernel {} >= {} required by {}", have, need, cilium_label(cilium));
        return check;
    }
    if (req.exception) {
        const auto& exception = *req.exception;
        const bool same_base = *kernel.version == exception.kernel && kernel.el_major == exception.el_major;
        if (same_base && kernel.build && *kernel.build >= exception.min_build) {
            check.status = Status::pass;
            check.message = fmt::format("kernel {} is a {} kernel, which {} accepts below {}", have,
                                        exception.distribution, cilium_label(cilium), need);
            return check;
        }
        if (same_base) {
            check.status = Status::fail;
            check.message =
                fmt::format("kernel {} < {} required by {}; {} accepts {} only from build {} ({})", have,
                            need, cilium_label(cilium), cilium_label(cilium), to_string(exception.kernel),
                            exception.min_build, exception.distribution);
            check.hint = fmt::format("update to the {} kernel (dnf update kernel), or {}",
                                     exception.distribution, upgrade_hint(facts));
            return check;
        }
    }
    check.status = Status::fail;
    check.message = fmt::format("kernel {} < {} required by {}", have, need, cilium_label(cilium));
    check.hint = upgrade_hint(facts);
    return check;
}

Check kernel_config(const NodeFacts& facts, const CiliumRequirements& req, CiliumVersion cilium) {
    Check check{std::string(check_id::kernel_config), Status::unknown, {}, {}};
    const auto& kconfig = facts.kconfig;
    if (kconfig.source.empty()) {
        check.message = "kernel config unknown: " + kconfig.error;
        check.hint =
            "mount the host's /boot and /lib/modules under --root, or use a kernel with "
            "CONFIG_IKCONFIG_PROC (/proc/config.gz); the runtime BPF probes still decide node.bpf.features";
        return check;
    }
    std::vector<std::string> missing;
    for (auto option : req.options) {
        const OptionState state = kconfig.get(option);
        if (!option_present(state, false)) {
            missing.push_back(fmt::format("{} ({})", option, to_string(state)));
        }
    }
    if (!missing.empty()) {
        check.status = Status::fail;
        check.message =
            fmt::format("{} required by {} missing in {}: {}", missing.size() == 1 ? "option" : "options",
                        cilium_label(cilium), kconfig.source, join(missing));
        check.hint = "use a kernel built with these options (=y or =m both work); " + upgrade_hint(facts);
        return check;
    }
    check.status = Status::pass;
    check.message = fmt::format("all {} base options {} needs are y or m in {}", req.options.size(),
                                cilium_label(cilium), kconfig.source);
    return check;
}

Check kernel_btf(const NodeFacts& facts, const CiliumRequirements& req, CiliumVersion cilium) {
    Check check{std::string(check_id::kernel_btf), Status::unknown, {}, {}};
    const Status absent = req.btf_required ? Status::fail : Status::warn;
    const std::string consequence = req.btf_required
                                        ? fmt::format("{} requires kernel BTF", cilium_label(cilium))
                                        : fmt::format("{} runs without it, Cilium {} and later require it",
                                                      cilium_label(cilium), to_string(newest_cilium()));
    const std::string hint =
        "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (distribution kernels of EL8.2+, "
        "Ubuntu 20.10+, Debian 11+ and ELRepo kernel-ml for EL8/EL9 have it)";
    if (facts.btf.vmlinux == true) {
        check.status = Status::pass;
        check.message = "kernel BTF available (/sys/kernel/btf/vmlinux)";
        return check;
    }
    if (facts.btf.vmlinux == false) {
        check.status = absent;
        check.message = "no kernel BTF: /sys/kernel/btf/vmlinux is absent; " + consequence;
        check.hint = hint;
        return check;
    }
    // sysfs could not tell: the build config is the next best witness.
    const OptionState option = facts.kconfig.get("CONFIG_DEBUG_INFO_BTF");
    if (option == OptionState::y) {
        check.status = Status::pass;
        check.message =
            fmt::format("CONFIG_DEBUG_INFO_BTF=y in {} ({})", facts.kconfig.source, facts.btf.error);
        return check;
    }
    if (option != OptionState::unknown) {
        check.status = absent;
        check.message = fmt::format("CONFIG_DEBUG_INFO_BTF is {} in {}; {}", to_string(option),
                                    facts.kconfig.source, consequence);
        check.hint = hint;
        return check;
    }
    check.message = "kernel BTF unknown: " + facts.btf.error + "; kernel config unknown";
    check.hint = "point --sys at the host's sysfs";
    return check;
}

Check bpf_features(const NodeFacts& facts, const CiliumRequirements& req, CiliumVersion cilium) {
    Check check{std::string(check_id::bpf_features), Status::unknown, {}, {}};
    const auto& bpf = facts.bpf;
    if (!bpf.probed) {
        check.message = bpf.error;
        check.hint = "run `meshlink-agent probe` on the node itself, without --skip-bpf";
        return check;
    }
    if (bpf.syscall == false) {
        check.status = Status::fail;
        check.message = "the kernel has no bpf() syscall";
        check.hint = "use a kernel built with CONFIG_BPF_SYSCALL=y; " + upgrade_hint(facts);
        return check;
    }
    std::vector<std::string> missing;
    std::vector<std::string> unknown;
    const auto sort = [&](std::optional<bool> available, std::string what) {
        if (available == false) {
            missing.push_back(std::move(what));
        } else if (!available) {
            unknown.push_back(std::move(what));
        }
    };
    for (auto type : req.program_types) {
        sort(bpf.program_type(type), fmt::format("program type {}", type));
    }
    for (auto type : req.map_types) {
        sort(bpf.map_type(type), fmt::format("map type {}", type));
    }
    for (const auto& need : req.helpers) {
        sort(bpf.helper(need.program_type, need.helper),
             fmt::format("helper bpf_{} in {}", need.helper, need.program_type));
    }
    if (!missing.empty()) {
        check.status = Status::fail;
        check.message =
            fmt::format("the kernel lacks what {} needs: {}", cilium_label(cilium), join(missing));
        check.hint = upgrade_hint(facts);
        return check;
    }
    if (!unknown.empty()) {
        check.message = fmt::format("could not probe {}: {}", join(unknown), bpf.error);
        check.hint = "run the probe as root (CAP_SYS_ADMIN, CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON)";
        return check;
    }
    check.status = Status::pass;
    check.message =
        fmt::format("{} program types, {} map types and {} helpers {} needs are available",
                    req.program_types.size(), req.map_types.size(), req.helpers.size(), cilium_label(cilium));
    return check;
}

Check bpf_jit(const NodeFacts& facts, const CiliumRequirements& req, CiliumVersion cilium) {
    Check check{std::string(check_id::bpf_jit), Status::unknown, {}, {}};
    const auto& bpf = facts.bpf;
    const std::string sysctl = bpf.jit_enable ? fmt::format("net.core.bpf_jit_enable={}", *bpf.jit_enable)
                                              : std::string("net.core.bpf_jit_enable unreadable");
    std::optional<bool> jited = bpf.jited;
    std::string how = "a test program was JIT-compiled";
    if (!jited && bpf.jit_enable) {
        jited = *bpf.jit_enable != 0;
        how = "from the sysctl; runtime probes not run";
    }
    if (jited == true) {
        check.status = Status::pass;
        check.message = fmt::format("BPF JIT on ({}; {})", sysctl, how);
        return check;
    }
    if (jited == false) {
        check.status = req.jit_required ? Status::fail : Status::warn;
        check.message = fmt::format(
            "BPF programs run interpreted ({}){}", sysctl,
            req.jit_required ? fmt::format("; {} requires the JIT", cilium_label(cilium)) : std::string());
        check.hint = "enable the JIT: sysctl -w net.core.bpf_jit_enable=1, persisted in /etc/sysctl.d "
                     "(kernels with CONFIG_BPF_JIT_ALWAYS_ON have it always on)";
        return check;
    }
    check.message =
        fmt::format("BPF JIT unknown ({}; {})", sysctl, bpf.error.empty() ? "not probed" : bpf.error);
    return check;
}

Check modules(const NodeFacts& facts, const CiliumRequirements& req) {
    Check check{std::string(check_id::modules), Status::unknown, {}, {}};
    const auto& mods = facts.modules;
    const OptionState module_support = facts.kconfig.get("CONFIG_MODULES");
    if (module_support == OptionState::unset || module_support == OptionState::n) {
        // Nothing can be loaded into such a kernel: what is not built in is absent, and the base options
        // (node.kernel.config) already say which.
        check.status = Status::pass;
        check.message = fmt::format("the kernel has no loadable module support (CONFIG_MODULES {} in {}): "
                                    "everything Cilium needs must be built in, see {}",
                                    to_string(module_support), facts.kconfig.source, check_id::kernel_config);
        return check;
    }
    std::vector<std::string> required_missing;
    std::vector<std::string> required_ok;
    std::vector<std::string> required_unknown;
    for (auto option : req.options) {
        const auto module = module_for_option(option);
        if (module.empty()) {
            continue;
        }
        const ModuleState state = mods.get(module);
        const OptionState config = facts.kconfig.get(option);
        if (config == OptionState::y && state != ModuleState::loadable && state != ModuleState::loaded) {
            // =y: part of the kernel image whatever the module tree says (or cannot say).
            required_ok.push_back(fmt::format("{} built in ({}=y)", module, option));
        } else if (state == ModuleState::missing) {
            required_missing.push_back(fmt::format("{} ({}={})", module, option, to_string(config)));
        } else if (state == ModuleState::unknown) {
            required_unknown.push_back(std::string(module));
        } else {
            required_ok.push_back(fmt::format("{} {}", module, to_string(state)));
        }
    }
    if (!required_missing.empty()) {
        check.status = Status::fail;
        check.message = fmt::format("required modules missing from {}: {}",
                                    mods.directory.empty() ? std::string("the module tree") : mods.directory,
                                    join(required_missing));
        check.hint = "install the kernel's modules package (kernel-modules / linux-modules-<release>) or a "
                     "kernel with these options built in";
        return check;
    }
    if (!required_unknown.empty()) {
        check.message = fmt::format("module states unknown ({}): {}", join(required_unknown), mods.error);
        check.hint =
            "mount the host's /lib/modules under --root; if the indexes are missing, run depmod on the node";
        return check;
    }
    // Modules a feature option promises (=m) but the tree lacks: a broken or partial modules package.
    std::vector<std::string> inconsistent;
    for (const auto& module : mods.modules) {
        if (module.state != ModuleState::missing) {
            continue;
        }
        for (auto option : reported_options()) {
            if (module_for_option(option) == module.name && facts.kconfig.get(option) == OptionState::m) {
                inconsistent.push_back(fmt::format("{} ({}=m)", module.name, option));
                break;
            }
        }
    }
    std::vector<std::string> iptables_missing;
    for (auto name : iptables_modules()) {
        if (mods.get(name) == ModuleState::missing) {
            iptables_missing.push_back(std::string(name));
        }
    }
    if (!inconsistent.empty() || !iptables_missing.empty()) {
        check.status = Status::warn;
        std::vector<std::string> parts;
        if (!inconsistent.empty()) {
            parts.push_back("configured as modules but not installed: " + join(inconsistent));
        }
        if (!iptables_missing.empty()) {
            parts.push_back("iptables modules missing (Cilium's iptables manager then only warns): " +
                            join(iptables_missing));
        }
        check.message = fmt::format("{}; required modules: {}", join(parts, "; "), join(required_ok));
        check.hint =
            "install the kernel's complete modules package (on EL: kernel-modules, kernel-modules-extra)";
        return check;
    }
    check.status = Status::pass;
    check.message = "required modules: " + join(required_ok);
    return check;
}

Check bpffs(const NodeFacts& facts) {
    Check check{std::string(check_id::bpffs), Status::unknown, {}, {}};
    const auto& mounts = facts.mounts;
    if (!mounts.bpffs) {
        check.message = "mounts unknown: " + mounts.error;
        check.hint =
            "pass the host's /proc/1/mountinfo as --mountinfo (or point --proc at the host's procfs)";
        return check;
    }
    if (*mounts.bpffs) {
        check.status = Status::pass;
        check.message = "bpffs mounted at /sys/fs/bpf";
        return check;
    }
    check.status = Status::warn;
    check.message =
        "bpffs not mounted at /sys/fs/bpf" +
        (mounts.bpffs_mounts.empty() ? std::string() : " (only at " + join(mounts.bpffs_mounts) + ")") +
        ": Cilium mounts it itself, but then its maps do not survive a restart of the Cilium pod";
    check.hint = "mount it on the host at boot: a sys-fs-bpf.mount unit or an /etc/fstab line "
                 "\"bpffs /sys/fs/bpf bpf defaults 0 0\"";
    return check;
}

Check cgroup2(const NodeFacts& facts) {
    Check check{std::string(check_id::cgroup2), Status::unknown, {}, {}};
    const auto& mounts = facts.mounts;
    if (mounts.cgroup2 == true) {
        check.status = Status::pass;
        check.message = "cgroup v2 mounted at " + join(mounts.cgroup2_mounts);
        return check;
    }
    if (mounts.cgroup2_supported == false) {
        check.status = Status::warn;
        check.message =
            "the kernel has no cgroup v2: socket load balancing and kube-proxy replacement are unavailable";
        check.hint = upgrade_hint(facts);
        return check;
    }
    if (mounts.cgroup2 == false && mounts.cgroup2_supported == true) {
        check.status = Status::pass;
        check.message = "cgroup v2 supported but not mounted; Cilium mounts it at /run/cilium/cgroupv2";
        return check;
    }
    check.message = "cgroup v2 unknown: " +
                    (mounts.error.empty() ? std::string("<proc>/filesystems unreadable") : mounts.error);
    return check;
}

Check os(const NodeFacts& facts) {
    Check check{std::string(check_id::os), Status::unknown, {}, {}};
    const auto& os = facts.os;
    if (os.get("ID").empty()) {
        std::string why = !os.error.empty()      ? os.error
                          : !os.problems.empty() ? os.source + ": " + join(os.problems, "; ")
                                                 : os.source + ": no ID";
        check.message = "distribution unknown: " + why;
        check.hint = "mount the host's /etc under --root";
        return check;
    }
    const auto el = el_major(facts);
    const std::string name = distribution(os);
    if (el && *el <= 7) {
        check.status = Status::warn;
        check.message =
            name + " is end of life: only archived ELRepo kernels exist for it, the last (6.9.7) without BTF";
        check.hint = "plan an OS upgrade to EL8 or later";
        return check;
    }
    check.status = Status::pass;
    check.message =
        el ? fmt::format("{} (EL{}): `kubectl meshlink kernel plan` shows the ELRepo kernel-ml rollout", name,
                         *el)
           : fmt::format("{}: kernel upgrades come from the distribution", name);
    return check;
}

std::string bytes_text(std::uint64_t bytes) {
    return fmt::format("{} MiB", bytes / (1024 * 1024));
}

Check boot(const NodeFacts& facts) {
    Check check{std::string(check_id::boot), Status::unknown, {}, {}};
    const auto& boot = facts.boot;
    std::vector<std::string> parts;
    if (boot.firmware) {
        parts.push_back(*boot.firmware == "uefi" ? "UEFI" : "BIOS");
    }
    if (boot.secure_boot) {
        parts.push_back(*boot.secure_boot ? "Secure Boot on" : "Secure Boot off");
    }
    if (boot.boot_free_bytes) {
        parts.push_back("/boot " + bytes_text(*boot.boot_free_bytes) + " free");
    }
    if (boot.saved_entry) {
        parts.push_back("default entry " + *boot.saved_entry +
                        (boot.default_kernel ? " (kernel " + *boot.default_kernel + ")" : std::string()));
    } else if (boot.bls == true) {
        parts.push_back(fmt::format("BLS, {} entries", boot.bls_entries.size()));
    }
    std::vector<std::string> warnings;
    std::vector<std::string> hints;
    if (boot.secure_boot == true) {
        warnings.push_back("Secure Boot would refuse an ELRepo kernel-ml (unsigned)");
        hints.push_back("disable Secure Boot before a kernel rollout (`kubectl meshlink kernel plan`), or "
                        "supply a signed kernel");
    }
    if (boot.boot_free_bytes && *boot.boot_free_bytes < defaults::k_min_boot_free_bytes) {
        warnings.push_back(fmt::format("/boot has less than {} free for a new kernel",
                                       bytes_text(defaults::k_min_boot_free_bytes)));
        hints.push_back("free /boot: remove old kernels (dnf remove --oldinstallonly)");
    }
    if (parts.empty()) {
        check.message = "boot setup unknown: " + join(boot.errors, "; ");
        return check;
    }
    check.message = join(parts);
    if (!warnings.empty()) {
        check.status = Status::warn;
        check.message += ": " + join(warnings, "; ");
        check.hint = join(hints, "; ");
        return check;
    }
    check.status = boot.firmware && boot.boot_free_bytes ? Status::pass : Status::unknown;
    if (check.status == Status::unknown) {
        check.message += "; " + join(boot.errors, "; ");
    }
    return check;
}

} // namespace

std::string_view to_string(Status status) {
    for (const auto& [value, text] : k_status_names) {
        if (value == status) {
            return text;
        }
    }
    return "unknown";
}

std::vector<Check> evaluate(const NodeFacts& facts, CiliumVersion cilium) {
    const CiliumRequirements& req = requirements_for(cilium);
    std::vector<Check> checks{
        kernel_version(facts, req, cilium),
        kernel_config(facts, req, cilium),
        kernel_btf(facts, req, cilium),
        bpf_features(facts, req, cilium),
        bpf_jit(facts, req, cilium),
        modules(facts, req),
        bpffs(facts),
        cgroup2(facts),
        os(facts),
        boot(facts),
    };
    for (const auto& requirement : feature_requirements()) {
        checks.push_back(detail::feature_check(facts, requirement));
    }
    return checks;
}

bool any_failed(const std::vector<Check>& checks) {
    return std::any_of(checks.begin(), checks.end(),
                       [](const Check& check) { return check.status == Status::fail; });
}

} // namespace meshlink::probe
