// The etcd configs join writes, compared with the text of ../shared/reference/cilium-clustermesh.md
// (transcribed here; and read from the reference itself when it is next to the repository).
#include "plugin/mesh/formats.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace mesh = meshlink::plugin::mesh;

namespace {

// The fenced blocks of the reference that start with "endpoints:".
std::vector<std::string> reference_blocks() {
    const auto path =
        std::filesystem::path(MESHLINK_SOURCE_DIR) / "../shared/reference/cilium-clustermesh.md";
    std::ifstream in(path);
    std::vector<std::string> blocks;
    if (!in) {
        return blocks;
    }
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
            // Drop the reference's own comments ("   # when ips set ...").
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
    // Reference, "What a native implementation must do", 3. Connect, without KVStoreMesh.
    const std::string expected = "endpoints:\n"
                                 "- https://cluster02.mesh.cilium.io:32380\n"
                                 "trusted-ca-file: /var/lib/cilium/clustermesh/common-etcd-client-ca.crt\n"
                                 "key-file: /var/lib/cilium/clustermesh/common-etcd-client.key\n"
                                 "cert-file: /var/lib/cilium/clustermesh/common-etcd-client.crt\n";
    BOOST_TEST(mesh::etcd_config(mesh::peer_endpoint("cluster02", 32380), mesh::ClientFiles::common,
                                 "cluster02") == expected);
}

BOOST_AUTO_TEST_CASE(per_peer_entry_is_the_classic_text) {
    // Reference §2b: the classic per-peer files.
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
    // Reference §2c, KVStoreMesh: override endpoint and local-etcd-client files.
    const std::string expected = "endpoints:\n"
                                 "- https://clustermesh-apiserver.kube-system.svc:2379\n"
                                 "trusted-ca-file: /var/lib/cilium/clustermesh/local-etcd-client-ca.crt\n"
                                 "key-file: /var/lib/cilium/clustermesh/local-etcd-client.key\n"
                                 "cert-file: /var/lib/cilium/clustermesh/local-etcd-client.crt\n";
    BOOST_TEST(mesh::etcd_config(mesh::kvstoremesh_endpoint("kube-system"), mesh::ClientFiles::local,
                                 "cluster02") == expected);
}

BOOST_AUTO_TEST_CASE(texts_match_the_reference_document_itself) {
    const auto blocks = reference_blocks();
    if (blocks.empty()) {
        BOOST_TEST_MESSAGE("../shared/reference/cilium-clustermesh.md not found next to the repository; "
                           "transcribed texts only");
        return;
    }
    bool classic = false;
    bool shared = false;
    for (const auto& block : blocks) {
        if (block.find("<peer>.etcd-client-ca.crt") != std::string::npos) {
            const std::string expected =
                substitute(substitute(block, "<peer>", "cluster02"), "<port>", "31000");
            BOOST_TEST(mesh::etcd_config(mesh::peer_endpoint("cluster02", 31000), mesh::ClientFiles::per_peer,
                                         "cluster02") == expected);
            classic = true;
        }
        if (block.find("<B>.mesh.cilium.io:<nodePortB>") != std::string::npos) {
            const std::string expected =
                substitute(substitute(block, "<B>", "cluster02"), "<nodePortB>", "32380");
            BOOST_TEST(mesh::etcd_config(mesh::peer_endpoint("cluster02", 32380), mesh::ClientFiles::common,
                                         "cluster02") == expected);
            shared = true;
        }
    }
    BOOST_TEST(classic);
    BOOST_TEST(shared);
}

BOOST_AUTO_TEST_SUITE_END()
