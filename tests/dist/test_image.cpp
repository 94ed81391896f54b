// The agent image of `make image`: an OCI layout archive holding one index for linux/amd64 and linux/arm64,
// each image FROM scratch with only the static agent of the release archive, its licences, a CA bundle and a
// root passwd entry; rebuilding gives the same digests (reproducible); the amd64 image's root file system
// runs the agent under chroot.

#include "tests/dist/dist_support.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

using namespace meshlink;
using namespace meshlink::test;
using namespace meshlink::test::dist;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::optional<fs::path> image_archive() {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dist_dir(), error)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with("meshlink-agent_v") && name.ends_with("_oci.tar")) {
            return entry.path();
        }
    }
    return std::nullopt;
}

boost::test_tools::assertion_result have_image(boost::unit_test::test_unit_id) {
    if (image_archive()) {
        return true;
    }
    boost::test_tools::assertion_result skipped(false);
    skipped.message() << "no meshlink-agent_<version>_oci.tar in " << dist_dir().string()
                      << " (run make image)";
    return skipped;
}

json read_json(const fs::path& path) {
    std::ifstream in(path);
    return json::parse(in);
}

fs::path blob(const fs::path& layout, const std::string& digest) {
    return layout / "blobs" / "sha256" / digest.substr(std::string("sha256:").size());
}

// The OCI layout unpacked, and its index's manifests by architecture.
struct Layout {
    TempDirectory dir;
    json index;
    std::map<std::string, json> manifests; // "amd64" -> image manifest
    explicit Layout(const fs::path& archive) {
        auto unpacked =
            run_command({"tar", "-xf", archive.string(), "-C", dir.path().string()}, environment_with({}));
        BOOST_TEST_REQUIRE(unpacked.has_value());
        BOOST_TEST_REQUIRE(unpacked->exit_code == 0, unpacked->err);
        BOOST_TEST_REQUIRE(fs::exists(dir.path() / "oci-layout"));
        index = read_json(dir.path() / "index.json");
        json list = index;
        // index.json may point at one image index (a multi-arch list) or list the manifests itself.
        if (index["manifests"].size() == 1 &&
            index["manifests"][0]["mediaType"] == "application/vnd.oci.image.index.v1+json") {
            list = read_json(blob(dir.path(), index["manifests"][0]["digest"]));
        }
        for (const auto& entry : list["manifests"]) {
            manifests[entry["platform"]["architecture"]] = read_json(blob(dir.path(), entry["digest"]));
        }
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(image, *boost::unit_test::precondition(have_image))

BOOST_AUTO_TEST_CASE(one_index_for_amd64_and_arm64_of_scratch_images) {
    Layout layout(*image_archive());
    BOOST_TEST(layout.manifests.size() == 2U);
    for (const std::string arch : {"amd64", "arm64"}) {
        BOOST_TEST_REQUIRE(layout.manifests.contains(arch), arch);
        const json& manifest = layout.manifests[arch];
        const json config = read_json(blob(layout.dir.path(), manifest["config"]["digest"]));
        BOOST_TEST(config["architecture"] == arch);
        BOOST_TEST(config["os"] == "linux");
        BOOST_TEST(config["config"]["Entrypoint"] == json::array({"/usr/local/bin/meshlink-agent"}));
        BOOST_TEST(manifest["layers"].size() == 1U); // FROM scratch: our one layer only
        auto listing =
            run_command({"tar", "-tzvf", blob(layout.dir.path(), manifest["layers"][0]["digest"]).string()},
                        environment_with({}));
        BOOST_TEST_REQUIRE(listing.has_value());
        std::set<std::string> files;
        std::istringstream lines(listing->out);
        for (std::string line; std::getline(lines, line);) {
            if (line.front() == '-') {
                files.insert(line.substr(line.rfind(' ') + 1));
            }
        }
        const std::set<std::string> expected{"etc/group",
                                             "etc/passwd",
                                             "etc/ssl/certs/ca-certificates.crt",
                                             "usr/local/bin/meshlink-agent",
                                             "usr/share/doc/meshlink-agent/LICENSE",
                                             "usr/share/doc/meshlink-agent/THIRD-PARTY-NOTICES"};
        BOOST_TEST((files == expected), listing->out);
    }
}

// The image ships the very agent of the platform's release archive (one build, one set of bytes) and the
// licences that come with it: the static agent contains OpenSSL, curl, glibc..., so their notices travel too.
BOOST_AUTO_TEST_CASE(each_image_holds_the_agent_and_notices_of_its_archive) {
    Layout layout(*image_archive());
    for (const std::string arch : {"amd64", "arm64"}) {
        const auto release = archive(arch);
        BOOST_TEST_REQUIRE(release.has_value(), "no release archive for " << arch << " beside the image");
        const TempDirectory from_archive;
        const TempDirectory from_image;
        extract(*release, from_archive.path());
        extract(blob(layout.dir.path(), layout.manifests[arch]["layers"][0]["digest"]), from_image.path());
        BOOST_TEST(sha256_of(from_image.path() / "usr/local/bin/meshlink-agent") ==
                       sha256_of(from_archive.path() / "meshlink-agent"),
                   arch);
        for (const std::string notice : {"LICENSE", "THIRD-PARTY-NOTICES"}) {
            BOOST_TEST(read_file(from_image.path() / "usr/share/doc/meshlink-agent" / notice) ==
                           read_file(from_archive.path() / notice),
                       arch << " " << notice);
        }
    }
}

// The DaemonSet of manifests/ (what `agent install` applies) names the image by the tag the archive carries,
// so pushing the archive under that name is all a release needs; a digest pin replaces the tag (README
// "Install").
BOOST_AUTO_TEST_CASE(the_daemonset_names_the_archive_s_tag) {
    Layout layout(*image_archive());
    const std::string reference =
        layout.index["manifests"][0]["annotations"].value("org.opencontainers.image.ref.name", "");
    BOOST_TEST_REQUIRE(!reference.empty(), layout.index.dump());
    const std::string version =
        image_archive()->filename().string().substr(std::string("meshlink-agent_").size());
    BOOST_TEST(reference.ends_with(":" + version.substr(0, version.find('_'))), reference);
    const std::string daemonset = read_file(fs::path(MESHLINK_SOURCE_DIR) / "manifests/agent/daemonset.yaml");
    BOOST_TEST(daemonset.find("image: " + reference + "\n") != std::string::npos,
               "manifests/agent/daemonset.yaml does not name " << reference);
}

BOOST_AUTO_TEST_CASE(the_amd64_image_runs_the_agent_from_its_own_root,
                     *boost::unit_test::precondition(is_root)) {
    Layout layout(*image_archive());
    const TempDirectory rootfs;
    const json& manifest = layout.manifests["amd64"];
    auto unpacked =
        run_command({"tar", "-xzf", blob(layout.dir.path(), manifest["layers"][0]["digest"]).string(), "-C",
                     rootfs.path().string()},
                    environment_with({}));
    BOOST_TEST_REQUIRE(unpacked.has_value());
    const auto version =
        run_in_root(rootfs.path(), "amd64", {"/usr/local/bin/meshlink-agent", "version"}, {});
    BOOST_TEST(version.exit_code == 0, version.err);
    BOOST_TEST(version.out.starts_with("meshlink-agent "), version.out);
    const auto probe = run_in_root(
        rootfs.path(), "amd64", {"/usr/local/bin/meshlink-agent", "probe", "--skip-bpf", "-o", "json"}, {});
    BOOST_TEST((probe.exit_code == 0 || probe.exit_code == 1), probe.err);
    BOOST_TEST(probe.out.find("\"schemaVersion\"") != std::string::npos, probe.out);
}

BOOST_AUTO_TEST_CASE(rebuilding_gives_the_same_digests) {
    // A storage of its own (MESHLINK_CACHE): nothing of the first build's buildah state is reused.
    const TempDirectory again;
    const TempDirectory storage;
    auto built = run_command({(fs::path(MESHLINK_SOURCE_DIR) / "scripts" / "build-image").string(),
                              image_archive()->parent_path().string(), again.path().string()},
                             environment_with({"MESHLINK_CACHE=" + storage.path().string()}),
                             std::chrono::seconds(1200));
    BOOST_TEST_REQUIRE(built.has_value());
    BOOST_TEST_REQUIRE(built->exit_code == 0, built->err);
    Layout first(*image_archive());
    Layout second(again.path() / image_archive()->filename());
    BOOST_TEST(first.index.dump() == second.index.dump());
    for (const std::string arch : {"amd64", "arm64"}) {
        BOOST_TEST(first.manifests[arch].dump() == second.manifests[arch].dump(), arch);
    }
}

BOOST_AUTO_TEST_SUITE_END()
