// kill -9 in the middle of stage, at two points, then a re-run: the node is consistent in between (the
// previous kernel still boots by default, status names what is half done) and the re-run finishes with one
// install.

#include "tests/integration/kernel/harness.hpp"

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace meshlink::test::kernel {
namespace {

namespace fs = std::filesystem;

const std::string k_mid = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const std::string k_old = "5.14.0-427.13.1.el9_4.x86_64";
const std::string k_new = "7.1.9-1.el9.elrepo.x86_64";

// A directory with `tool` wrapping the real one: when its arguments contain `trigger`, it kills its parent
// (the agent) with SIGKILL, before or after running the real tool.
struct Killer {
    fs::path dir;
    Killer(const fs::path& parent, const std::string& tool, const std::string& trigger, bool after) {
        dir = parent / "killer";
        fs::create_directories(dir);
        const auto real = run({"sh", "-c", "command -v " + tool}).out;
        std::ofstream script(dir / tool);
        script << "#!/bin/sh\n"
               << "case \" $* \" in *\"" << trigger << "\"*) hit=1 ;; *) hit= ;; esac\n"
               << (after ? "" : "[ -n \"$hit\" ] && kill -9 $PPID && exit 1\n")
               << real.substr(0, real.find('\n')) << " \"$@\"\nrc=$?\n"
               << (after ? "[ -n \"$hit\" ] && kill -9 $PPID\n" : "") << "exit $rc\n";
        script.close();
        fs::permissions(dir / tool, fs::perms::owner_all);
    }
};

std::vector<std::string> verb(const Root& root, const std::string& name,
                              const std::vector<std::string>& extra = {}) {
    auto flags = root.host_flags();
    flags.insert(flags.begin(), name);
    flags.insert(flags.end(), extra.begin(), extra.end());
    return flags;
}

} // namespace

BOOST_AUTO_TEST_SUITE(kernel_interrupt)

BOOST_AUTO_TEST_CASE(killed_right_after_the_install_then_rerun) {
    Root root(9);
    Killer killer(root.path().parent_path(), "dnf", " install ", /*after=*/true);
    const auto killed = root.agent(verb(root, "stage", root.repo_flags()), killer.dir.string());
    BOOST_TEST(killed.exit_code == 128 + 9, killed.err);

    // Consistent: packages in, the old kernel still the default and nothing set to boot once.
    const auto installed = root.kernel_packages();
    BOOST_TEST(installed.size() == 3u);
    auto env = root.grubenv();
    BOOST_TEST(env.at("saved_entry") == k_mid + "-" + k_old);
    BOOST_TEST(env.count("next_entry") == 0u);
    int code = -1;
    const auto status = root.agent_json(verb(root, "status"), &code);
    BOOST_TEST(code == 0);
    BOOST_TEST(status["trial"]["state"] == "staging");
    BOOST_TEST(status["pending"] == nlohmann::json({"trial-args", "guard", "next-boot", "staged"}),
               status["pending"].dump());

    const auto rerun = root.agent_json(verb(root, "stage", root.repo_flags()), &code);
    BOOST_TEST_REQUIRE(code == 0, rerun.dump(2));
    BOOST_TEST(root.kernel_packages() == installed, "one install: the re-run installed nothing");
    env = root.grubenv();
    BOOST_TEST(env.at("next_entry") == k_mid + "-" + k_new);
    BOOST_TEST(env.at("saved_entry") == k_mid + "-" + k_old);
    const auto entry = root.read("/boot/loader/entries/" + k_mid + "-" + k_new + ".conf");
    BOOST_TEST(entry.find("crashkernel=auto panic=30 rd.shell=0 rd.emergency=reboot\n") != std::string::npos,
               entry);
}

BOOST_AUTO_TEST_CASE(killed_before_the_one_shot_is_set_then_rerun) {
    Root root(8);
    Killer killer(root.path().parent_path(), "grub-editenv", "next_entry=", /*after=*/false);
    const auto killed = root.agent(verb(root, "stage", root.repo_flags()), killer.dir.string());
    BOOST_TEST(killed.exit_code == 128 + 9, killed.err);

    auto env = root.grubenv();
    BOOST_TEST(env.count("next_entry") == 0u);
    BOOST_TEST(root.exists("/etc/systemd/system/timers.target.wants/meshlink-kernel-guard.timer"));
    int code = -1;
    const auto status = root.agent_json(verb(root, "status"), &code);
    BOOST_TEST(status["trial"]["state"] == "staging");
    BOOST_TEST(status["pending"] == nlohmann::json({"next-boot", "staged"}), status["pending"].dump());
    const auto installed = root.kernel_packages();

    const auto rerun = root.agent_json(verb(root, "stage", root.repo_flags()), &code);
    BOOST_TEST_REQUIRE(code == 0, rerun.dump(2));
    BOOST_TEST(root.kernel_packages() == installed);
    env = root.grubenv();
    BOOST_TEST(env.at("next_entry") == k_mid + "-7.1.9-1.el8.elrepo.x86_64");
    const auto entry = root.read("/boot/loader/entries/" + k_mid + "-7.1.9-1.el8.elrepo.x86_64.conf");
    // The arguments are in once, though the first run added them before it was killed.
    BOOST_TEST(entry.find("panic=30 rd.shell=0 rd.emergency=reboot") != std::string::npos, entry);
    BOOST_TEST(entry.find("panic=30", entry.find("panic=30") + 1) == std::string::npos, entry);
    const auto record = nlohmann::json::parse(root.read("/var/lib/meshlink/kernel-trial.json"));
    BOOST_TEST(record["addedArgs"] == nlohmann::json({"panic=30", "rd.shell=0", "rd.emergency=reboot"}));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace meshlink::test::kernel
