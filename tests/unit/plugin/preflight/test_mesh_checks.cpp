#include "kube/pki.hpp"
#include "plugin/preflight/checks.hpp"
#include "tests/unit/plugin/preflight/facts_builder.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink;
using namespace meshlink::plugin::preflight;
using namespace meshlink::plugin::preflight::testing;

namespace {

ClusterFacts cluster(std::string context, std::string name, std::string id, std::string pods,
                     std::string services) {
    auto facts = reachable_cluster(std::move(context), {{"cluster-name", std::move(name)},
                                                        {"cluster-id", std::move(id)},
                                                        {"routing-mode", "tunnel"},
                                                        {"tunnel-protocol", "vxlan"}});
    facts.pod_cidrs = util::Result<Cidrs>(cidrs(pods, "cilium-config cluster-pool-ipv4-cidr"));
    facts.service_cidrs = util::Result<Cidrs>(cidrs(services, "--service-cluster-ip-range"));
    return facts;
}

struct Fixture {
    ClusterFacts east = cluster("east", "east", "1", "10.1.0.0/16", "10.96.0.0/16");
    ClusterFacts west = cluster("west", "west", "2", "10.2.0.0/16", "10.97.0.0/16");

    Check judged(std::string_view id) const { return check_of(mesh_checks(east, west), id); }
    void set(ClusterFacts& facts, const std::string& key, const std::string& value) {
        (*facts.config->value())[key] = value;
    }
};

ClusterMeshService node_port(int port) {
    ClusterMeshService svc;
    svc.type = "NodePort";
    svc.port = 2379;
    svc.node_port = port;
    return svc;
}

kube::pki::KeyPair make_ca() {
    kube::pki::CertificateSpec spec;
    spec.common_name = "Cilium CA";
    auto pair = kube::pki::generate_ca(spec);
    BOOST_TEST_REQUIRE(pair.has_value());
    return *pair;
}

CaCertificate ca_of(const kube::pki::KeyPair& pair) {
    auto info = kube::pki::parse_certificate(pair.cert_pem);
    BOOST_TEST_REQUIRE(info.has_value());
    return CaCertificate{info->subject_cn, info->subject_key_id, pair.cert_pem};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(preflight_mesh_checks, Fixture)

BOOST_AUTO_TEST_CASE(a_distinct_pair_passes_every_check) {
    east.ca = west.ca = util::Result<std::optional<CaCertificate>>(
        CaCertificate{"Cilium CA", "00aa", "-----BEGIN CERTIFICATE-----"});
    const auto checks = mesh_checks(east, west);
    BOOST_TEST(checks.size() == 9u);
    for (const auto& check : checks) {
        BOOST_TEST(check.status == Status::pass, check.id << ": " << check.message);
        BOOST_TEST(check.cluster == "east,west");
        BOOST_TEST(check.scope == Scope::mesh);
    }
}

BOOST_AUTO_TEST_CASE(names_and_ids_must_differ) {
    set(west, "cluster-name", "east");
    BOOST_TEST(judged("mesh.cluster-name.unique").status == Status::fail);
    BOOST_TEST(judged("mesh.cluster-id.unique").status == Status::pass);
    set(west, "cluster-id", "1");
    BOOST_TEST(judged("mesh.cluster-id.unique").status == Status::fail);
}

BOOST_AUTO_TEST_CASE(pod_overlap_says_which_ranges_and_sources) {
    east.pod_cidrs = util::Result<Cidrs>(cidrs("10.0.0.0/8", "cilium-config cluster-pool-ipv4-cidr"));
    const auto check = judged("mesh.pod-cidr.overlap");
    BOOST_TEST(check.status == Status::fail);
    BOOST_TEST(contains(check.message, "10.0.0.0/8 with 10.2.0.0/16"), check.message);
    BOOST_TEST(contains(check.message, "cilium-config cluster-pool-ipv4-cidr"), check.message);
    // An unreadable side is unknown, never a pass.
    west.pod_cidrs = util::Result<Cidrs>(util::fail(util::ErrorKind::not_found, "no pod CIDR source"));
    BOOST_TEST(judged("mesh.pod-cidr.overlap").status == Status::unknown);
}

BOOST_AUTO_TEST_CASE(service_ranges_known_only_by_an_address) {
    auto address = [](std::string ip) {
        Cidrs out = cidrs(ip, "the address of Service default/kubernetes");
        out.address_only = true;
        return out;
    };
    east.service_cidrs = util::Result<Cidrs>(address("10.96.0.1"));
    west.service_cidrs = util::Result<Cidrs>(address("10.96.0.1"));
    const auto same = judged("mesh.service-cidr.overlap");
    BOOST_TEST(same.status == Status::fail);
    BOOST_TEST(contains(same.message, "most likely coincide"), same.message);
    west.service_cidrs = util::Result<Cidrs>(address("10.233.0.1"));
    BOOST_TEST(judged("mesh.service-cidr.overlap").status == Status::warn);
    // An address inside the other side's known range overlaps.
    west.service_cidrs = util::Result<Cidrs>(cidrs("10.96.0.0/12"));
    BOOST_TEST(judged("mesh.service-cidr.overlap").status == Status::fail);
}

BOOST_AUTO_TEST_CASE(datapath_compares_mode_and_protocol_including_the_legacy_key) {
    set(west, "tunnel-protocol", "geneve");
    BOOST_TEST(judged("mesh.datapath.match").status == Status::fail);
    set(west, "tunnel-protocol", "vxlan");
    BOOST_TEST(judged("mesh.datapath.match").status == Status::pass);
    // Cilium ≤ 1.13 wrote tunnel=disabled for native routing.
    (*west.config->value()).erase("routing-mode");
    (*west.config->value()).erase("tunnel-protocol");
    set(west, "tunnel", "disabled");
    const auto mixed = judged("mesh.datapath.match");
    BOOST_TEST(mixed.status == Status::fail);
    BOOST_TEST(contains(mixed.message, "legacy"), mixed.message);
    // With different modes, the native CIDR question does not arise yet.
    BOOST_TEST(judged("mesh.native-routing-cidr.covers").status == Status::unknown);
    set(east, "routing-mode", "native");
    (*east.config->value()).erase("tunnel-protocol");
    BOOST_TEST(judged("mesh.datapath.match").status == Status::pass);
}

BOOST_AUTO_TEST_CASE(native_routing_cidr_must_cover_every_clusters_pods) {
    for (auto* facts : {&east, &west}) {
        set(*facts, "routing-mode", "native");
        (*facts->config->value()).erase("tunnel-protocol");
    }
    set(east, "ipv4-native-routing-cidr", "10.1.0.0/16");
    set(west, "ipv4-native-routing-cidr", "10.0.0.0/8");
    const auto partial = judged("mesh.native-routing-cidr.covers");
    BOOST_TEST(partial.status == Status::fail);
    BOOST_TEST(
        contains(partial.message, "east's ipv4-native-routing-cidr 10.1.0.0/16 does not cover 10.2.0.0/16"),
        partial.message);
    set(east, "ipv4-native-routing-cidr", "10.0.0.0/8");
    BOOST_TEST(judged("mesh.native-routing-cidr.covers").status == Status::pass);
    (*east.config->value()).erase("ipv4-native-routing-cidr");
    BOOST_TEST(judged("mesh.native-routing-cidr.covers").status == Status::fail);
}

BOOST_AUTO_TEST_CASE(same_nodeport_fails_only_with_kube_proxy_replacement) {
    east.clustermesh = util::Result<std::optional<ClusterMeshService>>(node_port(32379));
    west.clustermesh = util::Result<std::optional<ClusterMeshService>>(node_port(32379));
    BOOST_TEST(judged("mesh.clustermesh-nodeport.distinct").status == Status::pass);
    set(west, "kube-proxy-replacement", "true");
    const auto check = judged("mesh.clustermesh-nodeport.distinct");
    BOOST_TEST(check.status == Status::fail);
    BOOST_TEST(contains(check.message, "32379"));
    BOOST_TEST(contains(check.hint, "nodePort"));
    set(west, "kube-proxy-replacement", "strict"); // the pre-1.14 spelling
    BOOST_TEST(judged("mesh.clustermesh-nodeport.distinct").status == Status::fail);
    west.clustermesh = util::Result<std::optional<ClusterMeshService>>(node_port(32380));
    BOOST_TEST(judged("mesh.clustermesh-nodeport.distinct").status == Status::pass);
}

BOOST_AUTO_TEST_CASE(different_or_missing_cas_are_warnings) {
    const auto a = make_ca();
    const auto b = make_ca();
    east.ca = util::Result<std::optional<CaCertificate>>(ca_of(a));
    west.ca = util::Result<std::optional<CaCertificate>>(ca_of(a));
    BOOST_TEST(judged("mesh.ca.match").status == Status::pass);
    west.ca = util::Result<std::optional<CaCertificate>>(ca_of(b));
    BOOST_TEST(judged("mesh.ca.match").status == Status::warn);
    west.ca = util::Result<std::optional<CaCertificate>>(std::nullopt);
    const auto missing = judged("mesh.ca.match");
    BOOST_TEST(missing.status == Status::warn);
    BOOST_TEST(contains(missing.message, "west"));
}

BOOST_AUTO_TEST_CASE(an_unreachable_peer_makes_every_mesh_check_unknown) {
    west.version = util::Result<kube::ServerVersion>(util::fail(util::ErrorKind::timeout, "timed out"));
    for (const auto& check : mesh_checks(east, west)) {
        BOOST_TEST(check.status == Status::unknown, check.id);
        BOOST_TEST(contains(check.message, "west"), check.message);
    }
}

BOOST_AUTO_TEST_SUITE_END()
