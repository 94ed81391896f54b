#include "node-agent/privileges/capabilities.hpp"

#include "node-agent/defaults.hpp"
#include "probe/host.hpp"
#include "probe/kernel_release.hpp"
#include "util/log.hpp"

#include <fmt/format.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

// Older kernel headers (a static build's sysroot) may predate these; the numbers are the kernel's ABI.
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

namespace meshlink::agent::privileges {
namespace {

constexpr CapabilityMask bit(int capability) {
    return CapabilityMask{1} << capability;
}

// One capability the DaemonSet adds only for older kernels, and what must hold before it can go.
struct Rule {
    int capability;
    std::string_view name;
    probe::KernelVersion from;  // the first kernel on which the probes do without it
    bool needs_cap_bpf;         // the kernel must also know CAP_BPF (cap_last_cap)
    bool reads_jit_sysctls;     // needed to read bpf_jit_harden, bpf_jit_kallsyms and bpf_jit_limit
    CapabilityMask replaced_by; // the process must hold all of these instead
    std::string_view why;       // why the probes do without it from `from` on
};

const Rule k_rules[] = {
    {CAP_SYS_ADMIN, "SYS_ADMIN", defaults::k_no_sys_admin_from, true, true,
     bit(CAP_BPF) | bit(CAP_PERFMON) | bit(CAP_NET_ADMIN), "BPF, PERFMON and NET_ADMIN cover every probe"},
    {CAP_SYS_RESOURCE, "SYS_RESOURCE", defaults::k_no_sys_resource_from, false, false, 0,
     "BPF memory is charged to the memory cgroup, not to RLIMIT_MEMLOCK"},
};

std::string names(CapabilityMask mask) {
    static constexpr std::pair<int, std::string_view> k_names[] = {
        {CAP_BPF, "BPF"}, {CAP_PERFMON, "PERFMON"}, {CAP_NET_ADMIN, "NET_ADMIN"}};
    std::string out;
    for (const auto& [capability, name] : k_names) {
        if ((mask & bit(capability)) != 0) {
            out += (out.empty() ? "" : ", ") + std::string(name);
        }
    }
    return out;
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& part : parts) {
        out += (out.empty() ? "" : "; ") + part;
    }
    return out;
}

// The calling thread's capability sets, both 32-bit words (capget).
util::Result<std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3>> read_sets() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
    if (::syscall(SYS_capget, &header, data.data()) != 0) {
        return util::fail(util::ErrorKind::generic,
                          std::string("cannot read this process's capabilities (capget): ") +
                              std::strerror(errno));
    }
    return data;
}

} // namespace

Decision decide(const Facts& facts) {
    Decision decision;
    CapabilityMask candidates = 0;
    for (const auto& rule : k_rules) {
        candidates |= bit(rule.capability) & facts.effective;
    }
    if (candidates == 0) {
        decision.message = "capabilities: neither SYS_ADMIN nor SYS_RESOURCE is held, nothing to drop";
        return decision;
    }
    const probe::KernelRelease release = probe::parse_kernel_release(facts.release);
    if (!release.version) {
        decision.odd = true;
        decision.message = "capabilities: keeping all: cannot tell which ones the BPF probes need on this "
                           "kernel (" +
                           release.error + ")";
        return decision;
    }
    const std::string version = probe::to_string(*release.version);
    std::vector<std::string> dropped;
    std::vector<std::string> kept;
    for (const auto& rule : k_rules) {
        if ((facts.effective & bit(rule.capability)) == 0) {
            continue;
        }
        if (*release.version < rule.from) {
            kept.push_back(fmt::format("kept {}: kernel {} is older than {}", rule.name, version,
                                       probe::to_string(rule.from)));
            continue;
        }
        if (rule.needs_cap_bpf && (!facts.cap_last_cap || *facts.cap_last_cap < CAP_BPF)) {
            decision.odd = true;
            kept.push_back(fmt::format("kept {}: kernel {} does not list CAP_BPF ({} is {})", rule.name,
                                       version, defaults::k_cap_last_cap_file,
                                       facts.cap_last_cap ? std::to_string(*facts.cap_last_cap)
                                                          : std::string("unreadable")));
            continue;
        }
        if (rule.reads_jit_sysctls && facts.jit_sysctls_visible) {
            kept.push_back(fmt::format("kept {}: the host's BPF JIT sysctls are visible here and only {} may "
                                       "read them",
                                       rule.name, rule.name));
            continue;
        }
        if (const CapabilityMask missing = rule.replaced_by & ~facts.effective; missing != 0) {
            kept.push_back(fmt::format("kept {}: it stands in for {}, which the process does not hold",
                                       rule.name, names(missing)));
            continue;
        }
        decision.drop |= bit(rule.capability);
        dropped.push_back(fmt::format("dropped {} (kernel {} is {} or newer: {})", rule.name, version,
                                      probe::to_string(rule.from), rule.why));
    }
    dropped.insert(dropped.end(), kept.begin(), kept.end());
    decision.message = "capabilities: " + join(dropped);
    return decision;
}

util::Result<Facts> read_facts() {
    Facts facts;
    utsname name{};
    if (::uname(&name) == 0) {
        // Bounded: a kernel that forgot the terminator still yields at most the field.
        facts.release.assign(name.release, ::strnlen(name.release, sizeof name.release));
    }
    const probe::FileText last = probe::read_text(std::string(defaults::k_cap_last_cap_file), 64);
    if (last.text) {
        const std::string_view text = probe::trim(*last.text);
        int value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error == std::errc{} && end == text.data() + text.size() && value >= 0) {
            facts.cap_last_cap = value;
        }
    }
    std::error_code ignored;
    facts.jit_sysctls_visible = std::filesystem::exists(defaults::k_jit_harden_sysctl_file, ignored);
    auto sets = read_sets();
    if (!sets) {
        return std::unexpected(sets.error());
    }
    facts.effective = CapabilityMask{(*sets)[0].effective} | (CapabilityMask{(*sets)[1].effective} << 32);
    return facts;
}

util::Result<void> drop(CapabilityMask drop) {
    auto sets = read_sets();
    if (!sets) {
        return std::unexpected(sets.error());
    }
    auto& data = *sets;
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    for (int word = 0; word < _LINUX_CAPABILITY_U32S_3; ++word) {
        const auto keep = static_cast<std::uint32_t>(~(drop >> (32 * word)));
        data[word].effective &= keep;
        data[word].permitted &= keep;
        data[word].inheritable &= keep;
    }
    if (::syscall(SYS_capset, &header, data.data()) != 0) {
        return util::fail(util::ErrorKind::generic,
                          std::string("cannot drop capabilities (capset): ") + std::strerror(errno));
    }
    return {};
}

void drop_unneeded() {
    auto facts = read_facts();
    if (!facts) {
        util::log::warn(facts.error().message + "; keeping all capabilities");
        return;
    }
    const Decision decision = decide(*facts);
    if (decision.drop != 0) {
        if (auto dropped = drop(decision.drop); !dropped) {
            util::log::warn(dropped.error().message + "; keeping all capabilities");
            return;
        }
    }
    util::log::write(decision.odd ? 0 : 2, decision.message,
                     decision.odd ? util::log::Severity::warning : util::log::Severity::info);
}

} // namespace meshlink::agent::privileges
