#include "probe/bpf.hpp"

#include "probe/libbpf_abi.hpp"
#include "util/fd.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdarg>
#include <cstring>

namespace meshlink::probe {
namespace {

// Every helper the uapi header names, so requirements can name helpers as Cilium's docs do.
#define MESHLINK_HELPER_ENTRY(name)                                                                          \
    { #name, BPF_FUNC_##name }
const std::pair<std::string_view, bpf_func_id> k_helpers[] = {__BPF_FUNC_MAPPER(MESHLINK_HELPER_ENTRY)};
#undef MESHLINK_HELPER_ENTRY

int silent_print(enum libbpf_print_level, const char*, va_list) {
    return 0;
}

class LibbpfKernel final : public BpfKernel {
public:
    LibbpfKernel() : m_previous_print(libbpf_set_print(&silent_print)) {
        // bpftool's set_max_rlimit(): before 5.11 the kernel charges BPF objects to RLIMIT_MEMLOCK, whose
        // default (64 KiB on older distributions) is too small for some map probes. Failure is not fatal:
        // the probes then report what the limit allows.
        rlimit limit{RLIM_INFINITY, RLIM_INFINITY};
        (void)::setrlimit(RLIMIT_MEMLOCK, &limit);
    }
    ~LibbpfKernel() override { libbpf_set_print(m_previous_print); }
    LibbpfKernel(const LibbpfKernel&) = delete;
    LibbpfKernel& operator=(const LibbpfKernel&) = delete;

    int syscall_access() override {
        // An empty BPF_PROG_LOAD: EINVAL (or E2BIG) proves bpf() exists and let us in; ENOSYS that it does
        // not exist; EPERM that we lack the capabilities. bpftool asks the same way.
        union bpf_attr attr;
        std::memset(&attr, 0, sizeof attr);
        util::Fd fd(static_cast<int>(::syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof attr)));
        if (fd) {
            return 0;
        }
        if (errno == ENOSYS || errno == EPERM) {
            return -errno;
        }
        return 0;
    }

    int program_type(int type) override { return libbpf_abi::probe_prog_type(type); }
    int map_type(int type) override { return libbpf_abi::probe_map_type(type); }
    int helper(int type, int id) override { return libbpf_abi::probe_helper(type, id); }

    int jit() override {
        // r0 = 0; exit: the smallest program every kernel accepts as a socket filter.
        const bpf_insn insns[] = {
            {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = 0},
            {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
        };
        util::Fd prog(bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, nullptr, "GPL", insns, 2, nullptr));
        if (!prog) {
            return -errno;
        }
        bpf_prog_info info;
        std::memset(&info, 0, sizeof info);
        __u32 length = sizeof info;
        if (bpf_obj_get_info_by_fd(prog.get(), &info, &length) != 0) {
            return -errno;
        }
        return info.jited_prog_len > 0 ? 1 : 0;
    }

private:
    libbpf_print_fn_t m_previous_print;
};

std::string errno_text(int result) {
    return std::strerror(result < 0 ? -result : result);
}

std::optional<long long> read_sysctl(const Host& host, std::string_view relative) {
    FileText file = read_text(host.in_proc(relative), 256);
    if (!file.text) {
        return std::nullopt;
    }
    const std::string_view text = trim(*file.text);
    long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

} // namespace

std::unique_ptr<BpfKernel> make_libbpf_kernel() {
    return std::make_unique<LibbpfKernel>();
}

std::vector<std::string> libbpf_program_types() {
    std::vector<std::string> out;
    // Type 0 is "unspec"; libbpf returns NULL past the last type it knows.
    for (int type = 1; const char* name = libbpf_abi::prog_type_str(type); ++type) {
        out.emplace_back(name);
    }
    return out;
}

std::vector<std::string> libbpf_map_types() {
    std::vector<std::string> out;
    for (int type = 1; const char* name = libbpf_abi::map_type_str(type); ++type) {
        out.emplace_back(name);
    }
    return out;
}

std::optional<int> program_type_from_name(std::string_view name) {
    for (int type = 1; const char* known = libbpf_abi::prog_type_str(type); ++type) {
        if (name == known) {
            return type;
        }
    }
    return std::nullopt;
}

std::optional<int> map_type_from_name(std::string_view name) {
    for (int type = 1; const char* known = libbpf_abi::map_type_str(type); ++type) {
        if (name == known) {
            return type;
        }
    }
    return std::nullopt;
}

std::optional<int> helper_from_name(std::string_view name) {
    for (const auto& [known, id] : k_helpers) {
        if (known == name && id != BPF_FUNC_unspec) {
            return static_cast<int>(id);
        }
    }
    return std::nullopt;
}

Availability BpfFeatures::from_result(int result, std::string_view what) {
    if (result == 1) {
        return {true, {}};
    }
    if (result == 0) {
        return {false, {}};
    }
    return {std::nullopt, std::string(what) + ": " + errno_text(result)};
}

Availability BpfFeatures::syscall() {
    if (!m_access) {
        m_access = m_kernel.syscall_access();
    }
    if (*m_access == -ENOSYS) {
        return {false, {}};
    }
    if (*m_access == 0 || *m_access == -EPERM) {
        return {true, {}};
    }
    return {std::nullopt, "bpf(): " + errno_text(*m_access)};
}

std::optional<Availability> BpfFeatures::blocked() {
    const Availability exists = syscall();
    if (exists.available == false) {
        return Availability{std::nullopt, "the kernel has no bpf() syscall (CONFIG_BPF_SYSCALL is off)"};
    }
    if (*m_access == -EPERM) {
        return Availability{std::nullopt, "bpf() not permitted: run as root, or with CAP_SYS_ADMIN, CAP_BPF, "
                                          "CAP_NET_ADMIN and CAP_PERFMON"};
    }
    if (!exists.available) {
        return exists;
    }
    return std::nullopt;
}

Availability BpfFeatures::program_type(std::string_view name) {
    auto type = program_type_from_name(name);
    if (!type) {
        return {std::nullopt, "program type \"" + std::string(name) + "\" is unknown to this libbpf"};
    }
    auto it = m_program_types.find(*type);
    if (it != m_program_types.end()) {
        return it->second;
    }
    Availability result;
    if (auto why = blocked()) {
        result = *why;
    } else {
        result = from_result(m_kernel.program_type(*type), "probing program type " + std::string(name));
    }
    m_program_types.emplace(*type, result);
    return result;
}

Availability BpfFeatures::map_type(std::string_view name) {
    auto type = map_type_from_name(name);
    if (!type) {
        return {std::nullopt, "map type \"" + std::string(name) + "\" is unknown to this libbpf"};
    }
    auto it = m_map_types.find(*type);
    if (it != m_map_types.end()) {
        return it->second;
    }
    Availability result;
    if (auto why = blocked()) {
        result = *why;
    } else {
        result = from_result(m_kernel.map_type(*type), "probing map type " + std::string(name));
    }
    m_map_types.emplace(*type, result);
    return result;
}

Availability BpfFeatures::helper(std::string_view program_type_name, std::string_view helper_name) {
    auto type = program_type_from_name(program_type_name);
    auto id = helper_from_name(helper_name);
    if (!type || !id) {
        return {std::nullopt, "helper bpf_" + std::string(helper_name) + " for " +
                                  std::string(program_type_name) + " is unknown to this build"};
    }
    const std::pair<int, int> key{*type, *id};
    auto it = m_helpers.find(key);
    if (it != m_helpers.end()) {
        return it->second;
    }
    Availability result = program_type(program_type_name);
    if (result.available == true) {
        result = from_result(m_kernel.helper(*type, *id), "probing helper bpf_" + std::string(helper_name) +
                                                              " for " + std::string(program_type_name));
    } else if (result.available == false) {
        // A program type the kernel lacks cannot call anything.
        result = {false, {}};
    }
    m_helpers.emplace(key, result);
    return result;
}

Availability BpfFeatures::jit() {
    if (!m_jit) {
        if (auto why = blocked()) {
            m_jit = *why;
        } else {
            m_jit = from_result(m_kernel.jit(), "loading a test program");
        }
    }
    return *m_jit;
}

BpfFacts gather_bpf(const Host& host, BpfFeatures* features,
                    const std::vector<std::pair<std::string, std::string>>& helpers,
                    std::string skip_reason) {
    BpfFacts facts;
    facts.unprivileged_bpf_disabled = read_sysctl(host, "sys/kernel/unprivileged_bpf_disabled");
    facts.jit_enable = read_sysctl(host, "sys/net/core/bpf_jit_enable");
    facts.jit_harden = read_sysctl(host, "sys/net/core/bpf_jit_harden");
    facts.jit_kallsyms = read_sysctl(host, "sys/net/core/bpf_jit_kallsyms");
    facts.jit_limit = read_sysctl(host, "sys/net/core/bpf_jit_limit");
    if (features == nullptr) {
        facts.error = std::move(skip_reason);
        return facts;
    }
    facts.probed = true;
    const Availability syscall = features->syscall();
    facts.syscall = syscall.available;
    std::string first_reason = syscall.reason;
    const auto note = [&](const Availability& availability) {
        if (first_reason.empty() && !availability.reason.empty()) {
            first_reason = availability.reason;
        }
        return availability.available;
    };
    for (auto& name : libbpf_program_types()) {
        const auto available = note(features->program_type(name));
        facts.program_types.push_back({std::move(name), available});
    }
    for (auto& name : libbpf_map_types()) {
        const auto available = note(features->map_type(name));
        facts.map_types.push_back({std::move(name), available});
    }
    for (const auto& [type, helper] : helpers) {
        facts.helpers.push_back({type, helper, note(features->helper(type, helper))});
    }
    facts.jited = note(features->jit());
    facts.error = first_reason;
    return facts;
}

BtfFacts read_btf(const Host& host) {
    BtfFacts facts;
    const auto vmlinux = host.in_sys("kernel/btf/vmlinux");
    struct stat st {};
    if (::stat(vmlinux.c_str(), &st) == 0) {
        facts.vmlinux = S_ISREG(st.st_mode);
        if (!S_ISREG(st.st_mode)) {
            facts.error = vmlinux.string() + ": not a regular file";
        }
        return facts;
    }
    const int err = errno;
    // Absent vmlinux only means "no BTF" when sysfs itself is there to ask.
    const auto kernel_dir = host.in_sys("kernel");
    if (err == ENOENT && ::stat(kernel_dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        facts.vmlinux = false;
        return facts;
    }
    facts.error = err == ENOENT ? path_error(kernel_dir, ENOENT) + " (is sysfs mounted there?)"
                                : path_error(vmlinux, err);
    return facts;
}

} // namespace meshlink::probe
