#pragma once
// `preflight --local`: the node probe run on this machine instead of reading the agents' reports.

#include "plugin/preflight/check.hpp"
#include "probe/host.hpp"
#include "probe/requirements.hpp"

#include <string>
#include <vector>

namespace meshlink::plugin::preflight {

struct LocalOptions {
    probe::Host host; // default: /, /proc, /sys
    bool bpf = true;  // run the live BPF probes (they need privileges; unknown without)
    probe::CiliumVersion cilium;
    std::string cilium_source; // for the summary line: "--cilium-version", "cluster01's Cilium 1.16.12"
};

// The probe's checks for this machine, scope node, cluster "local", each with node counts of one.
std::vector<Check> local_checks(const LocalOptions& options);

} // namespace meshlink::plugin::preflight
