#pragma once
// The node probe: gathers every fact about a node (probe/*.hpp, one file per fact family) without judging
// them; checks.hpp turns facts into verdicts for a Cilium version, report.hpp into the JSON document.

#include "probe/boot.hpp"
#include "probe/bpf.hpp"
#include "probe/host.hpp"
#include "probe/kconfig.hpp"
#include "probe/kernel_release.hpp"
#include "probe/kmod.hpp"
#include "probe/mounts.hpp"
#include "probe/os_release.hpp"

#include <string>

namespace meshlink::probe {

struct NodeFacts {
    std::string node;
    KernelRelease kernel;
    OsRelease os;
    KconfigFacts kconfig;
    BtfFacts btf;
    BpfFacts bpf;
    ModuleFacts modules;
    BootFacts boot;
    MountFacts mounts;
};

struct ProbeOptions {
    Host host;
    std::string node_name;      // empty: the host name from <proc>/sys/kernel/hostname
    BpfFeatures* bpf = nullptr; // nullptr: no runtime BPF probes, see bpf_skip_reason
    std::string bpf_skip_reason = "runtime BPF probes skipped (--skip-bpf)";
};

// Reads every fact. Never throws for what the node lacks or hides: each family records "unknown" and why.
NodeFacts gather(const ProbeOptions& options);

} // namespace meshlink::probe
