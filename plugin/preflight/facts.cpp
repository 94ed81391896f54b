#include "plugin/preflight/facts.hpp"

#include "kube/pki.hpp"
#include "plugin/preflight/checks.hpp"
#include "util/json_path.hpp"

#include <fmt/format.h>

namespace meshlink::plugin::preflight {
namespace {

template <typename T>
util::Result<T> error_of(const util::Error& error) {
    return std::unexpected(error);
}

CiliumConfig config_from(const nlohmann::json& config_map) {
    CiliumConfig out;
    if (auto data = config_map.find("data"); data != config_map.end() && data->is_object()) {
        for (const auto& [key, value] : data->items()) {
            if (value.is_string()) {
                out.emplace(key, value.get<std::string>());
            }
        }
    }
    return out;
}

using util::json_path::array_at;
using util::json_path::int_at;
using util::json_path::string_at;

CiliumDaemonSet daemonset_from(const nlohmann::json& ds) {
    CiliumDaemonSet out;
    out.desired = int_at(ds, {"status", "desiredNumberScheduled"});
    out.ready = int_at(ds, {"status", "numberReady"});
    const nlohmann::json* chosen = nullptr;
    for (const auto& container : array_at(ds, {"spec", "template", "spec", "containers"})) {
        if (chosen == nullptr || string_at(container, {"name"}) == defaults::k_cilium_agent_container) {
            chosen = &container;
        }
    }
    if (chosen != nullptr) {
        out.image = string_at(*chosen, {"image"});
    }
    // "quay.io/cilium/cilium:v1.16.12@sha256:...": the tag is between the last ':' of the name part and '@'.
    std::string name = out.image.substr(0, out.image.find('@'));
    const auto slash = name.rfind('/');
    const auto colon = name.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
        std::string tag = name.substr(colon + 1);
        out.version = probe::parse_cilium_version(tag);
        if (out.version) {
            out.version_text = tag.starts_with('v') ? tag.substr(1) : tag;
        }
    }
    return out;
}

ClusterMeshService service_from(const nlohmann::json& svc) {
    ClusterMeshService out;
    out.type = string_at(svc, {"spec", "type"}, "ClusterIP");
    const auto& ports = array_at(svc, {"spec", "ports"});
    if (!ports.empty()) {
        out.port = int_at(ports[0], {"port"});
        if (auto node_port = int_at(ports[0], {"nodePort"}); node_port > 0) {
            out.node_port = node_port;
        }
    }
    for (const auto& ingress : array_at(svc, {"status", "loadBalancer", "ingress"})) {
        std::string address = string_at(ingress, {"ip"});
        if (address.empty()) {
            address = string_at(ingress, {"hostname"});
        }
        if (!address.empty()) {
            out.ingress.push_back(address);
        }
    }
    return out;
}

util::Result<std::optional<CaCertificate>> read_ca(PreflightApi& api) {
    auto pem = api.secret_value(defaults::k_cilium_namespace, defaults::k_cilium_ca_secret,
                                defaults::k_cilium_ca_cert_key);
    if (!pem) {
        return std::unexpected(pem.error());
    }
    if (!*pem) {
        return std::optional<CaCertificate>();
    }
    auto info = kube::pki::parse_certificate(**pem);
    if (!info) {
        return util::fail(util::ErrorKind::parse,
                          fmt::format("secret {}/{} key {}: {}", defaults::k_cilium_namespace,
                                      defaults::k_cilium_ca_secret, defaults::k_cilium_ca_cert_key,
                                      info.error().message));
    }
    return std::optional<CaCertificate>(CaCertificate{info->subject_cn, info->subject_key_id, **pem});
}

util::Result<AccessReport> review_access(PreflightApi& api) {
    AccessReport report;
    for (const auto& rule : defaults::k_join_access) {
        auto decision = api.review_access(rule);
        if (!decision) {
            return std::unexpected(decision.error());
        }
        ++report.asked;
        if (!decision->allowed) {
            report.denied.push_back(rule);
        }
    }
    return report;
}

// The pod ranges cilium-config assigns (cluster-pool IPAM); empty when its IPAM mode assigns none itself.
Cidrs pool_cidrs(const CiliumConfig& config) {
    Cidrs out;
    const auto ipam = config.contains("ipam") ? config.find("ipam")->second : std::string("cluster-pool");
    if (ipam != "cluster-pool" && ipam != "cluster-pool-v2beta") {
        out.notes.push_back(fmt::format("ipam is {}, so cilium-config has no pod pool", ipam));
        return out;
    }
    std::vector<std::string> keys;
    const auto take = [&](std::string_view enable, bool enabled_by_default, std::string_view key) {
        auto flag = config.find(enable);
        const bool enabled = flag == config.end() ? enabled_by_default : flag->second == "true";
        auto value = config.find(key);
        if (!enabled || value == config.end()) {
            return;
        }
        auto list = parse_prefix_list(value->second);
        for (auto& prefix : list.prefixes) {
            out.prefixes.push_back(std::move(prefix));
        }
        for (const auto& bad : list.bad) {
            out.notes.push_back(fmt::format("{} holds \"{}\", which is not a CIDR", key, bad));
        }
        keys.emplace_back(key);
    };
    take("enable-ipv4", true, "cluster-pool-ipv4-cidr");
    take("enable-ipv6", false, "cluster-pool-ipv6-cidr");
    if (!keys.empty()) {
        out.source = "cilium-config " + fmt::format("{}", fmt::join(keys, " + "));
    }
    return out;
}

// The value of `flag` in a container's command or args: "--flag=value" or "--flag value".
std::optional<std::string> flag_value(const nlohmann::json& container, std::string_view flag) {
    for (const char* field : {"command", "args"}) {
        const auto& list = array_at(container, {field});
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (!list[i].is_string()) {
                continue;
            }
            const std::string& arg = list[i].get_ref<const std::string&>();
            if (arg.starts_with(flag) && arg.size() > flag.size() && arg[flag.size()] == '=') {
                return arg.substr(flag.size() + 1);
            }
            if (arg == flag && i + 1 < list.size() && list[i + 1].is_string()) {
                return list[i + 1].get<std::string>();
            }
        }
    }
    return std::nullopt;
}

util::Result<Cidrs> read_service_cidrs(PreflightApi& api) {
    Cidrs out;
    // 1. ServiceCIDR objects (Kubernetes 1.31+ with the MultiCIDRServiceAllocator feature, GA in 1.33).
    auto objects = api.service_cidrs();
    if (!objects) {
        out.notes.push_back("ServiceCIDR objects unreadable: " + objects.error().message);
    } else if (!*objects) {
        out.notes.push_back("the server has no ServiceCIDR API");
    } else {
        for (const auto& object : **objects) {
            for (const auto& cidr : array_at(object, {"spec", "cidrs"})) {
                if (cidr.is_string()) {
                    if (auto prefix = parse_prefix(cidr.get<std::string>())) {
                        out.prefixes.push_back(std::move(*prefix));
                    }
                }
            }
        }
        if (!out.prefixes.empty()) {
            out.source = "ServiceCIDR objects";
            return out;
        }
        out.notes.push_back("no ServiceCIDR objects");
    }
    // 2. The API server's own flag, from its static pods (kubeadm, kubespray).
    auto pods = api.pods(defaults::k_kube_apiserver_namespace, defaults::k_kube_apiserver_selector);
    if (!pods) {
        out.notes.push_back("kube-apiserver pods unreadable: " + pods.error().message);
    } else {
        for (const auto& pod : *pods) {
            for (const auto& container : array_at(pod, {"spec", "containers"})) {
                auto value = flag_value(container, defaults::k_service_cidr_flag);
                if (!value) {
                    continue;
                }
                auto list = parse_prefix_list(*value);
                if (!list.prefixes.empty()) {
                    out.prefixes = std::move(list.prefixes);
                    out.source = fmt::format("{} of pod {}/{}", defaults::k_service_cidr_flag,
                                             defaults::k_kube_apiserver_namespace,
                                             string_at(pod, {"metadata", "name"}));
                    return out;
                }
            }
        }
        out.notes.push_back(
            pods->empty()
                ? "no kube-apiserver pods (" + std::string(defaults::k_kube_apiserver_selector) + ")"
                : "kube-apiserver pods without " + std::string(defaults::k_service_cidr_flag));
    }
    // 3. The `kubernetes` Service holds the range's first address.
    auto service = api.service(defaults::k_kubernetes_service_namespace, defaults::k_kubernetes_service);
    if (!service) {
        return std::unexpected(service.error().with_context(
            fmt::format("no service CIDR source ({})", fmt::join(out.notes, "; "))));
    }
    if (*service) {
        std::vector<std::string> addresses;
        for (const auto& ip : array_at(**service, {"spec", "clusterIPs"})) {
            if (ip.is_string()) {
                addresses.push_back(ip.get<std::string>());
            }
        }
        if (addresses.empty()) {
            addresses.push_back(string_at(**service, {"spec", "clusterIP"}));
        }
        for (const auto& address : addresses) {
            if (auto prefix = parse_prefix(address)) {
                out.prefixes.push_back(std::move(*prefix));
            }
        }
    }
    if (out.prefixes.empty()) {
        return util::fail(util::ErrorKind::not_found,
                          fmt::format("no service CIDR source: {}", fmt::join(out.notes, "; ")));
    }
    out.address_only = true;
    out.source = fmt::format("the address of Service {}/{}", defaults::k_kubernetes_service_namespace,
                             defaults::k_kubernetes_service);
    return out;
}

} // namespace

const CiliumConfig* ClusterFacts::cilium_config() const {
    if (config && config->has_value() && config->value().has_value()) {
        return &*config->value();
    }
    return nullptr;
}

std::optional<std::string> ClusterFacts::config_value(std::string_view key) const {
    const auto* data = cilium_config();
    if (data == nullptr) {
        return std::nullopt;
    }
    auto it = data->find(key);
    return it == data->end() ? std::nullopt : std::optional<std::string>(it->second);
}

Datapath datapath(const CiliumConfig& config) {
    Datapath out;
    const auto get = [&](std::string_view key) {
        auto it = config.find(key);
        return it == config.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
    };
    if (auto mode = get("routing-mode")) {
        out.routing_mode = *mode;
        out.source = "routing-mode";
        if (*mode == "tunnel") {
            out.tunnel_protocol = get("tunnel-protocol").value_or("vxlan");
            out.source += get("tunnel-protocol") ? ", tunnel-protocol" : ", tunnel-protocol (default vxlan)";
        }
        return out;
    }
    if (auto tunnel = get("tunnel")) {
        // Cilium ≤ 1.13: tunnel=vxlan|geneve|disabled.
        out.source = "tunnel (legacy)";
        if (*tunnel == "disabled") {
            out.routing_mode = "native";
        } else {
            out.routing_mode = "tunnel";
            out.tunnel_protocol = *tunnel;
        }
        return out;
    }
    out.routing_mode = "tunnel";
    out.tunnel_protocol = get("tunnel-protocol").value_or("vxlan");
    out.source = "Cilium's default (no routing-mode)";
    return out;
}

bool kube_proxy_replacement(const CiliumConfig& config) {
    auto it = config.find("kube-proxy-replacement");
    return it != config.end() && (it->second == "true" || it->second == "strict");
}

void choose_node_cilium(ClusterFacts& facts, const std::optional<probe::CiliumVersion>& override_version) {
    if (override_version) {
        facts.node_cilium = *override_version;
        facts.node_cilium_source = "--cilium-version " + probe::to_string(*override_version);
        return;
    }
    if (facts.cilium && facts.cilium->has_value() && facts.cilium->value() &&
        facts.cilium->value()->version) {
        facts.node_cilium = *facts.cilium->value()->version;
        facts.node_cilium_source = "the cluster's Cilium " + facts.cilium->value()->version_text;
        return;
    }
    facts.node_cilium = probe::newest_cilium();
    facts.node_cilium_source = "Cilium " + probe::to_string(facts.node_cilium) +
                               " (the cluster's version is unknown: the newest known)";
}

ClusterFacts gather(PreflightApi& api, std::string context, const GatherOptions& options) {
    ClusterFacts facts;
    facts.context = std::move(context);
    facts.version = api.server_version();
    if (!facts.reachable()) {
        choose_node_cilium(facts, options.cilium_override);
        return facts;
    }
    facts.access = review_access(api);

    auto config = api.config_map(defaults::k_cilium_namespace, defaults::k_cilium_config);
    facts.config = config ? util::Result<std::optional<CiliumConfig>>(
                                *config ? std::optional<CiliumConfig>(config_from(**config)) : std::nullopt)
                          : error_of<std::optional<CiliumConfig>>(config.error());

    auto ds = api.daemon_set(defaults::k_cilium_namespace, defaults::k_cilium_daemonset);
    facts.cilium = ds ? util::Result<std::optional<CiliumDaemonSet>>(
                            *ds ? std::optional<CiliumDaemonSet>(daemonset_from(**ds)) : std::nullopt)
                      : error_of<std::optional<CiliumDaemonSet>>(ds.error());
    choose_node_cilium(facts, options.cilium_override);

    auto svc = api.service(defaults::k_cilium_namespace, defaults::k_clustermesh_apiserver);
    facts.clustermesh =
        svc ? util::Result<std::optional<ClusterMeshService>>(
                  *svc ? std::optional<ClusterMeshService>(service_from(**svc)) : std::nullopt)
            : error_of<std::optional<ClusterMeshService>>(svc.error());

    facts.ca = read_ca(api);
    facts.service_cidrs = read_service_cidrs(api);

    // Pod ranges: cilium-config's pool when it has one, else what the nodes were given (spec.podCIDRs),
    // which needs whole Node objects; the node reports alone need only their metadata.
    Cidrs pods;
    if (const auto* data = facts.cilium_config()) {
        pods = pool_cidrs(*data);
    } else {
        pods.notes.push_back("no cilium-config");
    }
    const bool pods_from_nodes = pods.prefixes.empty();
    if (!options.read_node_reports && !pods_from_nodes) {
        facts.pod_cidrs = std::move(pods);
        return facts;
    }

    // The agents' Leases first, in one paginated LIST, so each node is judged as its page arrives.
    probe::LeaseIndex leases;
    if (options.read_node_reports) {
        if (auto listed = api.each_lease([&](const nlohmann::json& lease) { leases.add(lease); }); !listed) {
            leases.set_unavailable(listed.error().message);
        }
    }
    const CiliumConfig* data = facts.cilium_config();
    NodeReportReader reader(
        facts.node_cilium, [data](std::string_view id) { return node_check_applies(id, data); }, options.now,
        std::move(leases));
    Cidrs from_nodes;
    auto listed = api.each_node(!pods_from_nodes, [&](const nlohmann::json& node) {
        if (options.read_node_reports) {
            reader.add(node);
        }
        if (pods_from_nodes) {
            nlohmann::json cidrs = array_at(node, {"spec", "podCIDRs"});
            if (cidrs.empty()) {
                cidrs.push_back(string_at(node, {"spec", "podCIDR"}));
            }
            for (const auto& cidr : cidrs) {
                if (cidr.is_string()) {
                    if (auto prefix = parse_prefix(cidr.get<std::string>())) {
                        from_nodes.prefixes.push_back(std::move(*prefix));
                    }
                }
            }
        }
    });
    if (!listed) {
        if (options.read_node_reports) {
            facts.nodes = error_of<NodeReports>(listed.error());
        }
        facts.pod_cidrs =
            pods_from_nodes ? error_of<Cidrs>(listed.error()) : util::Result<Cidrs>(std::move(pods));
        return facts;
    }
    if (options.read_node_reports) {
        facts.nodes = reader.finish();
    }
    if (!pods_from_nodes) {
        facts.pod_cidrs = std::move(pods);
    } else if (from_nodes.prefixes.empty()) {
        pods.notes.push_back("no node has spec.podCIDRs");
        facts.pod_cidrs = util::fail(util::ErrorKind::not_found,
                                     fmt::format("no pod CIDR source: {}", fmt::join(pods.notes, "; ")));
    } else {
        from_nodes.source = "the nodes' spec.podCIDRs";
        from_nodes.notes = std::move(pods.notes);
        facts.pod_cidrs = std::move(from_nodes);
    }
    return facts;
}

} // namespace meshlink::plugin::preflight
