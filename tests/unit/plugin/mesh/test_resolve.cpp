// Step 1 reads Helm's release Secret, which anyone who can write Secrets in the Cilium namespace can plant.
#include "memory_api.hpp"
#include "plugin/mesh/session.hpp"
#include "plugin/mesh/step_resolve.hpp"
#include "util/base64.hpp"

#include <boost/test/unit_test.hpp>
#include <zlib.h>

using namespace meshlink;
namespace mesh = plugin::mesh;
using nlohmann::json;
using test::MemoryApi;
using test::ScriptedHost;

namespace {

// gzip as Helm writes it (the test compresses with zlib itself, not with the code under test).
std::string gzip(std::string_view text) {
    z_stream stream{};
    BOOST_TEST_REQUIRE(
        deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&stream, text.size()), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    stream.avail_in = static_cast<uInt>(text.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    BOOST_TEST_REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

// A release whose JSON is `padding` spaces longer than a small real one.
std::string release_value(std::size_t padding) {
    const std::string json_text =
        R"({"name":"cilium","chart":{"metadata":{"version":"1.16.12"}},"config":{"cluster":{"name":"c1"}}})" +
        std::string(padding, ' ');
    return util::base64_encode(gzip(json_text)); // Helm's own base64; the Secret's is added by put()
}

void put_cluster(MemoryApi& api, const std::string& release) {
    api.put(mesh::Kind::config_map,
            json{{"metadata", {{"name", "cilium-config"}, {"namespace", "kube-system"}}},
                 {"data", {{"cluster-name", "c1"}, {"cluster-id", "1"}}}});
    api.put(mesh::Kind::secret,
            json{{"metadata",
                  {{"name", "sh.helm.release.v1.cilium.v3"},
                   {"namespace", "kube-system"},
                   {"labels", {{"owner", "helm"}, {"name", "cilium"}, {"status", "deployed"}}}}},
                 {"data", {{"release", util::base64_encode(release)}}}});
}

} // namespace

BOOST_AUTO_TEST_SUITE(mesh_resolve)

BOOST_AUTO_TEST_CASE(a_gzip_bomb_in_the_helm_release_is_refused_naming_the_secret) {
    // 1 GiB of spaces would gzip to ~1 MiB, what a Secret holds; 65 MiB keeps the test quick and is past the
    // limit all the same.
    const std::string bomb = release_value(std::size_t{65} << 20U);
    BOOST_TEST_REQUIRE(bomb.size() < std::size_t{1} << 20U); // fits in a Secret
    auto decoded = mesh::decode_helm_release(bomb);
    BOOST_TEST_REQUIRE(!decoded.has_value());
    BOOST_TEST(decoded.error().message.find("decompresses to more than 64 MiB") != std::string::npos,
               decoded.error().message);

    MemoryApi api;
    ScriptedHost host;
    put_cluster(api, bomb);
    mesh::Session session(mesh::JoinOptions{}, host, nullptr, nullptr);
    mesh::Cluster c;
    c.context = "ctx-1";
    c.api = &api;
    auto resolved = mesh::resolve(session, c);
    BOOST_TEST_REQUIRE(!resolved.has_value());
    BOOST_TEST(
        resolved.error().message.find("Secret kube-system/sh.helm.release.v1.cilium.v3: the Helm release "
                                      "decompresses to more than 64 MiB") != std::string::npos,
        resolved.error().message);
}

BOOST_AUTO_TEST_CASE(a_release_of_real_size_is_read) {
    // A few MiB, like a real Cilium release (chart files, values, rendered manifest).
    auto decoded = mesh::decode_helm_release(release_value(std::size_t{6} << 20U));
    BOOST_TEST_REQUIRE(decoded.has_value(), test::error_message(decoded));
    BOOST_TEST((*decoded)["chart"]["metadata"]["version"] == "1.16.12");
    BOOST_TEST((*decoded)["config"]["cluster"]["name"] == "c1");
}

BOOST_AUTO_TEST_SUITE_END()
