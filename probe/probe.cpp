#include "probe/probe.hpp"

#include "probe/report.hpp"
#include "probe/requirements.hpp"

namespace meshlink::probe {

NodeFacts gather(const ProbeOptions& options) {
    const Host& host = options.host;
    NodeFacts facts;
    facts.node = options.node_name;
    if (facts.node.empty()) {
        FileText hostname = read_text(host.in_proc("sys/kernel/hostname"), 256);
        if (hostname.text) {
            facts.node = std::string(trim(*hostname.text));
        }
    }
    facts.kernel = read_kernel_release(host);
    facts.os = read_os_release(host);
    facts.kconfig = read_kconfig(host, facts.kernel.release);
    facts.btf = read_btf(host);

    std::vector<std::pair<std::string, std::string>> helpers;
    for (const auto& need : reported_helpers()) {
        helpers.emplace_back(need.program_type, need.helper);
    }
    facts.bpf = gather_bpf(host, options.bpf, helpers, options.bpf_skip_reason);
    facts.modules = probe_modules(host, facts.kernel.release, reported_modules());
    facts.boot = read_boot(host);
    facts.mounts = read_mounts(host);
    return facts;
}

// Here, not in report.cpp: it is the one report function that gathers, so report.cpp stays in
// meshlink_probe_core, free of the kernel-facing code.
Report make_report(const ProbeOptions& options, CiliumVersion cilium) {
    Report report;
    report.cilium = cilium;
    (void)requirements_for(cilium, &report.extrapolated);
    report.facts = gather(options);
    report.checks = evaluate(report.facts, cilium);
    return report;
}

} // namespace meshlink::probe
