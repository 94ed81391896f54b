// mesh.*: what two clusters must agree on, or differ in, to mesh (docs/cilium-clustermesh.md, "What preflight
// reads", "Identical NodePorts", "Different CAs").

#include "plugin/defaults.hpp"
#include "plugin/preflight/checks.hpp"

#include <fmt/format.h>

namespace meshlink::plugin::preflight {
namespace {

struct Pair {
    const ClusterFacts& a;
    const ClusterFacts& b;
    [[nodiscard]] std::string label() const { return a.context + "," + b.context; }
};

Check make(std::string_view id, const Pair& pair) {
    return Check{std::string(id), Scope::mesh, pair.label(), Status::unknown, {}, {}, std::nullopt};
}

// Both clusters' cilium-config, or nullptrs with the reason in `check`.
bool both_configs(const Pair& pair, Check& check) {
    for (const ClusterFacts* side : {&pair.a, &pair.b}) {
        if (side->cilium_config() == nullptr) {
            check.message = fmt::format("not checked: no cilium-config from {}", side->context);
            return false;
        }
    }
    return true;
}

std::string config_or(const ClusterFacts& facts, std::string_view key, std::string fallback) {
    return facts.config_value(key).value_or(std::move(fallback));
}

// A cilium-config value the two clusters must not share (cluster-name, cluster-id). `clash(value)` words the
// failure, `apart(a, b)` the pass; `hint` says how to change one.
template <typename Clash, typename Apart>
Check unique_value(const Pair& p, std::string_view id, std::string_view key, Clash clash, Apart apart,
                   std::string hint) {
    Check check = make(id, p);
    if (!both_configs(p, check)) {
        return check;
    }
    const auto a = p.a.config_value(key);
    const auto b = p.b.config_value(key);
    if (!a || !b) {
        check.message = fmt::format("not checked: {} is not set in {}", key, !a ? p.a.context : p.b.context);
    } else if (*a == *b) {
        check.status = Status::fail;
        check.message = clash(*a);
        check.hint = std::move(hint);
    } else {
        check.status = Status::pass;
        check.message = apart(*a, *b);
    }
    return check;
}

Check name_unique(const Pair& p) {
    return unique_value(
        p, check_id::name_unique, "cluster-name",
        [&](const std::string& name) {
            return fmt::format("{} and {} are both named \"{}\"", p.a.context, p.b.context, name);
        },
        [&](const std::string& a, const std::string& b) {
            return fmt::format("\"{}\" ({}) and \"{}\" ({})", a, p.a.context, b, p.b.context);
        },
        "rename one: " + helm_set("cluster.name=NAME"));
}

Check id_unique(const Pair& p) {
    return unique_value(
        p, check_id::id_unique, "cluster-id",
        [&](const std::string& id) {
            return fmt::format("{} and {} both have cluster-id {}", p.a.context, p.b.context, id);
        },
        [&](const std::string& a, const std::string& b) {
            return fmt::format("{} ({}) and {} ({})", a, p.a.context, b, p.b.context);
        },
        "change one: " + helm_set("cluster.id=ID") + ", then restart its Cilium agents and workloads");
}

// Both readings of a CIDR fact, or false with the reason in `check`.
bool both_cidrs(const Pair& p, Reading<Cidrs> ClusterFacts::*member, std::string_view what, Check& check) {
    for (const ClusterFacts* side : {&p.a, &p.b}) {
        const auto& reading = side->*member;
        if (!reading) {
            check.message = fmt::format("not checked: {} of {} not read", what, side->context);
            return false;
        }
        if (!reading->has_value()) {
            check.message =
                fmt::format("{} of {} unknown: {}", what, side->context, reading->error().message);
            return false;
        }
    }
    return true;
}

std::string side_text(const ClusterFacts& facts, const Cidrs& cidrs) {
    return fmt::format("{} {} (from {})", facts.context, describe(cidrs.prefixes), cidrs.source);
}

Check pod_overlap(const Pair& p) {
    Check check = make(check_id::pod_cidr_overlap, p);
    if (!both_cidrs(p, &ClusterFacts::pod_cidrs, "pod CIDRs", check)) {
        return check;
    }
    const Cidrs& a = p.a.pod_cidrs->value();
    const Cidrs& b = p.b.pod_cidrs->value();
    const auto shared = overlapping(a.prefixes, b.prefixes);
    if (!shared.empty()) {
        std::string pairs;
        for (const auto& [x, y] : shared) {
            pairs += (pairs.empty() ? "" : ", ") + fmt::format("{} with {}", x.text, y.text);
        }
        check.status = Status::fail;
        check.message =
            fmt::format("pod CIDRs overlap: {}; {} and {}", pairs, side_text(p.a, a), side_text(p.b, b));
        check.hint = "give each cluster its own pod range (ipam.operator.clusterPoolIPv4PodCIDRList, or the "
                     "controller manager's --cluster-cidr); Cilium's default 10.0.0.0/8 collides everywhere";
        return check;
    }
    check.status = Status::pass;
    check.message = fmt::format("disjoint: {}; {}", side_text(p.a, a), side_text(p.b, b));
    return check;
}

Check service_overlap(const Pair& p) {
    Check check = make(check_id::service_cidr_overlap, p);
    if (!both_cidrs(p, &ClusterFacts::service_cidrs, "service CIDRs", check)) {
        return check;
    }
    const Cidrs& a = p.a.service_cidrs->value();
    const Cidrs& b = p.b.service_cidrs->value();
    const auto shared = overlapping(a.prefixes, b.prefixes);
    if (!shared.empty()) {
        std::string pairs;
        for (const auto& [x, y] : shared) {
            pairs += (pairs.empty() ? "" : ", ") + fmt::format("{} with {}", x.text, y.text);
        }
        check.status = Status::fail;
        check.message =
            fmt::format("service CIDRs overlap: {}{}; {} and {}", pairs,
                        a.address_only && b.address_only ? " (the same first address: the ranges most "
                                                           "likely coincide)"
                                                         : "",
                        side_text(p.a, a), side_text(p.b, b));
        check.hint =
            "give each cluster its own service range (kube-apiserver --service-cluster-ip-range; kubespray's "
            "kube_service_addresses, kubeadm's networking.serviceSubnet): it is fixed at install time";
        return check;
    }
    if (a.address_only || b.address_only) {
        check.status = Status::warn;
        check.message = fmt::format("no overlap seen, but only an address is known: {}; {}",
                                    side_text(p.a, a), side_text(p.b, b));
        check.hint = "compare the clusters' --service-cluster-ip-range by hand";
        return check;
    }
    check.status = Status::pass;
    check.message = fmt::format("disjoint: {}; {}", side_text(p.a, a), side_text(p.b, b));
    return check;
}

std::string describe_datapath(const Datapath& d) {
    return d.routing_mode == "tunnel" ? "tunnel (" + d.tunnel_protocol + ")" : d.routing_mode;
}

Check datapath_match(const Pair& p) {
    Check check = make(check_id::datapath_match, p);
    if (!both_configs(p, check)) {
        return check;
    }
    const Datapath a = datapath(*p.a.cilium_config());
    const Datapath b = datapath(*p.b.cilium_config());
    const std::string text =
        fmt::format("{} {} (from {}), {} {} (from {})", p.a.context, describe_datapath(a), a.source,
                    p.b.context, describe_datapath(b), b.source);
    if (a.routing_mode != b.routing_mode || a.tunnel_protocol != b.tunnel_protocol) {
        check.status = Status::fail;
        check.message = "datapaths differ: " + text;
        check.hint = "all clusters of a mesh need the same routing mode (routingMode) and tunnel protocol "
                     "(tunnelProtocol) in Cilium's Helm values";
        return check;
    }
    check.status = Status::pass;
    check.message = "same datapath: " + text;
    return check;
}

Check max_connected_match(const Pair& p) {
    Check check = make(check_id::max_connected_match, p);
    if (!both_configs(p, check)) {
        return check;
    }
    const std::string fallback = std::to_string(defaults::k_cilium_default_max_connected_clusters);
    const std::string a = config_or(p.a, "max-connected-clusters", fallback);
    const std::string b = config_or(p.b, "max-connected-clusters", fallback);
    if (a != b) {
        check.status = Status::fail;
        check.message =
            fmt::format("max-connected-clusters differs: {} in {}, {} in {}", a, p.a.context, b, p.b.context);
        check.hint =
            "set clustermesh.maxConnectedClusters alike everywhere; it is fixed at install (changing it "
            "means reinstalling Cilium)";
        return check;
    }
    check.status = Status::pass;
    check.message = fmt::format("max-connected-clusters {} in both", a);
    return check;
}

Check native_covers(const Pair& p) {
    Check check = make(check_id::native_routing_covers, p);
    if (!both_configs(p, check)) {
        return check;
    }
    const Datapath a = datapath(*p.a.cilium_config());
    const Datapath b = datapath(*p.b.cilium_config());
    if (a.routing_mode != b.routing_mode) {
        check.message =
            fmt::format("not checked: the routing modes differ (see {})", check_id::datapath_match);
        return check;
    }
    if (a.routing_mode != "native") {
        check.status = Status::pass;
        check.message = "not needed: both clusters route through tunnels";
        return check;
    }
    if (!both_cidrs(p, &ClusterFacts::pod_cidrs, "pod CIDRs", check)) {
        return check;
    }
    std::vector<Prefix> all = p.a.pod_cidrs->value().prefixes;
    for (const auto& prefix : p.b.pod_cidrs->value().prefixes) {
        all.push_back(prefix);
    }
    std::vector<std::string> problems;
    std::vector<std::string> fine;
    for (const ClusterFacts* side : {&p.a, &p.b}) {
        std::vector<Prefix> native;
        std::vector<std::string> keys;
        for (std::string_view key : {"ipv4-native-routing-cidr", "ipv6-native-routing-cidr"}) {
            if (auto value = side->config_value(key)) {
                auto list = parse_prefix_list(*value);
                native.insert(native.end(), list.prefixes.begin(), list.prefixes.end());
                keys.push_back(fmt::format("{} {}", key, *value));
            }
        }
        if (native.empty()) {
            problems.push_back(fmt::format("{} sets no ipv4-native-routing-cidr", side->context));
            continue;
        }
        auto missing = not_covered(all, native);
        if (!missing.empty()) {
            problems.push_back(fmt::format("{}'s {} does not cover {}", side->context, fmt::join(keys, ", "),
                                           describe(missing)));
        } else {
            fine.push_back(fmt::format("{}'s {}", side->context, fmt::join(keys, ", ")));
        }
    }
    if (!problems.empty()) {
        check.status = Status::fail;
        check.message = fmt::format("native routing: {}", fmt::join(problems, "; "));
        check.hint = "set ipv4NativeRoutingCIDR in every cluster to a range covering all clusters' pod CIDRs";
        return check;
    }
    check.status = Status::pass;
    check.message = fmt::format("{} cover both clusters' pods ({})", fmt::join(fine, " and "), describe(all));
    return check;
}

Check nodeport_distinct(const Pair& p) {
    Check check = make(check_id::nodeport_distinct, p);
    for (const ClusterFacts* side : {&p.a, &p.b}) {
        if (!side->clustermesh || !side->clustermesh->has_value()) {
            check.message =
                fmt::format("not checked: the clustermesh-apiserver Service of {} is unknown", side->context);
            return check;
        }
    }
    const auto& a = p.a.clustermesh->value();
    const auto& b = p.b.clustermesh->value();
    if (!a || !b || !a->node_port || !b->node_port) {
        check.status = Status::pass;
        check.message =
            "nothing to compare: not both clusters expose the clustermesh-apiserver on a NodePort yet";
        return check;
    }
    if (*a->node_port != *b->node_port) {
        check.status = Status::pass;
        check.message = fmt::format("NodePort {} in {}, {} in {}", *a->node_port, p.a.context, *b->node_port,
                                    p.b.context);
        return check;
    }
    const bool kpr_a = p.a.cilium_config() != nullptr && kube_proxy_replacement(*p.a.cilium_config());
    const bool kpr_b = p.b.cilium_config() != nullptr && kube_proxy_replacement(*p.b.cilium_config());
    if (!kpr_a && !kpr_b) {
        check.status = Status::pass;
        check.message =
            fmt::format("both use NodePort {}, which is fine without kube-proxy replacement", *a->node_port);
        return check;
    }
    check.status = Status::fail;
    check.message = fmt::format(
        "both use NodePort {} and kube-proxy replacement is on in {}: agents connecting to "
        "the peer's node port are served by their own cluster's clustermesh-apiserver",
        *a->node_port,
        kpr_a && kpr_b ? p.a.context + " and " + p.b.context : (kpr_a ? p.a.context : p.b.context));
    check.hint =
        "give each cluster its own port: clustermesh.apiserver.service.nodePort (e.g. 32379 and 32380)";
    return check;
}

Check ca_match(const Pair& p) {
    Check check = make(check_id::ca_match, p);
    std::vector<std::string> absent;
    for (const ClusterFacts* side : {&p.a, &p.b}) {
        if (!side->ca) {
            check.message = fmt::format("not checked: the cilium-ca of {} was not read", side->context);
            return check;
        }
        if (!side->ca->has_value()) {
            check.message =
                fmt::format("cilium-ca of {} unknown: {}", side->context, side->ca->error().message);
            return check;
        }
        if (!side->ca->value()) {
            absent.push_back(side->context);
        }
    }
    if (!absent.empty()) {
        check.status = Status::warn;
        check.message = fmt::format("no Secret {}/{} in {}", defaults::k_cilium_namespace,
                                    defaults::k_cilium_ca_secret, fmt::join(absent, " and "));
        check.hint = "join shares one CA or uses per-peer certificates";
        return check;
    }
    const auto& a = *p.a.ca->value();
    const auto& b = *p.b.ca->value();
    const bool same = !a.subject_key_id.empty() && !b.subject_key_id.empty()
                          ? a.subject_key_id == b.subject_key_id
                          : a.pem == b.pem;
    if (!same) {
        check.status = Status::warn;
        check.message =
            fmt::format("the clusters have different Cilium CAs (\"{}\" {}, \"{}\" {})", a.subject,
                        a.subject_key_id.empty() ? std::string("without key id")
                                                 : "key id " + a.subject_key_id.substr(0, 16),
                        b.subject,
                        b.subject_key_id.empty() ? std::string("without key id")
                                                 : "key id " + b.subject_key_id.substr(0, 16));
        check.hint = "join shares one CA or uses per-peer certificates";
        return check;
    }
    check.status = Status::pass;
    check.message = fmt::format("both clusters trust the same Cilium CA (\"{}\")", a.subject);
    return check;
}

} // namespace

std::vector<Check> mesh_checks(const ClusterFacts& a, const ClusterFacts& b) {
    const Pair pair{a, b};
    std::vector<Check> out{name_unique(pair),     id_unique(pair),         pod_overlap(pair),
                           service_overlap(pair), datapath_match(pair),    max_connected_match(pair),
                           native_covers(pair),   nodeport_distinct(pair), ca_match(pair)};
    if (!a.reachable() || !b.reachable()) {
        for (auto& check : out) {
            check.status = Status::unknown;
            check.message = fmt::format("not checked: the API server of {} did not answer",
                                        !a.reachable() ? a.context : b.context);
            check.hint.clear();
        }
    }
    return out;
}

} // namespace meshlink::plugin::preflight
