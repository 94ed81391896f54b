// stage on EL7-EL10 fixture roots with real dnf, rpm and grub-editenv: what a node looks like afterwards.

#include "tests/integration/kernel/harness.hpp"
#include "util/subprocess.hpp"

#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace meshlink::test::kernel {
namespace {

namespace fs = std::filesystem;

bool is_root() {
    return ::geteuid() == 0;
}

struct ElCase {
    int el;
    std::string old_release;
};

// Checks what every EL8+ stage must leave behind.
void check_staged_bls(const Root& root, const std::string& old_release, const std::string& new_release) {
    const std::string mid = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    const auto env = root.grubenv();
    BOOST_TEST(env.at("saved_entry") == mid + "-" + old_release);
    BOOST_TEST(env.at("next_entry") == mid + "-" + new_release);
    const std::string entry = root.read("/boot/loader/entries/" + mid + "-" + new_release + ".conf");
    BOOST_TEST(entry.find("panic=30 rd.shell=0 rd.emergency=reboot") != std::string::npos, entry);
    const std::string old_entry = root.read("/boot/loader/entries/" + mid + "-" + old_release + ".conf");
    BOOST_TEST(old_entry.find("panic=") == std::string::npos, "trial arguments only on the new entry");
    for (const auto& file :
         {"/boot/vmlinuz-" + new_release, "/boot/initramfs-" + new_release + ".img",
          "/lib/modules/" + new_release + "/modules.dep", "/boot/vmlinuz-" + old_release}) {
        BOOST_TEST(root.exists(file), file);
    }
    const std::string timer = root.read("/etc/systemd/system/meshlink-kernel-guard.timer");
    BOOST_TEST(timer.find("ConditionKernelVersion=" + new_release + "\n") != std::string::npos, timer);
    BOOST_TEST(timer.find("OnBootSec=900\n") != std::string::npos, timer);
    const std::string service = root.read("/etc/systemd/system/meshlink-kernel-guard.service");
    BOOST_TEST(service.find("[ \"$$(uname -r)\" = \"" + new_release + "\" ]") != std::string::npos, service);
    BOOST_TEST(service.find("systemctl reboot") != std::string::npos);
    BOOST_TEST(fs::read_symlink(root.path() /
                                "etc/systemd/system/timers.target.wants/meshlink-kernel-guard.timer") ==
               "/etc/systemd/system/meshlink-kernel-guard.timer");
    const auto record = nlohmann::json::parse(root.read("/var/lib/meshlink/kernel-trial.json"));
    BOOST_TEST(record["state"] == "staged");
    BOOST_TEST(record["previous"]["release"] == old_release);
    BOOST_TEST(record["target"]["release"] == new_release);
    BOOST_TEST(record["target"]["entry"] == mid + "-" + new_release);
    BOOST_TEST(record["bootId"] == root.read("/proc/sys/kernel/random/boot_id").substr(0, 36));
}

} // namespace

BOOST_AUTO_TEST_SUITE(kernel_stage)

BOOST_AUTO_TEST_CASE(plan_picks_the_newest_complete_set_for_the_node_s_el_and_changes_nothing) {
    Root root(9);
    const auto before = root.digest();
    int code = -1;
    auto flags = root.host_flags();
    auto repo = root.repo_flags();
    flags.insert(flags.begin(), "plan");
    flags.insert(flags.end(), repo.begin(), repo.end());
    const auto plan = root.agent_json(flags, &code);
    BOOST_TEST(code == 0);
    BOOST_TEST(plan["allowed"] == true);
    BOOST_TEST(plan["el"] == 9);
    // The repository also has 7.0.5 and other ELs' 7.1.9: only EL9's newest counts.
    BOOST_TEST(plan["candidate"]["release"] == "7.1.9-1.el9.elrepo.x86_64");
    BOOST_TEST(
        plan["candidate"]["packages"] ==
        nlohmann::json({"kernel-ml-7.1.9-1.el9.elrepo.x86_64", "kernel-ml-core-7.1.9-1.el9.elrepo.x86_64",
                        "kernel-ml-modules-7.1.9-1.el9.elrepo.x86_64"}));
    BOOST_TEST(digest_diff(before, root.digest()) == "");

    // --version pins an older one.
    flags.insert(flags.end(), {"--version", "7.0.5"});
    const auto pinned = root.agent_json(flags, &code);
    BOOST_TEST(pinned["candidate"]["release"] == "7.0.5-1.el9.elrepo.x86_64");
}

void stage_el(int el, const std::string& old_release) {
    Root root(el);
    auto flags = root.host_flags();
    auto repo = root.repo_flags();
    flags.insert(flags.begin(), "stage");
    flags.insert(flags.end(), repo.begin(), repo.end());
    int code = -1;
    const auto first = root.agent_json(flags, &code);
    BOOST_TEST_REQUIRE(code == 0, first.dump());
    BOOST_TEST(first["staged"] == true);
    const std::string new_release = "7.1.9-1.el" + std::to_string(el) + ".elrepo.x86_64";
    check_staged_bls(root, old_release, new_release);
    const auto installed = root.kernel_packages();
    BOOST_TEST(installed.size() == 3u);
    BOOST_TEST(installed.count("kernel-ml-core-" + new_release) == 1u);

    // Twice is one install: every step finds its work done, nothing is reinstalled or rewritten.
    const auto before = root.digest();
    const auto second = root.agent_json(flags, &code);
    BOOST_TEST(code == 0);
    for (const auto& step : second["steps"]) {
        if (step["id"] != "staged") {
            BOOST_TEST(step["status"] == "already", step.dump());
        }
    }
    BOOST_TEST(root.kernel_packages() == installed);
    const auto diff = digest_diff(before, root.digest());
    // At most the record's updatedAt changes (whole seconds: a second run within the same second leaves it as
    // it was), and dnf's own cache/history are not touched: no install ran.
    BOOST_TEST((diff.empty() || diff == "changed var/lib/meshlink/kernel-trial.json\n"), diff);
}

BOOST_AUTO_TEST_CASE(stage_on_el8_is_idempotent) {
    stage_el(8, "4.18.0-553.el8_10.x86_64");
}

BOOST_AUTO_TEST_CASE(stage_on_el9_is_idempotent) {
    stage_el(9, "5.14.0-427.13.1.el9_4.x86_64");
}

BOOST_AUTO_TEST_CASE(stage_on_el10_is_idempotent) {
    stage_el(10, "6.12.0-55.9.1.el10_0.x86_64");
}

BOOST_AUTO_TEST_CASE(el8_grubenv_keeps_the_kernel_arguments_of_every_entry) {
    Root root(8);
    const auto before = root.grubenv().at("kernelopts");
    auto flags = root.host_flags();
    auto repo = root.repo_flags();
    flags.insert(flags.begin(), "stage");
    flags.insert(flags.end(), repo.begin(), repo.end());
    BOOST_TEST_REQUIRE(root.agent(flags).exit_code == 0);
    BOOST_TEST(root.grubenv().at("kernelopts") == before);
}

// EL7: the kernel-ml package's %post (rpm's Lua, run in the root by rpm: needs root) adds the menu entry the
// way new-kernel-pkg does; stage edits that menuentry and names entries by title, as grub2-set-default does.
BOOST_AUTO_TEST_CASE(stage_on_el7_needs_a_repo_url_and_uses_grub_cfg_titles,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         return is_root();
                     })) {
    Root root(7);
    const std::string old_release = "3.10.0-1160.119.1.el7.x86_64";
    const std::string new_release = "6.9.7-1.el7.elrepo.x86_64";
    auto flags = root.host_flags();
    flags.insert(flags.begin(), "stage");
    int code = -1;
    const auto before = root.digest();
    auto refused = root.agent_json(flags, &code);
    BOOST_TEST(code == 1);
    BOOST_TEST(refused["plan"]["refusals"] ==
               nlohmann::json({"kernel.os", "kernel.signing-keys", "kernel.candidate", "kernel.signatures",
                               "kernel.boot-space", "kernel.candidate-config"}));
    BOOST_TEST(digest_diff(before, root.digest()) == "");

    auto repo = root.repo_flags();
    flags.insert(flags.end(), repo.begin(), repo.end());
    // EL7's last kernel-ml has no BTF, which Cilium 1.20 requires: judged for 1.16 here.
    flags.insert(flags.end(), {"--cilium-version", "1.16"});
    const auto staged = root.agent_json(flags, &code);
    BOOST_TEST_REQUIRE(code == 0, staged.dump());
    const auto os = staged["plan"]["checks"][0];
    BOOST_TEST(os["status"] == "warn");
    BOOST_TEST(os["hint"].get<std::string>().find("upgrade the OS") != std::string::npos);
    const auto env = root.grubenv();
    BOOST_TEST(env.at("saved_entry") == "CentOS Linux (" + old_release + ") 7 (Core)");
    BOOST_TEST(env.at("next_entry") == "CentOS Linux (" + new_release + ") 7 (Core)");
    const auto cfg = root.read("/boot/grub2/grub.cfg");
    BOOST_TEST(cfg.find("linux16 /vmlinuz-" + new_release +
                        " root=/dev/mapper/centos-root ro crashkernel=auto rhgb quiet panic=30 rd.shell=0 "
                        "rd.emergency=reboot\n") != std::string::npos,
               cfg);
    BOOST_TEST(cfg.find("linux16 /vmlinuz-" + old_release +
                        " root=/dev/mapper/centos-root ro crashkernel=auto rhgb quiet\n") !=
               std::string::npos);
}

// The guard's unit files are valid for systemd itself.
BOOST_AUTO_TEST_CASE(guard_units_pass_systemd_analyze_verify) {
    if (!util::find_executable("systemd-analyze")) {
        BOOST_TEST_MESSAGE("skipped: systemd-analyze is not installed");
        return;
    }
    Root root(9);
    auto flags = root.host_flags();
    auto repo = root.repo_flags();
    flags.insert(flags.begin(), "stage");
    flags.insert(flags.end(), repo.begin(), repo.end());
    BOOST_TEST_REQUIRE(root.agent(flags).exit_code == 0);
    const auto units = root.path() / "etc/systemd/system";
    auto verified = run({"systemd-analyze", "verify", (units / "meshlink-kernel-guard.timer").string(),
                         (units / "meshlink-kernel-guard.service").string()});
    BOOST_TEST(verified.exit_code == 0, verified.err);
    BOOST_TEST(verified.err.find("meshlink-kernel-guard") == std::string::npos, verified.err);
}

// ELRepo's real key files (node-agent/kernel/keys/, from ELRepo's packaging) carry the pinned fingerprints as
// gpg itself computes them.
BOOST_AUTO_TEST_CASE(gpg_agrees_with_the_pinned_elrepo_fingerprints) {
    const fs::path keys = fs::path(MESHLINK_SOURCE_DIR) / "node-agent/kernel/keys";
    const fs::path home = fs::temp_directory_path() / ("meshlink-gpg-" + std::to_string(::getpid()));
    fs::create_directories(home);
    for (const auto& [file, fingerprint] :
         {std::pair{"RPM-GPG-KEY-elrepo.org", "96C0104F631547311E0BB1AE309BC305BAADAE52"},
          std::pair{"RPM-GPG-KEY-v2-elrepo.org", "B8A755874DA240C9DAC4E71551600989EAA31D4A"}}) {
        auto shown = run({"gpg", "--homedir", home.string(), "--batch", "--with-colons", "--show-keys",
                          (keys / file).string()});
        BOOST_TEST(shown.out.find("fpr:::::::::" + std::string(fingerprint) + ":") != std::string::npos,
                   shown.out);
    }
    fs::remove_all(home);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace meshlink::test::kernel
