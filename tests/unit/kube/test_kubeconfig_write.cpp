#include "kube/kubeconfig_write.hpp"

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using namespace meshlink::kube;
using namespace meshlink::util;
using namespace std::chrono_literals;

namespace {

struct Dir {
    fs::path path;
    Dir() {
        std::string pattern = (fs::temp_directory_path() / "meshlink-write-XXXXXX").string();
        path = ::mkdtemp(pattern.data());
    }
    ~Dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

unsigned mode_of(const fs::path& path) {
    struct stat info {};
    ::stat(path.c_str(), &info);
    return info.st_mode & 07777;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

const std::string k_config = "apiVersion: v1\nkind: Config\n";

} // namespace

BOOST_TEST_DONT_PRINT_LOG_VALUE(meshlink::util::ErrorKind)

BOOST_AUTO_TEST_SUITE(kubeconfig_write)

BOOST_AUTO_TEST_CASE(lock_is_kubectls_lock_file_and_is_exclusive) {
    Dir dir;
    const fs::path file = dir.path / "sub" / "config";
    {
        auto lock = KubeconfigLock::acquire(file, 0s);
        BOOST_TEST_REQUIRE(lock.has_value(), lock.error().message);
        BOOST_TEST(lock->lock_path() == fs::path(file.string() + ".lock"));
        BOOST_TEST(fs::exists(file.string() + ".lock"));
        BOOST_TEST((mode_of(dir.path / "sub") & 0777) == 0755U); // created like client-go
        auto second = KubeconfigLock::acquire(file, 100ms);
        BOOST_TEST_REQUIRE(!second.has_value());
        BOOST_TEST((second.error().kind == ErrorKind::timeout));
        BOOST_TEST(contains(second.error().message, file.string() + ".lock exists"), second.error().message);
        BOOST_TEST(contains(second.error().message, "rm " + file.string() + ".lock"));
    }
    BOOST_TEST(!fs::exists(file.string() + ".lock"));
}

BOOST_AUTO_TEST_CASE(a_held_lock_is_waited_for) {
    Dir dir;
    const fs::path file = dir.path / "config";
    auto first = KubeconfigLock::acquire(file, 0s);
    BOOST_TEST_REQUIRE(first.has_value());
    std::thread releaser([&] {
        std::this_thread::sleep_for(100ms);
        first->release();
    });
    auto second = KubeconfigLock::acquire(file, 30s);
    releaser.join();
    BOOST_TEST(second.has_value());
}

BOOST_AUTO_TEST_CASE(new_files_are_0600_and_existing_keep_their_mode) {
    Dir dir;
    const fs::path file = dir.path / "a" / "b" / "config";
    auto created = write_kubeconfig_atomically(file, k_config);
    BOOST_TEST_REQUIRE(created.has_value(), created.error().message);
    BOOST_TEST(created->created);
    BOOST_TEST(!created->backup.has_value());
    BOOST_TEST(mode_of(file) == 0600U);
    BOOST_TEST(read(file) == k_config);

    ::chmod(file.c_str(), 0640);
    auto replaced = write_kubeconfig_atomically(file, k_config + "current-context: x\n");
    BOOST_TEST_REQUIRE(replaced.has_value());
    BOOST_TEST(mode_of(file) == 0640U);
    BOOST_TEST_REQUIRE(replaced->backup.has_value());
    BOOST_TEST(read(*replaced->backup) == k_config);

    auto same = write_kubeconfig_atomically(file, k_config + "current-context: x\n");
    BOOST_TEST_REQUIRE(same.has_value());
    BOOST_TEST(same->unchanged);
    BOOST_TEST(kubeconfig_backups(file).size() == 1U);
}

BOOST_AUTO_TEST_CASE(backups_are_0600_whatever_the_file_mode_and_outlive_no_chmod) {
    Dir dir;
    const fs::path file = dir.path / "config";
    std::ofstream(file) << k_config << "users:\n- name: u\n  user: {token: old-secret}\n";
    ::chmod(file.c_str(), 0644); // world-readable, as many a kubeconfig was once
    auto first = write_kubeconfig_atomically(file, k_config + "# 1\n");
    BOOST_TEST_REQUIRE(first.has_value(), first.error().message);
    BOOST_TEST_REQUIRE(first->backup.has_value());
    // The backup holds the old token: never readable by others, even though the file was.
    BOOST_TEST(mode_of(*first->backup) == 0600U);
    BOOST_TEST(contains(read(*first->backup), "old-secret"));
    // The user tightens the file; the next backup is 0600 too, and the earlier one stayed so. (A hard link
    // of the old file kept 0644 after this chmod.)
    ::chmod(file.c_str(), 0600);
    auto second = write_kubeconfig_atomically(file, k_config + "# 2\n");
    BOOST_TEST_REQUIRE(second.has_value(), second.error().message);
    BOOST_TEST(mode_of(file) == 0600U);
    for (const auto& backup : kubeconfig_backups(file)) {
        BOOST_TEST(mode_of(backup) == 0600U, backup);
        struct stat info {};
        BOOST_TEST(::stat(backup.c_str(), &info) == 0);
        BOOST_TEST(info.st_nlink == 1U); // a copy, not another name of a file that may be chmod'ed
    }
    // A world-readable backup an earlier version left is made 0600 by the next write.
    const fs::path old_backup = dir.path / "config.meshlink-20200101T000000.000000Z.bak";
    std::ofstream(old_backup) << "token: older-secret\n";
    ::chmod(old_backup.c_str(), 0644);
    BOOST_TEST_REQUIRE(write_kubeconfig_atomically(file, k_config + "# 3\n").has_value());
    BOOST_TEST(mode_of(old_backup) == 0600U);
}

BOOST_AUTO_TEST_CASE(only_the_newest_backups_are_kept) {
    Dir dir;
    const fs::path file = dir.path / "config";
    for (int i = 0; i < 9; ++i) {
        BOOST_TEST_REQUIRE(
            write_kubeconfig_atomically(file, k_config + "# " + std::to_string(i) + "\n").has_value());
    }
    const auto backups = kubeconfig_backups(file);
    BOOST_TEST_REQUIRE(backups.size() == k_kubeconfig_backups_kept);
    for (std::size_t i = 0; i < backups.size(); ++i) {
        BOOST_TEST(read(backups[i]) == k_config + "# " + std::to_string(7 - i) + "\n");
    }
}

BOOST_AUTO_TEST_CASE(leftovers_of_a_killed_write_are_removed_and_symlinks_followed) {
    Dir dir;
    const fs::path real = dir.path / "real-config";
    std::ofstream(real) << k_config;
    std::ofstream(dir.path / "real-config.meshlink-tmp-abc123") << "half a file";
    const fs::path link = dir.path / "config";
    fs::create_symlink(real, link);
    auto written = write_kubeconfig_atomically(link, k_config + "current-context: y\n");
    BOOST_TEST_REQUIRE(written.has_value(), written.error().message);
    BOOST_TEST(fs::is_symlink(link));
    BOOST_TEST(written->path == real);
    BOOST_TEST(read(real) == k_config + "current-context: y\n");
    BOOST_TEST(!fs::exists(dir.path / "real-config.meshlink-tmp-abc123"));
}

BOOST_AUTO_TEST_CASE(modify_reads_under_the_lock_and_a_failed_change_writes_nothing) {
    Dir dir;
    const fs::path file = dir.path / "config";
    std::ofstream(file) << k_config;
    auto failed = modify_kubeconfig_file(
        file, 1s, [](const std::optional<KubeconfigFile>& current) -> Result<std::optional<std::string>> {
            BOOST_TEST(current.has_value());
            BOOST_TEST(fs::exists(current->path.string() + ".lock"));
            return fail(ErrorKind::conflict, "refused");
        });
    BOOST_TEST(!failed.has_value());
    BOOST_TEST(read(file) == k_config);
    BOOST_TEST(!fs::exists(file.string() + ".lock"));
    BOOST_TEST(kubeconfig_backups(file).empty());

    auto changed = modify_kubeconfig_file(
        file, 1s, [](const std::optional<KubeconfigFile>&) -> Result<std::optional<std::string>> {
            return std::optional<std::string>(k_config + "current-context: z\n");
        });
    BOOST_TEST_REQUIRE(changed.has_value());
    BOOST_TEST(read(file) == k_config + "current-context: z\n");
    // A malformed file is not replaced.
    std::ofstream(file) << "clusters: [\n";
    auto refused = modify_kubeconfig_file(
        file, 1s,
        [](const std::optional<KubeconfigFile>&) -> Result<std::optional<std::string>> { return {}; });
    BOOST_TEST(!refused.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
