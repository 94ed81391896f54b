#include "plugin/mesh/step_expose.hpp"

#include "kube/pki.hpp"
#include "plugin/defaults.hpp"
#include "plugin/kubeconfig/classify.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshlink::plugin::mesh {
namespace {

namespace df = defaults;

json managed_labels() {
    return {{std::string(df::k_managed_by_label), df::k_managed_by_meshlink}};
}

// The port kube-apiserver serves on, from its static pod: --secure-port, else a declared containerPort.
int apiserver_port(const json& pod) {
    for (const auto& container : child(child(pod, "spec"), "containers")) {
        for (const char* field : {"command", "args"}) {
            for (const auto& arg : child(container, field)) {
                if (arg.is_string() &&
                    arg.get<std::string>().starts_with(df::k_kube_apiserver_secure_port_flag)) {
                    return std::atoi(
                        arg.get<std::string>().substr(df::k_kube_apiserver_secure_port_flag.size()).c_str());
                }
            }
        }
        for (const auto& port : child(container, "ports")) {
            if (child(port, "containerPort").is_number_integer()) {
                return port["containerPort"].get<int>();
            }
        }
    }
    return df::k_kube_apiserver_default_port;
}

// The EndpointSlice for a selector-less Service: the addresses and port of default/kubernetes.
util::Result<std::optional<json>> copied_slice(MeshApi& api, const std::string& ns) {
    auto slice = api.get(Kind::endpoint_slice, df::k_kubernetes_service_namespace, df::k_kubernetes_service);
    if (!slice) {
        return std::unexpected(slice.error());
    }
    json endpoints = json::array();
    int port = df::k_kube_apiserver_default_port;
    std::string address_type = "IPv4";
    if (*slice) {
        address_type = text(**slice, "addressType").empty() ? address_type : text(**slice, "addressType");
        for (const auto& endpoint : child(**slice, "endpoints")) {
            endpoints.push_back(
                {{"addresses", child(endpoint, "addresses")}, {"conditions", {{"ready", true}}}});
        }
        const json& ports = child(**slice, "ports");
        if (ports.is_array() && !ports.empty()) {
            port = child(ports[0], "port").is_number_integer() ? ports[0]["port"].get<int>() : port;
        }
    } else {
        auto legacy = api.get(Kind::endpoints, df::k_kubernetes_service_namespace, df::k_kubernetes_service);
        if (!legacy) {
            return std::unexpected(legacy.error());
        }
        if (!*legacy) {
            return std::optional<json>();
        }
        for (const auto& subset : child(**legacy, "subsets")) {
            for (const auto& address : child(subset, "addresses")) {
                endpoints.push_back(
                    {{"addresses", json::array({text(address, "ip")})}, {"conditions", {{"ready", true}}}});
            }
            const json& ports = child(subset, "ports");
            if (ports.is_array() && !ports.empty() && child(ports[0], "port").is_number_integer()) {
                port = ports[0]["port"].get<int>();
            }
        }
    }
    if (endpoints.empty()) {
        return std::optional<json>();
    }
    json labels = managed_labels();
    labels[std::string(df::k_endpointslice_service_label)] = df::k_mesh_apiserver_service;
    labels[std::string(df::k_endpointslice_managed_by_label)] = df::k_endpointslice_managed_by;
    return std::optional<json>(
        json{{"apiVersion", "discovery.k8s.io/v1"},
             {"kind", "EndpointSlice"},
             {"metadata", {{"name", df::k_mesh_apiserver_service}, {"namespace", ns}, {"labels", labels}}},
             {"addressType", address_type},
             {"endpoints", endpoints},
             {"ports", json::array({{{"name", "https"}, {"port", port}, {"protocol", "TCP"}}})}});
}

// Creates `object` unless it exists; an existing one must carry meshlink's label (else it is someone else's).
util::Result<json> ensure_created(Session& session, Cluster& c, Kind kind, const json& object,
                                  const std::vector<std::string>& peers, const std::string& step) {
    const std::string& ns = session.options().ns;
    const std::string name = name_of(object);
    const std::string what = fmt::format("{} {}/{}", kind_name(kind), ns, name);
    auto current = c.api->get(kind, ns, name);
    if (!current) {
        return std::unexpected(current.error().with_context(c.context));
    }
    Change change;
    change.id = fmt::format("{}/{}", plural(kind), name);
    change.action = Action::create;
    change.peers = {peers.begin(), peers.end()};
    change.detail = {{"kind", kind_name(kind)}, {"name", name}, {"namespace", ns}};
    if (*current) {
        if (label(**current, df::k_managed_by_label) != df::k_managed_by_meshlink) {
            return util::fail(
                util::ErrorKind::already_exists,
                fmt::format("{}: {} exists and was not created by meshlink (no label {}={}); rename or "
                            "delete it, then run join again",
                            c.context, what, df::k_managed_by_label, df::k_managed_by_meshlink));
        }
        c.journal->intend(change);
        c.journal->mark_applied(change.id);
        return **current;
    }
    if (session.dry_run()) {
        session.plan({c.name, step, "create " + what, object, {}});
        return object;
    }
    c.journal->intend(change);
    if (auto flushed = c.journal->flush(); !flushed) {
        return std::unexpected(flushed.error());
    }
    auto created = c.api->create(kind, ns, object);
    if (!created) {
        return std::unexpected(created.error().with_context(fmt::format("{}: creating {}", c.context, what)));
    }
    c.journal->mark_applied(change.id);
    session.say(fmt::format("{}: created {}", c.name, what));
    return *created;
}

std::pair<std::string, int> host_port(const std::string& server) {
    std::string host = kubeconfig::server_host(server);
    int port = 443;
    const auto scheme = server.find("://");
    std::string rest = scheme == std::string::npos ? server : server.substr(scheme + 3);
    rest = rest.substr(0, rest.find('/'));
    const auto colon = rest.rfind(':');
    if (colon != std::string::npos && rest.find(']', colon) == std::string::npos) {
        port = std::atoi(rest.substr(colon + 1).c_str());
    }
    return {host, port};
}

} // namespace

util::Result<void> step_expose(Session& session, std::vector<Cluster*>& clusters) {
    return for_each_cluster(session, clusters, "exposing the API server",
                            [&](Cluster& c) { return expose(session, c, other_names(clusters, &c)); });
}

util::Result<void> expose(Session& session, Cluster& c, const std::vector<std::string>& peers) {
    const std::string& ns = session.options().ns;
    auto pods = c.api->list(Kind::pod, ns, df::k_kube_apiserver_selector);
    if (!pods) {
        return std::unexpected(pods.error().with_context(c.context));
    }
    json service = {
        {"apiVersion", "v1"},
        {"kind", "Service"},
        {"metadata",
         {{"name", df::k_mesh_apiserver_service}, {"namespace", ns}, {"labels", managed_labels()}}},
        {"spec", {{"type", "NodePort"}}}};
    if (!pods->empty()) {
        const int port = apiserver_port(pods->front());
        service["spec"]["selector"] = {{"component", df::k_kube_apiserver_component},
                                       {"tier", "control-plane"}};
        service["spec"]["ports"] =
            json::array({{{"name", "https"}, {"protocol", "TCP"}, {"port", port}, {"targetPort", port}}});
    } else {
        // k3s and managed control planes: no API server pods to select; the endpoints of default/kubernetes.
        auto slice = copied_slice(*c.api, ns);
        if (!slice) {
            return std::unexpected(slice.error().with_context(c.context));
        }
        if (!*slice) {
            return util::fail(
                util::ErrorKind::not_found,
                fmt::format("{}: cannot expose the API server: no pods {} in {} and no endpoints for "
                            "{}/{}",
                            c.context, df::k_kube_apiserver_selector, ns, df::k_kubernetes_service_namespace,
                            df::k_kubernetes_service));
        }
        const int port = (**slice)["ports"][0]["port"].get<int>();
        service["spec"]["ports"] =
            json::array({{{"name", "https"}, {"protocol", "TCP"}, {"port", port}, {"targetPort", port}}});
        auto created = ensure_created(session, c, Kind::endpoint_slice, **slice, peers, "expose");
        if (!created) {
            return std::unexpected(created.error());
        }
    }
    auto created = ensure_created(session, c, Kind::service, service, peers, "expose");
    if (!created) {
        return std::unexpected(created.error());
    }
    std::optional<int> node_port;
    const json& ports = child(child(*created, "spec"), "ports");
    if (ports.is_array() && !ports.empty() && child(ports[0], "nodePort").is_number_integer()) {
        node_port = ports[0]["nodePort"].get<int>();
    }

    // A Ready control-plane node's InternalIP (never an ExternalIP); any Ready node on managed control
    // planes.
    std::string ip;
    for (bool control : {true, false}) {
        for (const auto& node : c.nodes) {
            if (ip.empty() && node.ready && node.control_plane == control && !node.internal_ip.empty()) {
                ip = node.internal_ip;
            }
        }
    }
    if (ip.empty()) {
        return util::fail(
            util::ErrorKind::not_found,
            fmt::format("{}: no Ready node with an InternalIP to reach the API server on", c.context));
    }
    if (!node_port) {
        if (!session.dry_run()) {
            return util::fail(util::ErrorKind::invalid,
                              fmt::format("{}: Service {}/{} has no nodePort", c.context, ns,
                                          df::k_mesh_apiserver_service));
        }
        c.exposed_server = fmt::format("https://{}:<nodePort>", ip);
        return {};
    }
    c.exposed_server = fmt::format("https://{}:{}", ip, *node_port);

    // The certificate presented there: does it name the IP? If not, kubectl must verify a name it does carry.
    auto& host = session.host();
    const auto timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(df::k_certificate_fetch_timeout);
    auto pem = host.server_certificate(ip, *node_port, timeout);
    std::string source = fmt::format("{}:{}", ip, *node_port);
    if (!pem) {
        // This machine may not reach node addresses; the API server presents the same certificate everywhere.
        const auto [original_host, original_port] = host_port(c.server);
        session.say(fmt::format("{}: {} did not answer ({}); reading the certificate at {}:{} instead",
                                c.name, source, pem.error().message, original_host, original_port));
        source = fmt::format("{}:{}", original_host, original_port);
        pem = host.server_certificate(original_host, original_port, timeout);
    }
    c.tls_server_name.clear();
    if (!pem) {
        session.say(fmt::format(
            "{}: warning: cannot read the API server certificate ({}); the kubeconfig entry gets no "
            "tls-server-name",
            c.name, pem.error().message));
    } else if (auto info = kube::pki::parse_certificate(*pem); info) {
        const bool ip_listed =
            std::find(info->ip_addresses.begin(), info->ip_addresses.end(), ip) != info->ip_addresses.end();
        if (!ip_listed) {
            const auto kubernetes = std::find(info->dns_names.begin(), info->dns_names.end(), "kubernetes");
            if (kubernetes != info->dns_names.end()) {
                c.tls_server_name = *kubernetes;
            } else if (!info->dns_names.empty()) {
                c.tls_server_name = info->dns_names.front();
            }
            session.say(fmt::format(
                "{}: the API server certificate (read at {}) does not list {}; tls-server-name {}", c.name,
                source, ip, c.tls_server_name.empty() ? "unset (no DNS name in it)" : c.tls_server_name));
        }
    }
    for (const auto& peer : peers) {
        c.journal->set_step(peer, "expose", "");
    }
    if (auto flushed = c.journal->flush(); !flushed) {
        return std::unexpected(flushed.error());
    }
    session.say(fmt::format("{}: API server exposed at {}", c.name, c.exposed_server));
    return {};
}

} // namespace meshlink::plugin::mesh
