// node.*: the agents' reports (node_reports.hpp) as one check per probe check and cluster, plus whether
// every node reported at all.

#include "plugin/defaults.hpp"
#include "plugin/preflight/checks.hpp"
#include "probe/checks.hpp"
#include "probe/defaults.hpp"

#include <fmt/format.h>

namespace meshlink::plugin::preflight {
namespace {

Check make(std::string_view id, const ClusterFacts& facts) {
    return Check{std::string(id), Scope::node, facts.context, Status::unknown, {}, {}, std::nullopt};
}

std::string names(const std::vector<std::string>& list, std::size_t limit = 5) {
    std::string out;
    for (std::size_t i = 0; i < list.size() && i < limit; ++i) {
        out += (i == 0 ? "" : ", ") + list[i];
    }
    if (list.size() > limit) {
        out += fmt::format(" and {} more", list.size() - limit);
    }
    return out;
}

std::string plural(std::size_t n, std::string_view word) {
    return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// The probe's own checks, reported as unknown when no node gave a usable report.
const std::vector<std::string_view>& core_probe_ids() {
    static const std::vector<std::string_view> ids{probe::check_id::kernel_version,
                                                   probe::check_id::kernel_config,
                                                   probe::check_id::kernel_btf,
                                                   probe::check_id::bpf_features,
                                                   probe::check_id::bpf_jit,
                                                   probe::check_id::modules,
                                                   probe::check_id::bpffs,
                                                   probe::check_id::cgroup2,
                                                   probe::check_id::os,
                                                   probe::check_id::boot};
    return ids;
}

// How staleness was judged, when not by every node's Lease (probe/node_report.hpp).
std::string liveness_clause(const NodeReports& reports) {
    if (!reports.leases_problem.empty()) {
        return fmt::format("; staleness judged by observedAt: the agents' Leases could not be read ({})",
                           reports.leases_problem);
    }
    if (reports.judged_by_observed_at > 0) {
        return fmt::format("; {} without a Lease judged by observedAt",
                           plural(static_cast<std::size_t>(reports.judged_by_observed_at), "report"));
    }
    return {};
}

Check report_present(const ClusterFacts& facts, const NodeReports& reports) {
    Check check = make(check_id::report_present, facts);
    NodeCounts counts;
    counts.total = reports.total;
    counts.pass = reports.fresh;
    counts.warn = static_cast<int>(reports.stale.size());
    counts.missing = static_cast<int>(reports.missing.size() + reports.unreadable.size());
    for (const auto& name : reports.missing) {
        counts.failing.push_back(name);
    }
    for (const auto& [name, why] : reports.unreadable) {
        counts.failing.push_back(name);
    }
    check.nodes = counts;
    const std::string install =
        fmt::format("{} --context {}", defaults::k_agent_install_command, facts.context);
    if (reports.total == 0) {
        check.status = Status::warn;
        check.message = "the cluster has no nodes";
        return check;
    }
    if (counts.missing > 0) {
        std::vector<std::string> parts;
        if (!reports.missing.empty()) {
            parts.push_back(fmt::format("{} without a report: {}", plural(reports.missing.size(), "node"),
                                        names(reports.missing)));
        }
        if (!reports.unreadable.empty()) {
            parts.push_back(fmt::format("{} with an unusable report ({}: {})",
                                        plural(reports.unreadable.size(), "node"),
                                        reports.unreadable.front().first, reports.unreadable.front().second));
        }
        check.status = Status::fail;
        check.message =
            fmt::format("{} of {} nodes reported: {}", reports.fresh + static_cast<int>(reports.stale.size()),
                        reports.total, fmt::join(parts, "; "));
        check.hint =
            reports.missing.empty()
                ? "upgrade the agent to this plugin's version: " + install
                : fmt::format(
                      "install the node agent, which publishes the reports: {} (or judge this machine "
                      "alone with --local)",
                      install);
        return check;
    }
    if (!reports.stale.empty()) {
        check.status = Status::warn;
        check.message = fmt::format(
            "{} of {} reports are stale (their agents were not heard from for {} probe intervals): "
            "{}{}",
            reports.stale.size(), reports.total, probe::defaults::k_stale_intervals, names(reports.stale),
            liveness_clause(reports));
        check.hint = fmt::format("is the agent running on them? kubectl meshlink agent status --context {}",
                                 facts.context);
        return check;
    }
    check.status = Status::pass;
    check.message = fmt::format("all {} reported, judged for {}{}", plural(reports.total, "node"),
                                facts.node_cilium_source, liveness_clause(reports));
    return check;
}

Check tally_check(const ClusterFacts& facts, const NodeCheckTally& tally) {
    Check check = make(tally.id, facts);
    check.nodes = tally.counts;
    const auto& c = tally.counts;
    const int reported = c.pass + c.warn + c.fail + c.unknown;
    check.status = tally.worst;
    switch (tally.worst) {
    case Status::fail:
        check.message = fmt::format("{} of {} fail: {}: {}", c.fail, plural(reported, "node"),
                                    names(c.failing), tally.worst_message);
        break;
    case Status::warn:
        check.message = fmt::format("{} of {} warn; {}: {}", c.warn, plural(reported, "node"),
                                    tally.worst_node, tally.worst_message);
        break;
    case Status::unknown:
        check.message = fmt::format("unknown on {} of {}; {}: {}", c.unknown, plural(reported, "node"),
                                    tally.worst_node, tally.worst_message);
        break;
    case Status::pass:
        check.message =
            fmt::format("{} pass ({}: {})",
                        reported == 1 ? std::string("the node") : fmt::format("all {} nodes", reported),
                        tally.worst_node, tally.worst_message);
        break;
    }
    check.hint = tally.worst == Status::pass ? std::string() : tally.worst_hint;
    return check;
}

} // namespace

bool node_check_applies(std::string_view id, const CiliumConfig* config) {
    if (config == nullptr || !id.starts_with("node.feature.")) {
        return true;
    }
    const auto get = [&](std::string_view key) {
        auto it = config->find(key);
        return it == config->end() ? std::string() : it->second;
    };
    const std::string_view feature = id.substr(std::string_view("node.feature.").size());
    if (feature == "tunnel") {
        return datapath(*config).routing_mode == "tunnel";
    }
    if (feature == "wireguard") {
        return get("enable-wireguard") == "true";
    }
    if (feature == "ipsec") {
        return get("enable-ipsec") == "true";
    }
    if (feature == "kube-proxy-replacement") {
        return kube_proxy_replacement(*config);
    }
    if (feature == "netkit") {
        return get("datapath-mode").starts_with("netkit");
    }
    if (feature == "bandwidth-manager") {
        return get("enable-bandwidth-manager") == "true";
    }
    if (feature == "host-routing") {
        // BPF host routing is used when the kernel allows it and Cilium falls back silently; it matters only
        // when the legacy path was switched off explicitly.
        return get("enable-host-legacy-routing") == "false";
    }
    if (feature == "iptables-masquerade") {
        return get("enable-ipv4-masquerade") != "false" && get("enable-bpf-masquerade") != "true";
    }
    if (feature == "l7-proxy") {
        return get("enable-l7-proxy") != "false";
    }
    return true; // a feature this plugin does not know yet: show it
}

std::vector<Check> node_checks(const ClusterFacts& facts) {
    std::vector<Check> out;
    if (!facts.nodes || !facts.nodes->has_value()) {
        const std::string why =
            !facts.nodes ? (facts.reachable() ? std::string("node reports not read")
                                              : std::string("not checked: the API server did not answer"))
                         : "nodes unreadable: " + facts.nodes->error().message;
        Check present = make(check_id::report_present, facts);
        present.message = why;
        out.push_back(std::move(present));
        for (auto id : core_probe_ids()) {
            Check check = make(id, facts);
            check.message = why;
            out.push_back(std::move(check));
        }
        return out;
    }
    const NodeReports& reports = facts.nodes->value();
    out.push_back(report_present(facts, reports));
    if (reports.checks.empty()) {
        for (auto id : core_probe_ids()) {
            Check check = make(id, facts);
            check.message = "no node report to judge";
            NodeCounts counts;
            counts.total = reports.total;
            counts.missing = reports.total;
            check.nodes = counts;
            out.push_back(std::move(check));
        }
        return out;
    }
    for (const auto& tally : reports.checks) {
        out.push_back(tally_check(facts, tally));
    }
    return out;
}

} // namespace meshlink::plugin::preflight
