#pragma once
// Shared by the release artefact tests: where the artefacts are, extracting an archive, running a command in
// a chroot (natively or under qemu-aarch64-static), and the Krew manifest.

#include "tests/integration/support/fakekube_process.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::test::dist {

// $MESHLINK_DIST_DIR, else <source>/dist.
std::filesystem::path dist_dir();
// Where `make dist` built `arch`: $MESHLINK_DIST_BUILD_DIR/dist-<arch>, else next to this build tree
// (<build>/dist-<arch>, as the Makefile lays them out).
std::filesystem::path release_build_dir(const std::string& arch);
// The archive of `arch` in dist_dir(), if `make dist` made it.
std::optional<std::filesystem::path> archive(const std::string& arch);
// "v0.1.0" from the archive's name.
std::string version_of(const std::filesystem::path& archive);
// Unpacks `archive` into `into` (tar).
void extract(const std::filesystem::path& archive, const std::filesystem::path& into);

// Boost precondition: the archive of `arch` exists (else the case is skipped, naming `make dist`).
boost::unit_test::precondition::predicate_t have_archive(std::string arch);
// Boost precondition: `program` is on PATH (else the case is skipped, naming `package` to install).
boost::unit_test::precondition::predicate_t have_program(std::string program, std::string package);
// Boost precondition: running as root (chroot, mounts).
boost::test_tools::assertion_result is_root(boost::unit_test::test_unit_id);

// Runs `argv` inside `root` with chroot, under qemu-aarch64-static for arm64 (copied into the root).
CommandResult run_in_root(const std::filesystem::path& root, const std::string& arch,
                          std::vector<std::string> argv,
                          const std::vector<std::string>& env = {"PATH=/bin:/usr/bin", "NO_COLOR=1"});

// The whole content of a file (the test stops when it cannot be read).
std::string read_file(const std::filesystem::path& path);

// sha256 (lowercase hex) of a file.
std::string sha256_of(const std::filesystem::path& file);

} // namespace meshlink::test::dist
