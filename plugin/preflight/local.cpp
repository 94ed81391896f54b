#include "plugin/preflight/local.hpp"

#include "probe/report.hpp"

#include <cstdlib>
#include <memory>
#include <optional>

namespace meshlink::plugin::preflight {

std::vector<Check> local_checks(const LocalOptions& options) {
    probe::ProbeOptions probe_options;
    probe_options.host = options.host;
    std::unique_ptr<probe::BpfKernel> kernel;
    std::optional<probe::BpfFeatures> features;
    if (options.bpf) {
        kernel = probe::make_libbpf_kernel();
        features.emplace(*kernel);
        probe_options.bpf = &*features;
    }
    const probe::NodeFacts facts = probe::gather(probe_options);
    const std::string node = facts.node.empty() ? std::string("this machine") : facts.node;
    std::vector<Check> out;
    for (auto& verdict : probe::evaluate(facts, options.cilium)) {
        Check check = from_probe(std::move(verdict), "local");
        check.message = node + ": " + check.message;
        NodeCounts counts;
        counts.total = 1;
        counts.pass = check.status == Status::pass ? 1 : 0;
        counts.warn = check.status == Status::warn ? 1 : 0;
        counts.fail = check.status == Status::fail ? 1 : 0;
        counts.unknown = check.status == Status::unknown ? 1 : 0;
        if (check.status == Status::fail) {
            counts.failing.push_back(node);
        }
        check.nodes = std::move(counts);
        out.push_back(std::move(check));
    }
    return out;
}

} // namespace meshlink::plugin::preflight
