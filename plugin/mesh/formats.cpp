#include "plugin/mesh/formats.hpp"

#include "plugin/defaults.hpp"

#include <fmt/format.h>

namespace meshlink::plugin::mesh {

namespace df = defaults;

std::string file_prefix(ClientFiles files, std::string_view peer) {
    switch (files) {
    case ClientFiles::common:
        return "common-etcd-client";
    case ClientFiles::per_peer:
        return fmt::format("{}.etcd-client", peer);
    case ClientFiles::local:
        return "local-etcd-client";
    }
    return "common-etcd-client";
}

std::string etcd_config(std::string_view endpoint, ClientFiles files, std::string_view peer) {
    const std::string prefix = fmt::format("{}/{}", df::k_clustermesh_config_dir, file_prefix(files, peer));
    return fmt::format("endpoints:\n- {}\ntrusted-ca-file: {}-ca.crt\nkey-file: {}.key\ncert-file: {}.crt\n",
                       endpoint, prefix, prefix, prefix);
}

std::string mesh_hostname(std::string_view peer) {
    return fmt::format("{}.{}", peer, df::k_clustermesh_domain);
}

std::string peer_endpoint(std::string_view peer, int port) {
    return fmt::format("https://{}:{}", mesh_hostname(peer), port);
}

std::string kvstoremesh_endpoint(std::string_view ns) {
    return fmt::format("https://{}.{}.svc:{}", df::k_clustermesh_apiserver, ns, df::k_clustermesh_port);
}

std::string per_peer_ca_key(std::string_view peer) {
    return fmt::format("{}.etcd-client-ca.crt", peer);
}
std::string per_peer_key_key(std::string_view peer) {
    return fmt::format("{}.etcd-client.key", peer);
}
std::string per_peer_cert_key(std::string_view peer) {
    return fmt::format("{}.etcd-client.crt", peer);
}

} // namespace meshlink::plugin::mesh
