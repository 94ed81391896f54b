#pragma once
// What the running kernel's BPF subsystem can do, asked the way bpftool and Cilium ask: load a tiny program
// or create a small map through libbpf (libbpf_probe_bpf_prog_type/_map_type/_helper) and see whether the
// kernel accepts it. Plus the JIT and BPF sysctls, and kernel BTF.
//
// The kernel sits behind BpfKernel so unit tests can answer for it; BpfFeatures asks lazily and caches,
// with an explicit unknown (and its reason) whenever a probe cannot decide.

#include "probe/host.hpp"

#include <linux/bpf.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshlink::probe {

// The calls the probe makes into the kernel. Each returns 1 (supported), 0 (not supported) or a negative
// errno when the probe could not decide, as libbpf's probe functions do. Types are libbpf's numbers as ints
// (BPF_PROG_TYPE_*, BPF_MAP_TYPE_*, BPF_FUNC_*): libbpf may know more than our uapi header's enums can hold.
class BpfKernel {
public:
    virtual ~BpfKernel() = default;
    // 0 when bpf() exists and we may use it; -ENOSYS without bpf(); -EPERM without the capabilities.
    virtual int syscall_access() = 0;
    virtual int program_type(int type) = 0;
    virtual int map_type(int type) = 0;
    virtual int helper(int program_type, int helper) = 0;
    // 1 when a loaded program was JIT-compiled (jited_prog_len > 0), 0 when it runs interpreted.
    virtual int jit() = 0;
};

// The real kernel through libbpf. Raises RLIMIT_MEMLOCK as bpftool does (kernels before 5.11 charge BPF
// memory to it) and keeps libbpf's own messages off stderr while it lives.
std::unique_ptr<BpfKernel> make_libbpf_kernel();

struct Availability {
    std::optional<bool> available; // nullopt: unknown
    std::string reason;            // why unknown (empty when known)
};

class BpfFeatures {
public:
    explicit BpfFeatures(BpfKernel& kernel) : m_kernel(kernel) {}

    // Whether bpf() exists at all (an EPERM answer still means it exists).
    Availability syscall();
    // `name` is libbpf's: "sched_cls", "lpm_trie"; unknown names are unknown.
    Availability program_type(std::string_view name);
    Availability map_type(std::string_view name);
    // `helper` without the "bpf_" prefix: "redirect_peer".
    Availability helper(std::string_view program_type, std::string_view helper);
    Availability jit();

private:
    // Unknown with the reason when bpf() cannot be used, so the per-type probes are not even tried.
    std::optional<Availability> blocked();
    static Availability from_result(int result, std::string_view what);

    BpfKernel& m_kernel;
    std::optional<int> m_access;
    std::map<int, Availability> m_program_types;
    std::map<int, Availability> m_map_types;
    std::map<std::pair<int, int>, Availability> m_helpers;
    std::optional<Availability> m_jit;
};

// Every program type and map type this libbpf knows, by libbpf's name, in enum order (as bpftool lists them).
std::vector<std::string> libbpf_program_types();
std::vector<std::string> libbpf_map_types();
std::optional<int> program_type_from_name(std::string_view name);
std::optional<int> map_type_from_name(std::string_view name);
// The helper's id from the uapi header's list ("redirect_peer" -> BPF_FUNC_redirect_peer).
std::optional<int> helper_from_name(std::string_view name);

struct NamedAvailability {
    std::string name;
    std::optional<bool> available;
};

struct HelperAvailability {
    std::string program_type;
    std::string helper;
    std::optional<bool> available;
};

struct BpfFacts {
    bool probed = false; // false: no runtime probes were run (--skip-bpf), see `error`
    std::string error;   // why probes were not run or could not decide
    std::optional<bool> syscall;
    std::vector<NamedAvailability> program_types;
    std::vector<NamedAvailability> map_types;
    std::vector<HelperAvailability> helpers;
    std::optional<bool> jited;
    // Sysctls as bpftool reads them from <proc>/sys; nullopt when unreadable.
    std::optional<long long> unprivileged_bpf_disabled;
    std::optional<long long> jit_enable;
    std::optional<long long> jit_harden;
    std::optional<long long> jit_kallsyms;
    std::optional<long long> jit_limit;

    // nullopt when not probed or unknown.
    [[nodiscard]] std::optional<bool> program_type(std::string_view name) const;
    [[nodiscard]] std::optional<bool> map_type(std::string_view name) const;
    [[nodiscard]] std::optional<bool> helper(std::string_view program_type, std::string_view helper) const;
};

// Reads the sysctls and, when `features` is given, probes every program and map type libbpf knows and the
// `helpers` (program type, helper) pairs. Without `features`, `skip_reason` says why.
BpfFacts gather_bpf(const Host& host, BpfFeatures* features,
                    const std::vector<std::pair<std::string, std::string>>& helpers, std::string skip_reason);

struct BtfFacts {
    std::optional<bool> vmlinux; // <sys>/kernel/btf/vmlinux exists; nullopt when sysfs cannot tell
    std::string error;
};

BtfFacts read_btf(const Host& host);

} // namespace meshlink::probe
