#include "plugin/mesh/model.hpp"

#include "plugin/defaults.hpp"

#include <fmt/format.h>

namespace meshlink::plugin::mesh {

std::string_view to_string(Backend backend) {
    switch (backend) {
    case Backend::automatic:
        return "auto";
    case Backend::native:
        return "native";
    case Backend::cilium_cli:
        return "cilium-cli";
    case Backend::helm:
        return "helm";
    }
    return "auto";
}

std::optional<Backend> parse_backend(std::string_view text) {
    for (Backend backend : {Backend::automatic, Backend::native, Backend::cilium_cli, Backend::helm}) {
        if (to_string(backend) == text) {
            return backend;
        }
    }
    return std::nullopt;
}

std::string_view to_string(Driver driver) {
    switch (driver) {
    case Driver::native:
        return "native";
    case Driver::cilium_cli:
        return "cilium CLI";
    case Driver::helm:
        return "helm";
    }
    return "native";
}

std::string Secretish::value(std::string_view key) const {
    auto it = data.find(std::string(key));
    return it == data.end() ? std::string() : it->second;
}

std::vector<std::string> Cluster::mesh_ips() const {
    std::vector<std::string> control;
    std::vector<std::string> workers;
    for (const auto& node : nodes) {
        if (!node.ready || node.internal_ip.empty()) {
            continue;
        }
        (node.control_plane ? control : workers).push_back(node.internal_ip);
    }
    if (!control.empty()) {
        return control;
    }
    if (!workers.empty()) {
        return {workers.front()};
    }
    return {};
}

std::optional<int> Cluster::mesh_port() const {
    if (apiserver.service_type == "LoadBalancer" && !apiserver.ingress.empty()) {
        return defaults::k_clustermesh_port;
    }
    return apiserver.node_port;
}

std::string Cluster::display() const {
    if (name.empty() || name == context) {
        return context;
    }
    return fmt::format("{} (context {})", name, context);
}

std::vector<Cluster*> others(const std::vector<Cluster*>& clusters, const Cluster* c) {
    std::vector<Cluster*> out;
    for (Cluster* other : clusters) {
        if (other != c) {
            out.push_back(other);
        }
    }
    return out;
}

std::vector<std::string> other_names(const std::vector<Cluster*>& clusters, const Cluster* c) {
    std::vector<std::string> out;
    for (const Cluster* other : others(clusters, c)) {
        out.push_back(other->name);
    }
    return out;
}

} // namespace meshlink::plugin::mesh
