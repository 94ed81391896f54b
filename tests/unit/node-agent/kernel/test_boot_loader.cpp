// Boot entries and the trial's kernel-argument edits: BLS entries (EL8+) and EL7 grub.cfg menu entries.

#include "node-agent/kernel/boot_device.hpp"
#include "node-agent/kernel/boot_loader.hpp"
#include "node-agent/kernel/guard.hpp"
#include "node-agent/kernel/packages.hpp"
#include "node-agent/kernel/trial.hpp"

#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace meshlink::agent::kernel {
namespace {

const std::vector<std::string> k_args{"panic=30", "rd.shell=0", "rd.emergency=reboot"};

constexpr std::string_view k_bls = "title Rocky Linux (7.1.9-1.el9.elrepo.x86_64)\n"
                                   "version 7.1.9-1.el9.elrepo.x86_64\n"
                                   "linux /vmlinuz-7.1.9-1.el9.elrepo.x86_64\n"
                                   "initrd /initramfs-7.1.9-1.el9.elrepo.x86_64.img $tuned_initrd\n"
                                   "options root=/dev/mapper/rl-root ro panic=10 quiet\n"
                                   "grub_users $grub_users\n";

constexpr std::string_view k_grub_cfg =
    "set default=\"${saved_entry}\"\n"
    "menuentry 'CentOS Linux (6.9.7-1.el7.elrepo.x86_64) 7 (Core)' --class centos $menuentry_id_option 'x' "
    "{\n"
    "\tinsmod xfs\n"
    "\tlinux16 /vmlinuz-6.9.7-1.el7.elrepo.x86_64 root=/dev/mapper/centos-root ro rhgb quiet\n"
    "\tinitrd16 /initramfs-6.9.7-1.el7.elrepo.x86_64.img\n"
    "}\n"
    "menuentry 'CentOS Linux (3.10.0-1160.el7.x86_64) 7 (Core)' --class centos {\n"
    "\tlinux16 /vmlinuz-3.10.0-1160.el7.x86_64 root=/dev/mapper/centos-root ro rhgb quiet\n"
    "}\n";

} // namespace

BOOST_AUTO_TEST_SUITE(kernel_boot_loader)

BOOST_AUTO_TEST_CASE(bls_args_are_added_once_and_removed_exactly) {
    const auto entry = parse_bls_entry(k_bls, "mid-7.1.9-1.el9.elrepo.x86_64", "/boot/loader/entries/x.conf");
    BOOST_TEST(entry.kernel == "7.1.9-1.el9.elrepo.x86_64");
    std::vector<std::string> added;
    auto with = add_kernel_args(k_bls, LoaderKind::bls, entry, k_args, &added);
    BOOST_TEST_REQUIRE(with.has_value());
    BOOST_TEST(
        with->find(
            "options root=/dev/mapper/rl-root ro panic=10 quiet panic=30 rd.shell=0 rd.emergency=reboot\n") !=
            std::string::npos,
        *with);
    BOOST_TEST(added == k_args);
    // Other lines untouched.
    BOOST_TEST(with->find("initrd /initramfs-7.1.9-1.el9.elrepo.x86_64.img $tuned_initrd\n") !=
               std::string::npos);
    std::vector<std::string> again;
    auto twice = add_kernel_args(*with, LoaderKind::bls, entry, k_args, &again);
    BOOST_TEST(*twice == *with);
    BOOST_TEST(again.empty());
    // Removing takes off what was added, not the entry's own panic=10.
    auto removed = remove_kernel_args(*with, LoaderKind::bls, entry, added);
    BOOST_TEST(*removed == std::string(k_bls));
}

BOOST_AUTO_TEST_CASE(grub_cfg_entries_are_titles_and_only_one_entry_changes) {
    const auto entries = parse_grub_cfg(k_grub_cfg, "/boot/grub2/grub.cfg");
    BOOST_TEST_REQUIRE(entries.size() == 2u);
    BOOST_TEST(entries[0].id == "CentOS Linux (6.9.7-1.el7.elrepo.x86_64) 7 (Core)");
    BOOST_TEST(entries[0].kernel == "6.9.7-1.el7.elrepo.x86_64");
    BOOST_TEST(entries[1].kernel == "3.10.0-1160.el7.x86_64");
    auto with = add_kernel_args(k_grub_cfg, LoaderKind::grub_cfg, entries[0], k_args, nullptr);
    BOOST_TEST_REQUIRE(with.has_value());
    const auto reparsed = parse_grub_cfg(*with, "/boot/grub2/grub.cfg");
    BOOST_TEST(reparsed[0].options ==
               "root=/dev/mapper/centos-root ro rhgb quiet panic=30 rd.shell=0 rd.emergency=reboot");
    BOOST_TEST(reparsed[1].options == entries[1].options);
    BOOST_TEST(*remove_kernel_args(*with, LoaderKind::grub_cfg, entries[0], k_args) ==
               std::string(k_grub_cfg));
}

BOOST_AUTO_TEST_CASE(an_entry_without_options_cannot_carry_trial_args) {
    const std::string text = "title x\nlinux /vmlinuz-7.1.9\n";
    const auto entry = parse_bls_entry(text, "x", "/boot/loader/entries/x.conf");
    auto result = add_kernel_args(text, LoaderKind::bls, entry, k_args, nullptr);
    BOOST_TEST_REQUIRE(!result.has_value());
    BOOST_TEST(result.error().message.find("options") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(guard_units_guard_only_the_trial_kernel) {
    const auto timer = guard_timer_text("7.1.9-1.el9.elrepo.x86_64", std::chrono::seconds(900));
    BOOST_TEST(timer.find("ConditionKernelVersion=7.1.9-1.el9.elrepo.x86_64\n") != std::string::npos);
    BOOST_TEST(timer.find("OnBootSec=900\n") != std::string::npos);
    BOOST_TEST(timer.find("WantedBy=timers.target\n") != std::string::npos);
    const auto service = guard_service_text("7.1.9-1.el9.elrepo.x86_64");
    BOOST_TEST(service.find("\"$$(uname -r)\" = \"7.1.9-1.el9.elrepo.x86_64\"") != std::string::npos,
               service);
    // It disables itself before rebooting, so it fires at most once.
    BOOST_TEST(service.find("rm -f " + guard_wants_path() + "; exec systemctl reboot") != std::string::npos,
               service);
}

BOOST_AUTO_TEST_CASE(rpm_version_order) {
    BOOST_TEST(rpm_vercmp("7.1.9", "7.1.10") < 0);
    BOOST_TEST(rpm_vercmp("7.10.0", "7.9.9") > 0);
    BOOST_TEST(rpm_vercmp("1.el9.elrepo", "1.el9.elrepo") == 0);
    BOOST_TEST(rpm_vercmp("6.1~rc1", "6.1") < 0);
    BOOST_TEST(rpm_vercmp("2.el9", "10.el9") < 0);
    BOOST_TEST(rpm_vercmp("1.0a", "1.0") > 0);
}

BOOST_AUTO_TEST_CASE(the_candidate_is_complete_for_this_el_and_arch) {
    auto n = [](std::string name, std::string version, std::string release, std::string arch = "x86_64") {
        return Nevra{std::move(name), "0", std::move(version), std::move(release), std::move(arch)};
    };
    const std::vector<std::string> names{"kernel-ml", "kernel-ml-core", "kernel-ml-modules"};
    const std::vector<Nevra> available{n("kernel-ml", "7.2.0", "1.el9.elrepo"),
                                       n("kernel-ml-core", "7.2.0", "1.el9.elrepo"), // modules missing
                                       n("kernel-ml", "7.1.9", "1.el9.elrepo"),
                                       n("kernel-ml-core", "7.1.9", "1.el9.elrepo"),
                                       n("kernel-ml-modules", "7.1.9", "1.el9.elrepo"),
                                       n("kernel-ml", "7.3.0", "1.el10.elrepo"),
                                       n("kernel-ml-core", "7.3.0", "1.el10.elrepo"),
                                       n("kernel-ml-modules", "7.3.0", "1.el10.elrepo"),
                                       n("kernel-ml", "7.4.0", "1.el9.elrepo", "aarch64"),
                                       n("kernel-ml-core", "7.4.0", "1.el9.elrepo", "aarch64"),
                                       n("kernel-ml-modules", "7.4.0", "1.el9.elrepo", "aarch64")};
    auto chosen = choose_candidate(available, names, 9, "x86_64", std::nullopt);
    BOOST_TEST_REQUIRE(chosen.has_value(), chosen.error().message);
    BOOST_TEST(chosen->kernel_release() == "7.1.9-1.el9.elrepo.x86_64");
    BOOST_TEST(chosen->packages.size() == 3u);
    auto none = choose_candidate(available, names, 9, "x86_64", std::string("7.2.0"));
    BOOST_TEST_REQUIRE(!none.has_value());
    BOOST_TEST(none.error().message.find("7.2.0-1.el9.elrepo.x86_64") != std::string::npos,
               none.error().message);
}

BOOST_AUTO_TEST_CASE(trial_records_from_the_node_are_validated) {
    TrialRecord record;
    record.state = TrialState::staged;
    record.el = 9;
    record.flavor = "ml";
    record.previous_release = "5.14.0-427.el9.x86_64";
    record.previous_entry = "mid-5.14.0-427.el9.x86_64";
    record.target_release = "7.1.9-1.el9.elrepo.x86_64";
    record.target_entry = "mid-7.1.9-1.el9.elrepo.x86_64";
    record.added_args = {"panic=30"};
    const auto doc = nlohmann::json::parse(to_json(record).dump());
    auto back = trial_from_json(doc);
    BOOST_TEST_REQUIRE(back.has_value(), back.error().message);
    BOOST_TEST(back->target_entry == record.target_entry);
    BOOST_TEST((back->state == TrialState::staged));

    auto bad = doc;
    bad["target"]["entry"] = "../../etc/passwd";
    BOOST_TEST(!trial_from_json(bad).has_value());
    bad = doc;
    bad["previous"]["release"] = "5.14; rm -rf /";
    BOOST_TEST(!trial_from_json(bad).has_value());
    bad = doc;
    bad["addedArgs"] = {"panic=30 init=/bin/sh"};
    BOOST_TEST(!trial_from_json(bad).has_value());
    bad = doc;
    bad["state"] = "promoted";
    BOOST_TEST(!trial_from_json(bad).has_value());
}

BOOST_AUTO_TEST_CASE(boot_device_kinds_from_mountinfo_and_sysfs) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("meshlink-bootdev-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "proc/1");
    std::filesystem::create_directories(dir / "sys/dev/block");
    probe::Host files;
    files.root = dir;
    files.proc = dir / "proc";
    files.sys = dir / "sys";
    auto write = [&](const std::string& mounts) { std::ofstream(dir / "proc/1/mountinfo") << mounts; };
    write("22 1 253:0 / / rw - xfs /dev/mapper/rl-root rw\n45 22 9:127 / /boot rw shared:1 - xfs /dev/md127 "
          "rw\n");
    std::filesystem::create_directories(dir / "sys/dev/block/9:127/md");
    auto device = read_boot_device(files, "/boot/grub2/grubenv");
    BOOST_TEST(to_string(device.kind) == "md-raid");
    BOOST_TEST(device.mount_point == "/boot");
    BOOST_TEST(!device.grub_can_write());
    write("22 1 0:30 / / rw - btrfs /dev/sda2 rw\n");
    BOOST_TEST(to_string(read_boot_device(files, "/boot/grub2/grubenv").kind) == "checksumming-filesystem");
    write("22 1 253:0 / / rw - xfs /dev/mapper/rl-root rw\n");
    std::filesystem::create_directories(dir / "sys/dev/block/253:0/dm");
    std::ofstream(dir / "sys/dev/block/253:0/dm/uuid") << "LVM-abc\n";
    BOOST_TEST(to_string(read_boot_device(files, "/boot/grub2/grubenv").kind) == "lvm");
    std::filesystem::remove(dir / "proc/1/mountinfo");
    BOOST_TEST(to_string(read_boot_device(files, "/boot/grub2/grubenv").kind) == "unknown");
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace meshlink::agent::kernel
