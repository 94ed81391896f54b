#pragma once
// The formats Cilium's agents and KVStoreMesh read (docs/cilium-clustermesh.md, "The cilium-clustermesh
// Secret"): the etcd configuration each cluster entry of cilium-clustermesh / cilium-kvstoremesh holds, and
// the names of the files the agent's projected volume makes of a Secret's keys.

#include <string>
#include <string_view>

namespace meshlink::plugin::mesh {

// Which client certificate an entry uses, i.e. the prefix of its three files under
// /var/lib/cilium/clustermesh/:
//   common:   common-etcd-client{-ca.crt,.key,.crt}  the local remote-cert; the CA is shared
//   per_peer: <peer>.etcd-client{-ca.crt,.key,.crt}  the peer's CA and remote cert, carried in the Secret
//   local:    local-etcd-client{-ca.crt,.key,.crt}   KVStoreMesh: agents read the local apiserver
enum class ClientFiles { common, per_peer, local };

// The file prefix for `files` ("common-etcd-client", "<peer>.etcd-client", "local-etcd-client").
std::string file_prefix(ClientFiles files, std::string_view peer);

// The etcd config text of one entry:
//   endpoints:
//   - <endpoint>
//   trusted-ca-file: /var/lib/cilium/clustermesh/<prefix>-ca.crt
//   key-file: /var/lib/cilium/clustermesh/<prefix>.key
//   cert-file: /var/lib/cilium/clustermesh/<prefix>.crt
std::string etcd_config(std::string_view endpoint, ClientFiles files, std::string_view peer);

// https://<peer>.mesh.cilium.io:<port>
std::string peer_endpoint(std::string_view peer, int port);
// https://clustermesh-apiserver.<ns>.svc:2379, what agents use when KVStoreMesh runs.
std::string kvstoremesh_endpoint(std::string_view ns);
// <peer>.mesh.cilium.io
std::string mesh_hostname(std::string_view peer);

// The Secret keys of a per-peer entry: "<peer>.etcd-client-ca.crt", "<peer>.etcd-client.key",
// "<peer>.etcd-client.crt".
std::string per_peer_ca_key(std::string_view peer);
std::string per_peer_key_key(std::string_view peer);
std::string per_peer_cert_key(std::string_view peer);

} // namespace meshlink::plugin::mesh
