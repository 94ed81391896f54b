// bench/probe-core: the same work as `meshlink-agent probe -o json` (every fact, live BPF probes, verdicts,
// JSON) in a binary that links only the probe library. bench/probe runs it next to the agent to show what
// the probe itself costs, apart from the shared libraries the agent binary loads at exec for its other verbs.

#include "probe/report.hpp"

#include <cstdio>
#include <iostream>

namespace probe = meshlink::probe;

int main() {
    auto kernel = probe::make_libbpf_kernel();
    probe::BpfFeatures features(*kernel);
    probe::ProbeOptions options;
    options.bpf = &features;
    const auto report = probe::make_report(options, probe::newest_cilium());
    std::cout << probe::to_json_text(report, 2) << "\n";
    return probe::any_failed(report.checks) ? 1 : 0;
}
