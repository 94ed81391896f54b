// The etcd configs join writes, compared with the formats in docs/cilium-clustermesh.md (transcribed here,
// and read from the document itself).
#include "plugin/mesh/formats.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace mesh = meshlink::plugin::mesh;

namespace {

// The fenced blocks of docs/cilium-clustermesh.md that start with "endpoints:".
std::vector<std::string> documented_blocks() {
    const auto path = std::filesystem::path(MESHLINK_SOURCE_DIR) / "docs/cilium-clustermesh.md";
    std::ifstream in(path);
    BOOST_TEST_REQUIRE(in.is_open(), path);
    std::vector<std::string> blocks;
    std::string line;
    std::string block;
    bool inside = false;
    while (std::getline(in, line)) {
        const auto first = line.find_first_not_of(' ');
        const std::string trimmed = first == std::string::npos ? "" : line.substr(first);
        if (trimmed.starts_with("```")) {
            if (inside && block.starts_with("endpoints:")) {
                blocks.push_back(block);
            }
            inside = !inside;
            block.clear();
            continue;
        }
        if (inside) {
            // Drop trailing comments ("   # when ips set ...").
            std::string text = trimmed;
            if (auto hash = text.find("  #"); hash != std::string::npos) {
                text = text.substr(0, hash);
                while (!text.empty() && text.back() == ' ') {
                    text.pop_back();
                }
            }
            if (!text.starts_with("#")) {
                block += text + "\n";
            }
        }
    }
    return blocks;
}

std::string substitute(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

} // namespace

BOOST_AUTO_TEST_SUITE(mesh_formats)

BOOST_AUTO_TEST_CASE(shared_ca_entry_is_the_helm_mode_text) {
    // "Shared-CA entry": helm mode without KVStoreMesh.
    const std::string expected = "endpoints:\n"
                                 "- https://cluster02.mesh.cilium.io:32380\n"
                                 "trusted-ca-file: /var/lib/cilium/clustermesh/common-etcd-client-ca.crt\n"
                                 "key-file: /var/lib/cilium/clustermesh/common-etcd-client.key\n"
                                 "cert-file: /var/lib/cilium/clustermesh/common-etcd-client.crt\n";
    BOOST_TEST(mesh::etcd_config(mesh::peer_endpoint("cluster02", 32380), mesh::ClientFiles::common,
                                 "cluster02") == expected);
}

BOOST_AUTO_TEST_CASE(per_peer_entry_is_the_classic_text) {
    // "Per-peer entry": the classic per-peer files.
    const std::string expected = "endpoints:\n"
                                 "- https://cluster02.mesh.cilium.io:31000\n"
                                 "trusted-ca-file: /var/lib/cilium/clustermesh/cluster02.etcd-client-ca.crt\n"
                                 "key-file: /var/lib/cilium/clustermesh/cluster02.etcd-client.key\n"
                                 "cert-file: /var/lib/cilium/clustermesh/cluster02.etcd-client.crt\n";
    BOOST_TEST(mesh::etcd_config(mesh::peer_endpoint("cluster02", 31000), mesh::ClientFiles::per_peer,
                                 "cluster02") == expected);
    BOOST_TEST(mesh::per_peer_ca_key("cluster02") == "cluster02.etcd-client-ca.crt");
    BOOST_TEST(mesh::per_peer_key_key("cluster02") == "cluster02.etcd-client.key");
    BOOST_TEST(mesh::per_peer_cert_key("cluster02") == "cluster02.etcd-client.crt");
}

BOOST_AUTO_TEST_CASE(kvstoremesh_override_points_agents_at_the_local_apiserver) {
    // "KVStoreMesh entry": override endpoint and local-etcd-client files.
    const std::string expected = "endpoints:\n"
                                 "- https://clustermesh-apiserver.kube-system.svc:2379\n"
                                 "trusted-ca-file: /var/lib/cilium/clustermesh/local-etcd-client-ca.crt\n"
                                 "key-file: /var/lib/cilium/clustermesh/local-etcd-client.key\n"
                                 "cert-file: /var/lib/cilium/clustermesh/local-etcd-client.crt\n";
    BOOST_TEST(mesh::etcd_config(mesh::kvstoremesh_endpoint("kube-system"), mesh::ClientFiles::local,
                                 "cluster02") == expected);
}

BOOST_AUTO_TEST_CASE(texts_match_the_documented_formats) {
    int per_peer = 0;
    int shared = 0;
    int local = 0;
    for (const auto& block : documented_blocks()) {
        const std::string expected = substitute(substitute(block, "<peer>", "cluster02"), "<port>", "31000");
        if (block.find("<peer>.etcd-client-ca.crt") != std::string::npos) {
            BOOST_TEST(mesh::etcd_config(mesh::peer_endpoint("cluster02", 31000), mesh::ClientFiles::per_peer,
                                         "cluster02") == expected);
            ++per_peer;
        } else if (block.find("common-etcd-client-ca.crt") != std::string::npos) {
            BOOST_TEST(mesh::etcd_config(mesh::peer_endpoint("cluster02", 31000), mesh::ClientFiles::common,
                                         "cluster02") == expected);
            ++shared;
        } else if (block.find("local-etcd-client-ca.crt") != std::string::npos) {
            BOOST_TEST(mesh::etcd_config(mesh::kvstoremesh_endpoint("kube-system"), mesh::ClientFiles::local,
                                         "cluster02") == expected);
            ++local;
        }
    }
    BOOST_TEST(per_peer == 1);
    BOOST_TEST(shared == 1);
    BOOST_TEST(local == 1);
}

BOOST_AUTO_TEST_SUITE_END()
