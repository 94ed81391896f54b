// Step 1: what join needs to know about one cluster, read once.
#include "plugin/mesh/step_resolve.hpp"

#include "plugin/defaults.hpp"
#include "util/base64.hpp"
#include "util/json_text.hpp"
#include "util/terminal.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>

namespace meshlink::plugin::mesh {
namespace {

namespace df = defaults;

util::Result<Secretish> read_secret(MeshApi& api, const std::string& ns, std::string_view name) {
    auto object = api.get(Kind::secret, ns, name);
    if (!object) {
        return std::unexpected(object.error());
    }
    Secretish out;
    if (!*object) {
        return out;
    }
    out.exists = true;
    out.helm_owned = helm_owned(**object);
    for (const auto& [key, value] : child(**object, "data").items()) {
        if (!value.is_string()) {
            continue;
        }
        auto decoded = util::base64_decode(value.get<std::string>());
        if (!decoded) {
            return util::fail(util::ErrorKind::parse, fmt::format("Secret {}/{} data.{}: {}", ns, name, key,
                                                                  decoded.error().message));
        }
        out.data[key] = std::move(*decoded);
    }
    return out;
}

enum class Gunzip { ok, not_gzip, too_large };

// Decompresses `data` into `out`, stopping once more than `limit` bytes came out.
Gunzip gunzip(std::string_view data, std::size_t limit, std::string& out) {
    z_stream stream{};
    if (inflateInit2(&stream, 15 + 32) != Z_OK) {
        return Gunzip::not_gzip;
    }
    char buffer[16384];
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    int rc = Z_OK;
    while (rc == Z_OK) {
        stream.next_out = reinterpret_cast<Bytef*>(buffer);
        stream.avail_out = sizeof(buffer);
        rc = inflate(&stream, Z_NO_FLUSH);
        out.append(buffer, sizeof(buffer) - stream.avail_out);
        if (out.size() > limit) {
            inflateEnd(&stream);
            return Gunzip::too_large;
        }
    }
    inflateEnd(&stream);
    return rc == Z_STREAM_END ? Gunzip::ok : Gunzip::not_gzip;
}

// The Helm release that installed Cilium: the one named by cilium-config's meta.helm.sh annotations, else a
// release named "cilium" in the Cilium namespace. Its newest deployed revision.
util::Result<std::optional<HelmRelease>> find_release(MeshApi& api, const std::string& ns,
                                                      const json& config) {
    std::string release = annotation(config, df::k_helm_release_name_annotation);
    std::string release_ns = annotation(config, df::k_helm_release_namespace_annotation);
    if (release.empty()) {
        release = df::k_helm_default_release;
    }
    if (release_ns.empty()) {
        release_ns = ns;
    }
    auto secrets =
        api.list(Kind::secret, release_ns, fmt::format("{},name={}", df::k_helm_release_selector, release));
    if (!secrets) {
        return std::unexpected(secrets.error());
    }
    const json* newest = nullptr;
    int newest_revision = 0;
    for (const auto& secret : *secrets) {
        const std::string name = name_of(secret);
        const std::string prefix = fmt::format("{}{}.v", df::k_helm_release_secret_prefix, release);
        if (!name.starts_with(prefix) || label(secret, "status") != "deployed") {
            continue;
        }
        const int revision = std::atoi(name.substr(prefix.size()).c_str());
        if (revision > newest_revision) {
            newest_revision = revision;
            newest = &secret;
        }
    }
    if (newest == nullptr) {
        return std::optional<HelmRelease>();
    }
    HelmRelease out;
    out.name = release;
    out.ns = release_ns;
    out.revision = newest_revision;
    auto outer = util::base64_decode(text(child(*newest, "data"), "release"));
    if (outer) {
        if (auto decoded = decode_helm_release(*outer); decoded) {
            out.chart_version = text(child(child(*decoded, "chart"), "metadata"), "version");
            if (child(*decoded, "config").is_object()) {
                out.values = (*decoded)["config"];
            }
        } else if (decoded.error().kind == util::ErrorKind::invalid) {
            // Too large: refused, not read as "no values" (what a Secret that is not a release gives).
            return util::fail(
                util::ErrorKind::invalid,
                fmt::format("Secret {}/{}: {}", release_ns, name_of(*newest), decoded.error().message));
        }
    }
    return std::optional<HelmRelease>(std::move(out));
}

bool node_ready(const json& node) {
    for (const auto& condition : child(child(node, "status"), "conditions")) {
        if (text(condition, "type") == "Ready") {
            return text(condition, "status") == "True";
        }
    }
    return false;
}

} // namespace

bool helm_owned(const json& object) {
    return label(object, df::k_managed_by_label) == df::k_helm_managed_by ||
           !annotation(object, df::k_helm_release_name_annotation).empty();
}

util::Result<json> decode_helm_release(std::string_view release) {
    auto raw = util::base64_decode(release);
    if (!raw) {
        return std::unexpected(raw.error());
    }
    std::string text;
    switch (gunzip(*raw, df::k_max_helm_release_bytes, text)) {
    case Gunzip::ok:
        break;
    case Gunzip::not_gzip:
        text = *raw; // Helm stores uncompressed JSON too (older releases)
        break;
    case Gunzip::too_large:
        return util::fail(
            util::ErrorKind::invalid,
            fmt::format("the Helm release decompresses to more than {} MiB, the most meshlink "
                        "reads; refused (a real Cilium release is a few MiB: check who wrote it)",
                        df::k_max_helm_release_bytes >> 20U));
    }
    auto doc = util::parse_json(text);
    if (!doc) {
        return util::fail(util::ErrorKind::parse, "the Helm release is " + doc.error().message);
    }
    return std::move(*doc);
}

util::Result<void> step_resolve(Session& session, std::vector<Cluster*>& clusters) {
    return for_each_cluster(session, clusters, "resolving", [&](Cluster& c) { return resolve(session, c); });
}

util::Result<void> resolve(Session& session, Cluster& c) {
    MeshApi& api = *c.api;
    const std::string& ns = session.options().ns;
    auto config = api.get(Kind::config_map, ns, df::k_cilium_config);
    if (!config) {
        return std::unexpected(config.error().with_context(c.context));
    }
    if (!*config) {
        return util::fail(
            util::ErrorKind::not_found,
            fmt::format("{}: Cilium is not installed: no ConfigMap {}/{}; install Cilium with a "
                        "cluster name and ID first (kubectl meshlink preflight shows what is missing)",
                        c.context, ns, df::k_cilium_config));
    }
    const json& data = child(**config, "data");
    c.name = text(data, "cluster-name");
    c.id = text(data, "cluster-id");
    if (c.name.empty() || c.name == df::k_cilium_reserved_cluster_name) {
        return util::fail(
            util::ErrorKind::invalid,
            fmt::format("{}: cilium-config has no cluster-name (or \"default\"): every cluster of a "
                        "mesh needs a unique name and ID (Helm values cluster.name, cluster.id)",
                        c.context));
    }
    auto daemonset = api.get(Kind::daemon_set, ns, df::k_cilium_daemonset);
    if (!daemonset) {
        return std::unexpected(daemonset.error().with_context(c.context));
    }
    if (*daemonset) {
        c.daemonset_helm_owned = helm_owned(**daemonset);
        for (const auto& container :
             child(child(child(child(**daemonset, "spec"), "template"), "spec"), "containers")) {
            if (text(container, "name") == df::k_cilium_agent_container) {
                std::string image = text(container, "image");
                image = image.substr(0, image.find('@'));
                const auto colon = image.rfind(':');
                if (colon != std::string::npos && image.find('/', colon) == std::string::npos) {
                    c.cilium_version = image.substr(colon + 1);
                    if (c.cilium_version.starts_with('v')) {
                        c.cilium_version.erase(0, 1);
                    }
                }
            }
        }
    }
    auto release = find_release(api, ns, **config);
    if (!release) {
        return std::unexpected(release.error().with_context(c.context));
    }
    c.helm = std::move(*release);

    auto deployment = api.get(Kind::deployment, ns, df::k_clustermesh_apiserver);
    if (!deployment) {
        return std::unexpected(deployment.error().with_context(c.context));
    }
    c.apiserver = Apiserver{};
    if (*deployment) {
        const json& d = **deployment;
        c.apiserver.deployed = true;
        c.apiserver.helm_owned = helm_owned(d);
        const json& status = child(d, "status");
        const long long replicas = integer(child(d, "spec"), "replicas", 1);
        c.apiserver.ready =
            replicas > 0 && integer(status, "readyReplicas", 0) >= replicas &&
            integer(status, "observedGeneration", 0) >= integer(child(d, "metadata"), "generation", 0);
        for (const auto& container :
             child(child(child(child(d, "spec"), "template"), "spec"), "containers")) {
            c.apiserver.kvstoremesh =
                c.apiserver.kvstoremesh || text(container, "name") == df::k_kvstoremesh_container;
        }
    }
    auto service = api.get(Kind::service, ns, df::k_clustermesh_apiserver);
    if (!service) {
        return std::unexpected(service.error().with_context(c.context));
    }
    if (*service) {
        const json& spec = child(**service, "spec");
        c.apiserver.service_type = text(spec, "type");
        c.apiserver.service_helm_owned = helm_owned(**service);
        const json& ports = child(spec, "ports");
        if (ports.is_array() && !ports.empty() && child(ports[0], "nodePort").is_number_integer()) {
            c.apiserver.node_port = ports[0]["nodePort"].get<int>();
        }
        for (const auto& ingress : child(child(child(**service, "status"), "loadBalancer"), "ingress")) {
            const std::string address =
                !text(ingress, "ip").empty() ? text(ingress, "ip") : text(ingress, "hostname");
            if (!address.empty()) {
                c.apiserver.ingress.push_back(address);
            }
        }
    }
    struct Wanted {
        Secretish* into;
        std::string_view name;
    };
    for (const Wanted& wanted :
         {Wanted{&c.ca, df::k_cilium_ca_secret}, Wanted{&c.remote_cert, df::k_clustermesh_remote_cert},
          Wanted{&c.server_cert, df::k_clustermesh_server_cert},
          Wanted{&c.clustermesh, df::k_cilium_clustermesh_secret},
          Wanted{&c.kvstoremesh, df::k_cilium_kvstoremesh_secret}}) {
        auto secret = read_secret(api, ns, wanted.name);
        if (!secret) {
            return std::unexpected(secret.error().with_context(c.context));
        }
        *wanted.into = std::move(*secret);
    }
    auto nodes = api.list(Kind::node, "", "");
    if (!nodes) {
        return std::unexpected(nodes.error().with_context(c.context));
    }
    c.nodes.clear();
    for (const auto& node : *nodes) {
        NodeAddress address;
        address.name = name_of(node);
        for (const auto& item : child(child(node, "status"), "addresses")) {
            if (text(item, "type") == "InternalIP" && address.internal_ip.empty()) {
                address.internal_ip = text(item, "address");
            }
        }
        for (const auto& key : df::k_control_plane_node_labels) {
            address.control_plane =
                address.control_plane || child(child(child(node, "metadata"), "labels"), key).is_string();
        }
        address.ready = node_ready(node);
        c.nodes.push_back(std::move(address));
    }
    std::sort(c.nodes.begin(), c.nodes.end(), [](const auto& a, const auto& b) { return a.name < b.name; });

    if (!c.journal) {
        c.journal = std::make_unique<Journal>(api, ns, session.dry_run());
    }
    if (auto loaded = c.journal->load(c.name); !loaded) {
        return std::unexpected(loaded.error().with_context(c.context));
    }
    for (const auto& entry : c.journal->rejected()) {
        const std::string id =
            entry.id.empty() ? entry.raw.dump().substr(0, df::k_rejected_entry_shown) : entry.id;
        session.warn(c.name,
                     fmt::format("journal entry {} (ConfigMap {}/{}) is not one meshlink writes: {}; kept as "
                                 "it is and never acted on",
                                 util::printable(id), ns, df::k_mesh_journal,
                                 util::printable(entry.rejected)));
    }
    for (const auto& name : c.journal->rejected_peers()) {
        session.warn(c.name,
                     fmt::format("journal peer record \"{}\" (ConfigMap {}/{}) is not one meshlink writes; "
                                 "kept as it is and never acted on",
                                 util::printable(name), ns, df::k_mesh_journal));
    }
    return {};
}

} // namespace meshlink::plugin::mesh
