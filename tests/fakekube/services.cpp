// Service address allocation inside ApiServer: ClusterIPs and NodePorts kept on update, conflicts
// answered as the real allocators answer, dry runs leave nothing reserved.
#include "tests/fakekube/apiserver.hpp"
#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/util.hpp"

#include <set>

namespace meshlink::fakekube {
namespace {

bool uses_node_ports(const json& spec) {
    const std::string type = spec.value("type", "ClusterIP");
    return type == "NodePort" || type == "LoadBalancer";
}

std::set<int> node_ports_of(const json& object) {
    std::set<int> out;
    for (const auto& port : child(child(object, "spec"), "ports")) {
        if (port.contains("nodePort") && port["nodePort"].is_number_integer() &&
            port["nodePort"].get<int>() != 0) {
            out.insert(port["nodePort"].get<int>());
        }
    }
    return out;
}

std::string cluster_ip_of(const json& object) {
    const json& ip = child(child(object, "spec"), "clusterIP");
    return ip.is_string() ? ip.get<std::string>() : "";
}

} // namespace

std::optional<ApiError> ApiServer::allocate_service(json& object, const json* old, bool dry_run) {
    const ResourceInfo& services = *find_resource("", "v1", "services");
    const std::string name = child(object, "metadata").value("name", "");
    json& spec = object["spec"];
    const std::string type = spec.value("type", "ClusterIP");
    std::vector<std::string> reserved_ips;
    std::vector<int> reserved_ports;
    auto undo = [&] {
        for (const auto& ip : reserved_ips) {
            m_cluster_ips.release(ip);
        }
        for (int port : reserved_ports) {
            m_node_ports.release(port);
        }
    };

    // ClusterIP: kept from the old object, or the requested one, or the next free one.
    const std::string old_ip = old != nullptr ? cluster_ip_of(*old) : "";
    if (type == "ExternalName") {
        spec.erase("clusterIP");
        spec.erase("clusterIPs");
    } else {
        std::string ip = spec.value("clusterIP", "");
        if (ip.empty() && !old_ip.empty()) {
            ip = old_ip;
        }
        if (ip == "None") {
            spec["clusterIP"] = "None";
            spec["clusterIPs"] = {"None"};
        } else if (!ip.empty() && ip == old_ip) {
            spec["clusterIP"] = ip;
            spec["clusterIPs"] = {ip};
        } else if (!ip.empty()) {
            if (auto reserved = m_cluster_ips.reserve(ip); !reserved) {
                return invalid(services, name,
                               {Cause{Cause::Type::invalid, "spec.clusterIPs",
                                      "[]string{" + go_quote(ip) + "}", reserved.error().message}});
            }
            reserved_ips.push_back(ip);
            spec["clusterIP"] = ip;
            spec["clusterIPs"] = {ip};
        } else {
            auto next = m_cluster_ips.allocate();
            if (!next) {
                return internal_error("failed to allocate a serviceIP: range is full");
            }
            reserved_ips.push_back(*next);
            spec["clusterIP"] = *next;
            spec["clusterIPs"] = {*next};
        }
    }

    // NodePorts: kept from the old object for the same port, requested ones reserved, others allocated.
    const std::set<int> old_ports = old != nullptr ? node_ports_of(*old) : std::set<int>{};
    if (spec.contains("ports") && spec["ports"].is_array()) {
        for (size_t i = 0; i < spec["ports"].size(); ++i) {
            json& port = spec["ports"][i];
            if (!uses_node_ports(spec)) {
                port.erase("nodePort");
                continue;
            }
            if ((!port.contains("nodePort") || port["nodePort"] == 0) && old != nullptr) {
                for (const auto& before : child(child(*old, "spec"), "ports")) {
                    if (before.value("port", -1) == port.value("port", -2) &&
                        before.value("protocol", std::string("TCP")) ==
                            port.value("protocol", std::string("TCP")) &&
                        before.contains("nodePort")) {
                        port["nodePort"] = before["nodePort"];
                    }
                }
            }
            if (port.contains("nodePort") && port["nodePort"].is_number_integer() &&
                port["nodePort"].get<int>() != 0) {
                const int wanted = port["nodePort"].get<int>();
                if (old_ports.contains(wanted)) {
                    continue;
                }
                if (auto reserved = m_node_ports.reserve(wanted); !reserved) {
                    undo();
                    return invalid(
                        services, name,
                        {Cause{Cause::Type::invalid, "spec.ports[" + std::to_string(i) + "].nodePort",
                               std::to_string(wanted), reserved.error().message}});
                }
                reserved_ports.push_back(wanted);
            } else {
                auto next = m_node_ports.allocate();
                if (!next) {
                    undo();
                    return internal_error("failed to allocate a nodePort: range is full");
                }
                reserved_ports.push_back(*next);
                port["nodePort"] = *next;
            }
        }
    }
    if (dry_run) {
        undo();
        return std::nullopt;
    }
    // What the old object held and the new one no longer does goes back to the pools.
    if (old != nullptr) {
        const std::set<int> new_ports = node_ports_of(object);
        for (int port : old_ports) {
            if (!new_ports.contains(port)) {
                m_node_ports.release(port);
            }
        }
        if (!old_ip.empty() && old_ip != "None" && cluster_ip_of(object) != old_ip) {
            m_cluster_ips.release(old_ip);
        }
    }
    return std::nullopt;
}

void ApiServer::release_service(const json& object) {
    const std::string ip = cluster_ip_of(object);
    if (!ip.empty() && ip != "None") {
        m_cluster_ips.release(ip);
    }
    for (int port : node_ports_of(object)) {
        m_node_ports.release(port);
    }
}

std::vector<std::pair<std::string, uint16_t>> ApiServer::apiserver_node_ports() {
    std::lock_guard lock(m_mutex);
    std::vector<std::pair<std::string, uint16_t>> out;
    const ResourceInfo* slices = find_resource("discovery.k8s.io", "v1", "endpointslices");
    for (const json* service : m_store.list(*find_resource("", "v1", "services"), "")) {
        const json& meta = child(*service, "metadata");
        const json& spec = child(*service, "spec");
        if (!uses_node_ports(spec)) {
            continue;
        }
        const json& selector = child(spec, "selector");
        bool targets = selector.is_object() && selector.value("component", "") == "kube-apiserver";
        if (!selector.is_object() || selector.empty()) {
            for (const json* slice : m_store.list(*slices, meta.value("namespace", ""))) {
                const json& labels = child(child(*slice, "metadata"), "labels");
                targets = targets || (labels.is_object() && labels.value("kubernetes.io/service-name", "") ==
                                                                meta.value("name", ""));
            }
        }
        if (!targets) {
            continue;
        }
        for (int port : node_ports_of(*service)) {
            for (const json* node : m_store.list(*find_resource("", "v1", "nodes"), "")) {
                for (const auto& address : child(child(*node, "status"), "addresses")) {
                    if (address.value("type", "") == "InternalIP") {
                        out.emplace_back(address.value("address", ""), static_cast<uint16_t>(port));
                    }
                }
            }
        }
    }
    return out;
}

} // namespace meshlink::fakekube
