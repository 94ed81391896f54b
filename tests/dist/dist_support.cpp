#include "tests/dist/dist_support.hpp"

#include "util/file.hpp"
#include "util/subprocess.hpp"

#include <unistd.h>

#include <cstdlib>

namespace meshlink::test::dist {
namespace fs = std::filesystem;

fs::path dist_dir() {
    if (const char* dir = std::getenv("MESHLINK_DIST_DIR"); dir != nullptr && *dir != '\0') {
        return dir;
    }
    return fs::path(MESHLINK_SOURCE_DIR) / "dist";
}

fs::path release_build_dir(const std::string& arch) {
    if (const char* dir = std::getenv("MESHLINK_DIST_BUILD_DIR"); dir != nullptr && *dir != '\0') {
        return fs::path(dir) / ("dist-" + arch);
    }
    return fs::path(MESHLINK_BINARY_DIR).parent_path() / ("dist-" + arch);
}

std::optional<fs::path> archive(const std::string& arch) {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dist_dir(), error)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with("kubectl-meshlink_v") && name.ends_with("_linux_" + arch + ".tar.gz")) {
            return entry.path();
        }
    }
    return std::nullopt;
}

std::string version_of(const fs::path& archive) {
    const std::string name = archive.filename().string();
    const auto start = std::string("kubectl-meshlink_").size();
    return name.substr(start, name.find('_', start) - start);
}

void extract(const fs::path& archive, const fs::path& into) {
    fs::create_directories(into);
    auto result = run_command({"tar", "-xzf", archive.string(), "-C", into.string()}, environment_with({}));
    BOOST_TEST_REQUIRE(result.has_value(), error_message(result));
    BOOST_TEST_REQUIRE(result->exit_code == 0, result->err);
}

boost::unit_test::precondition::predicate_t have_archive(std::string arch) {
    return [arch](boost::unit_test::test_unit_id) -> boost::test_tools::assertion_result {
        if (archive(arch)) {
            return true;
        }
        boost::test_tools::assertion_result skipped(false);
        skipped.message() << "no linux/" << arch << " archive in " << dist_dir().string()
                          << " (run make dist)";
        return skipped;
    };
}

boost::unit_test::precondition::predicate_t have_program(std::string program, std::string package) {
    return [program, package](boost::unit_test::test_unit_id) -> boost::test_tools::assertion_result {
        if (util::find_executable(program)) {
            return true;
        }
        boost::test_tools::assertion_result skipped(false);
        skipped.message() << program << " is not installed (" << package << ")";
        return skipped;
    };
}

boost::test_tools::assertion_result is_root(boost::unit_test::test_unit_id) {
    if (::geteuid() == 0) {
        return true;
    }
    boost::test_tools::assertion_result skipped(false);
    skipped.message() << "needs root (chroot)";
    return skipped;
}

CommandResult run_in_root(const fs::path& root, const std::string& arch, std::vector<std::string> argv,
                          const std::vector<std::string>& env) {
    if (arch == "arm64") {
        const auto qemu = util::find_executable("qemu-aarch64-static");
        BOOST_TEST_REQUIRE(qemu.has_value(), "qemu-aarch64-static is not installed");
        fs::copy_file(*qemu, root / "qemu-aarch64-static", fs::copy_options::overwrite_existing);
        argv.insert(argv.begin(), "/qemu-aarch64-static");
    }
    // chroot by its full path: `env -i` looks programs up in the PATH it is given, which has no sbin.
    const auto chroot = util::find_executable("chroot");
    BOOST_TEST_REQUIRE(chroot.has_value(), "chroot is not installed");
    argv.insert(argv.begin(), {chroot->string(), root.string()});
    // env -i: the process in the root sees only `env`, as on a machine that has nothing of ours.
    std::vector<std::string> command{"env", "-i"};
    command.insert(command.end(), env.begin(), env.end());
    command.insert(command.end(), argv.begin(), argv.end());
    auto ran = run_command(command, environment_with({}), std::chrono::seconds(300));
    BOOST_TEST_REQUIRE(ran.has_value(), error_message(ran));
    return std::move(*ran);
}

std::string read_file(const fs::path& path) {
    auto content = util::read_file(path);
    BOOST_TEST_REQUIRE(content.has_value(), path.string() << ": " << content.error().reason());
    return std::move(*content);
}

std::string sha256_of(const fs::path& file) {
    auto result = run_command({"sha256sum", file.string()}, environment_with({}));
    BOOST_TEST_REQUIRE(result.has_value(), error_message(result));
    return result->out.substr(0, 64);
}

} // namespace meshlink::test::dist
