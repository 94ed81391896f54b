#include "probe/requirements.hpp"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <utility>

namespace meshlink::probe {
namespace {

// Documentation/operations/system_requirements.rst, "Base Requirements": the same list for every release
// this table covers. "When an option can be built as a module or statically linked, either choice is valid."
// Tables are function-local statics: other translation units read them during their own static
// initialisation (tests do), before namespace-scope objects here would exist.
std::vector<std::string_view> base_options() {
    return {
        "CONFIG_BPF",         "CONFIG_BPF_SYSCALL",     "CONFIG_NET_CLS_BPF", "CONFIG_BPF_JIT",
        "CONFIG_NET_CLS_ACT", "CONFIG_NET_SCH_INGRESS", "CONFIG_CRYPTO_SHA1", "CONFIG_CRYPTO_USER_API_HASH",
        "CONFIG_CGROUPS",     "CONFIG_CGROUP_BPF",      "CONFIG_PERF_EVENTS", "CONFIG_SCHEDSTATS",
    };
}

// The core datapath: programs attached at tc, and the map types every Cilium release creates (all of them
// exist since 4.11, below every minimum in the table).
std::vector<std::string_view> base_program_types() {
    return {"sched_cls"};
}
std::vector<std::string_view> base_map_types() {
    return {"hash",        "array",        "prog_array", "perf_event_array",
            "percpu_hash", "percpu_array", "lru_hash",   "lpm_trie"};
}

// From 1.18 the 5.10 minimum lets Cilium rely on these (all are in 5.10, and RHEL 8.10 backports them).
std::vector<HelperNeed> helpers_5_10() {
    return {
        {"sched_cls", "redirect_neigh"},
        {"sched_cls", "redirect_peer"},
        {"sched_cls", "fib_lookup"},
        {"cgroup_sock_addr", "get_netns_cookie"},
    };
}

std::vector<std::string_view> with(std::vector<std::string_view> list,
                                   std::initializer_list<std::string_view> more) {
    list.insert(list.end(), more.begin(), more.end());
    return list;
}

const std::vector<CiliumRequirements>& rows() {
    static const std::vector<CiliumRequirements> table{
        {
            .first = {1, 0},
            .last = {1, 12},
            .min_kernel = {4, 9, 17},
            .exception = std::nullopt,
            .source = "cilium/cilium PR #10537: \"Cilium requires Linux kernel 4.9.17 or higher\"",
            .options = base_options(),
            .program_types = base_program_types(),
            .map_types = base_map_types(),
        },
        {
            .first = {1, 13},
            .last = {1, 15},
            .min_kernel = {4, 19, 57},
            .exception = KernelException{"RHEL 8", {4, 18, 0}, 8, 0},
            .source = "cilium/cilium PR #23124, #23951: \"4.19.57 or equivalent (e.g., 4.18 on RHEL8)\"",
            .options = base_options(),
            .program_types = base_program_types(),
            .map_types = base_map_types(),
        },
        {
            .first = {1, 16},
            .last = {1, 17},
            .min_kernel = {5, 4, 0},
            .exception = KernelException{"RHEL 8.6", {4, 18, 0}, 8, 372},
            .source = "cilium/cilium PR #36386, #30869: 5.4, or 4.18 on RHEL 8.6",
            .options = base_options(),
            .program_types = base_program_types(),
            .map_types = base_map_types(),
        },
        {
            .first = {1, 18},
            .last = {1, 19},
            .min_kernel = {5, 10, 0},
            .exception = KernelException{"RHEL 8.10", {4, 18, 0}, 8, 553},
            .source = "cilium/cilium PR #42081: \"With v1.18 we bumped the minimum kernel version to 5.10\"",
            .options = base_options(),
            .jit_required = true, // 1.18 probes with real bpf() and has no optional dependencies (PR #39438)
            .program_types = with(base_program_types(), {"cgroup_sock_addr"}),
            .map_types = base_map_types(),
            .helpers = helpers_5_10(),
        },
        {
            .first = {1, 20},
            .last = {1, 20},
            .min_kernel = {5, 10, 0},
            .exception = KernelException{"RHEL 8.10", {4, 18, 0}, 8, 553},
            .source = "cilium/cilium PR #42081 (5.10) and PR #46063 (BTF required)",
            .options = base_options(),
            .btf_required = true, // PR #46063: "Cilium requires the kernel config CONFIG_DEBUG_INFO_BTF"
            .jit_required = true,
            .program_types = with(base_program_types(), {"cgroup_sock_addr"}),
            .map_types = base_map_types(),
            .helpers = helpers_5_10(),
        },
    };
    return table;
}

// Documentation/operations/system_requirements.rst, "Requirements for ..." sections, and
// Documentation/network/kubernetes/kubeproxy-free.rst.
const std::vector<FeatureRequirement>& features() {
    static const std::vector<FeatureRequirement> table{
        {
            .id = "node.feature.tunnel",
            .name = "VXLAN/Geneve tunnel",
            .helm = "routingMode=tunnel (the default), tunnelProtocol=vxlan|geneve",
            .any_option = true,
            .options = {"CONFIG_VXLAN", "CONFIG_GENEVE"},
            .without = "use native routing (routingMode=native) with routes between the nodes",
        },
        {
            .id = "node.feature.wireguard",
            .name = "WireGuard encryption",
            .helm = "encryption.enabled=true, encryption.type=wireguard",
            .min_kernel = {5, 6, 0},
            .options = {"CONFIG_WIREGUARD"},
            .without =
                "use IPsec, or Cilium's slower userspace fallback (--enable-wireguard-userspace-fallback)",
        },
        {
            .id = "node.feature.host-routing",
            .name = "BPF host routing",
            .helm =
                "bpf.masquerade=true with kubeProxyReplacement=true (enabled automatically when supported)",
            .min_kernel = {5, 10, 0},
            .program_types = {"sched_cls"},
            .helpers = {{"sched_cls", "redirect_neigh"}, {"sched_cls", "redirect_peer"}},
            .without = "Cilium falls back to legacy host routing through the kernel's stack (slower, works)",
        },
        {
            .id = "node.feature.kube-proxy-replacement",
            .name = "kube-proxy replacement (socket LB)",
            .helm = "kubeProxyReplacement=true",
            .program_types = {"cgroup_sock_addr"},
            .helpers = {{"cgroup_sock_addr", "get_netns_cookie"}},
            .needs_cgroup2 = true,
            .without = "keep kube-proxy (kubeProxyReplacement=false); with true, the Cilium agent bails out",
        },
        {
            .id = "node.feature.netkit",
            .name = "netkit device mode",
            .helm = "bpf.datapathMode=netkit",
            .min_kernel = {6, 7, 0},
            .options = {"CONFIG_NETKIT"},
            .option_must_be_builtin = true,
            .without = "keep the veth datapath mode (the default)",
        },
        {
            .id = "node.feature.bandwidth-manager",
            .name = "Bandwidth Manager",
            .helm = "bandwidthManager.enabled=true",
            .options = {"CONFIG_NET_SCH_FQ"},
            .without = "leave bandwidthManager.enabled=false (the default)",
        },
        {
            .id = "node.feature.iptables-masquerade",
            .name = "iptables masquerading",
            .helm = "bpf.masquerade=false (the default)",
            .options = {"CONFIG_NETFILTER_XT_SET", "CONFIG_IP_SET", "CONFIG_IP_SET_HASH_IP",
                        "CONFIG_NETFILTER_XT_MATCH_COMMENT"},
            .without = "use BPF masquerading (bpf.masquerade=true)",
        },
        {
            .id = "node.feature.l7-proxy",
            .name = "L7 and FQDN proxy",
            .helm = "l7Proxy=true (the default)",
            .options = {"CONFIG_NETFILTER_XT_TARGET_TPROXY", "CONFIG_NETFILTER_XT_TARGET_MARK",
                        "CONFIG_NETFILTER_XT_TARGET_CT", "CONFIG_NETFILTER_XT_MATCH_MARK",
                        "CONFIG_NETFILTER_XT_MATCH_SOCKET"},
            .without = "L7 and FQDN policies do not work; set l7Proxy=false if you use neither",
        },
        {
            .id = "node.feature.ipsec",
            .name = "IPsec encryption",
            .helm = "encryption.enabled=true, encryption.type=ipsec",
            .options = {"CONFIG_XFRM",
                        "CONFIG_XFRM_OFFLOAD",
                        "CONFIG_XFRM_STATISTICS",
                        "CONFIG_XFRM_ALGO",
                        "CONFIG_XFRM_USER",
                        "CONFIG_INET_ESP",
                        "CONFIG_INET6_ESP",
                        "CONFIG_INET_IPCOMP",
                        "CONFIG_INET6_IPCOMP",
                        "CONFIG_INET_XFRM_TUNNEL",
                        "CONFIG_INET6_XFRM_TUNNEL",
                        "CONFIG_INET_TUNNEL",
                        "CONFIG_INET6_TUNNEL",
                        "CONFIG_CRYPTO_AEAD",
                        "CONFIG_CRYPTO_AEAD2",
                        "CONFIG_CRYPTO_GCM",
                        "CONFIG_CRYPTO_SEQIV",
                        "CONFIG_CRYPTO_CBC",
                        "CONFIG_CRYPTO_HMAC",
                        "CONFIG_CRYPTO_SHA256",
                        "CONFIG_CRYPTO_AES"},
            .without = "use WireGuard, or leave encryption off",
        },
    };
    return table;
}

// Standard kbuild object names (net/sched/Makefile, drivers/net/Makefile, net/netfilter/Makefile, ...).
// Options without an entry are bool-only, or their module name changed between kernels (the crypto ones),
// so a module lookup could contradict a correct config.
constexpr std::pair<std::string_view, std::string_view> k_option_modules[] = {
    {"CONFIG_NET_CLS_BPF", "cls_bpf"},
    {"CONFIG_NET_SCH_INGRESS", "sch_ingress"},
    {"CONFIG_CRYPTO_USER_API_HASH", "algif_hash"},
    {"CONFIG_VXLAN", "vxlan"},
    {"CONFIG_GENEVE", "geneve"},
    {"CONFIG_WIREGUARD", "wireguard"},
    {"CONFIG_NET_SCH_FQ", "sch_fq"},
    {"CONFIG_NETFILTER_XT_SET", "xt_set"},
    {"CONFIG_IP_SET", "ip_set"},
    {"CONFIG_IP_SET_HASH_IP", "ip_set_hash_ip"},
    {"CONFIG_NETFILTER_XT_MATCH_COMMENT", "xt_comment"},
    {"CONFIG_NETFILTER_XT_TARGET_TPROXY", "xt_TPROXY"},
    {"CONFIG_NETFILTER_XT_TARGET_MARK", "xt_mark"}, // the MARK target lives in xt_mark.ko
    {"CONFIG_NETFILTER_XT_TARGET_CT", "xt_CT"},
    {"CONFIG_NETFILTER_XT_MATCH_MARK", "xt_mark"},
    {"CONFIG_NETFILTER_XT_MATCH_SOCKET", "xt_socket"},
    {"CONFIG_XFRM_USER", "xfrm_user"},
    {"CONFIG_XFRM_ALGO", "xfrm_algo"},
    {"CONFIG_INET_ESP", "esp4"},
    {"CONFIG_INET6_ESP", "esp6"},
    {"CONFIG_INET_IPCOMP", "ipcomp"},
    {"CONFIG_INET6_IPCOMP", "ipcomp6"},
    {"CONFIG_INET_XFRM_TUNNEL", "xfrm4_tunnel"},
    {"CONFIG_INET6_XFRM_TUNNEL", "xfrm6_tunnel"},
    {"CONFIG_INET_TUNNEL", "tunnel4"},
    {"CONFIG_INET6_TUNNEL", "tunnel6"},
};

// pkg/datapath/iptables/iptables.go: FindOrLoadModules(...) for IPv4, then IPv6.
constexpr std::string_view k_iptables_modules[] = {
    "ip_tables",  "iptable_nat",     "iptable_mangle", "iptable_raw",     "iptable_filter",
    "ip6_tables", "ip6table_mangle", "ip6table_raw",   "ip6table_filter",
};

// The kernel options `bpftool feature probe` reports (bpftool src/feature.c), so the report lines up with
// it, plus the ones that say whether /proc/config.gz can exist and netkit.
constexpr std::string_view k_informational_options[] = {
    "CONFIG_HAVE_EBPF_JIT",
    "CONFIG_BPF_JIT_ALWAYS_ON",
    "CONFIG_DEBUG_INFO_BTF",
    "CONFIG_DEBUG_INFO_BTF_MODULES",
    "CONFIG_CGROUP_NET_CLASSID",
    "CONFIG_SOCK_CGROUP_DATA",
    "CONFIG_BPF_EVENTS",
    "CONFIG_KPROBE_EVENTS",
    "CONFIG_UPROBE_EVENTS",
    "CONFIG_TRACING",
    "CONFIG_FTRACE_SYSCALLS",
    "CONFIG_FUNCTION_ERROR_INJECTION",
    "CONFIG_BPF_KPROBE_OVERRIDE",
    "CONFIG_NET",
    "CONFIG_XDP_SOCKETS",
    "CONFIG_LWTUNNEL_BPF",
    "CONFIG_NET_ACT_BPF",
    "CONFIG_IP_ROUTE_CLASSID",
    "CONFIG_IPV6_SEG6_BPF",
    "CONFIG_BPF_LIRC_MODE2",
    "CONFIG_BPF_STREAM_PARSER",
    "CONFIG_NETFILTER_XT_MATCH_BPF",
    "CONFIG_BPFILTER",
    "CONFIG_BPFILTER_UMH",
    "CONFIG_TEST_BPF",
    "CONFIG_IKCONFIG",
    "CONFIG_IKCONFIG_PROC",
    "CONFIG_MODULES",
};

void add_unique(std::vector<std::string_view>& list, std::string_view item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) {
        list.push_back(item);
    }
}

} // namespace

std::string to_string(const CiliumVersion& version) {
    return std::to_string(version.major) + "." + std::to_string(version.minor);
}

std::optional<CiliumVersion> parse_cilium_version(std::string_view text) {
    if (!text.empty() && (text.front() == 'v' || text.front() == 'V')) {
        text.remove_prefix(1);
    }
    int parts[3] = {0, 0, 0};
    std::size_t count = 0;
    std::size_t pos = 0;
    while (count < 3) {
        const std::size_t start = pos;
        int value = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos - start < 4) {
            value = value * 10 + (text[pos] - '0');
            ++pos;
        }
        if (pos == start) {
            return std::nullopt;
        }
        parts[count++] = value;
        if (pos == text.size()) {
            break;
        }
        if (text[pos] != '.') {
            return std::nullopt;
        }
        ++pos;
    }
    if (pos != text.size() || count < 2 || parts[0] != 1) {
        return std::nullopt; // only Cilium 1.x exists
    }
    return CiliumVersion{parts[0], parts[1]};
}

const std::vector<CiliumRequirements>& cilium_requirements() {
    return rows();
}

const std::vector<FeatureRequirement>& feature_requirements() {
    return features();
}

const CiliumRequirements& requirements_for(CiliumVersion version, bool* extrapolated) {
    if (extrapolated != nullptr) {
        *extrapolated = version > rows().back().last;
    }
    for (const auto& row : rows()) {
        if (version <= row.last) {
            return row;
        }
    }
    return rows().back();
}

CiliumVersion newest_cilium() {
    return rows().back().last;
}

std::string_view module_for_option(std::string_view option) {
    for (const auto& [name, module] : k_option_modules) {
        if (name == option) {
            return module;
        }
    }
    return {};
}

const std::vector<std::string_view>& iptables_modules() {
    static const std::vector<std::string_view> list(std::begin(k_iptables_modules),
                                                    std::end(k_iptables_modules));
    return list;
}

std::vector<std::string_view> reported_options() {
    std::vector<std::string_view> out;
    for (const auto& row : rows()) {
        for (auto option : row.options) {
            add_unique(out, option);
        }
    }
    for (const auto& feature : features()) {
        for (auto option : feature.options) {
            add_unique(out, option);
        }
    }
    for (auto option : k_informational_options) {
        add_unique(out, option);
    }
    return out;
}

std::vector<std::string_view> reported_modules() {
    std::vector<std::string_view> out;
    for (auto option : reported_options()) {
        if (auto module = module_for_option(option); !module.empty()) {
            add_unique(out, module);
        }
    }
    for (auto module : k_iptables_modules) {
        add_unique(out, module);
    }
    return out;
}

std::vector<HelperNeed> reported_helpers() {
    std::vector<HelperNeed> out;
    const auto add = [&](const HelperNeed& need) {
        for (const auto& have : out) {
            if (have.program_type == need.program_type && have.helper == need.helper) {
                return;
            }
        }
        out.push_back(need);
    };
    for (const auto& row : rows()) {
        for (const auto& need : row.helpers) {
            add(need);
        }
    }
    for (const auto& feature : features()) {
        for (const auto& need : feature.helpers) {
            add(need);
        }
    }
    // XDP programs use fib_lookup for NodePort acceleration (the {XDP, FnFibLookup} header probe).
    add({"xdp", "fib_lookup"});
    return out;
}

} // namespace meshlink::probe
