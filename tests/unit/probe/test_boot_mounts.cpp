#include "probe/boot.hpp"
#include "probe/mounts.hpp"
#include "tests/unit/probe/probe_test_support.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink::probe;
using meshlink::probe::testing::fixture_host;
using meshlink::probe::testing::TempDir;

BOOST_AUTO_TEST_SUITE(probe_boot)

BOOST_AUTO_TEST_CASE(grubenv_values) {
    const std::string env = "# GRUB Environment Block\nsaved_entry=abc-6.12.1\nnext_entry=\n#########\n";
    BOOST_TEST(grubenv_value(env, "saved_entry") == "abc-6.12.1");
    BOOST_TEST(grubenv_value(env, "next_entry") == "");
    BOOST_TEST(!grubenv_value(env, "saved").has_value());
    BOOST_TEST(!grubenv_value("", "saved_entry").has_value());
}

BOOST_AUTO_TEST_CASE(uefi_with_secure_boot_and_bls) {
    const auto boot = read_boot(fixture_host("rocky8.10"));
    BOOST_TEST(boot.firmware == "uefi");
    BOOST_TEST(boot.secure_boot == true);
    BOOST_TEST(boot.bls == true);
    BOOST_TEST(boot.saved_entry == "5d3f1c6fa2a84a5e9f1f2a0c3b7e9d10-4.18.0-553.el8_10.x86_64");
    BOOST_TEST(boot.default_kernel == "4.18.0-553.el8_10.x86_64");
    BOOST_TEST(boot.bls_entries.size() == 2u);
    BOOST_TEST(boot.boot_free_bytes.has_value());
}

BOOST_AUTO_TEST_CASE(bios_without_bls) {
    const auto boot = read_boot(fixture_host("centos7"));
    BOOST_TEST(boot.firmware == "bios");
    BOOST_TEST(boot.secure_boot == false);
    BOOST_TEST(boot.bls == false);
    BOOST_TEST(boot.saved_entry == "CentOS Linux (3.10.0-1160.119.1.el7.x86_64) 7 (Core)");
    BOOST_TEST(!boot.default_kernel.has_value());
}

BOOST_AUTO_TEST_CASE(secure_boot_unknown_without_efivars) {
    const auto boot = read_boot(fixture_host("ubuntu22.04"));
    BOOST_TEST(boot.firmware == "uefi");
    BOOST_TEST(!boot.secure_boot.has_value());
    BOOST_REQUIRE(!boot.errors.empty());
    BOOST_TEST(boot.errors.front().find("efivars") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_boot_inputs_are_unknown) {
    TempDir dir;
    const auto host = dir.host();
    // A truncated EFI variable and no /boot at all.
    dir.write("sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c",
              std::string("\x06\x00", 2));
    const auto boot = read_boot(host);
    BOOST_TEST(boot.firmware == "uefi");
    BOOST_TEST(!boot.secure_boot.has_value());
    BOOST_TEST(!boot.boot_free_bytes.has_value());
    BOOST_TEST(boot.errors.size() >= 2u);

    Host no_sys = host;
    no_sys.sys = dir.path() / "absent";
    const auto blind = read_boot(no_sys);
    BOOST_TEST(!blind.firmware.has_value());
    BOOST_TEST(!blind.secure_boot.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(probe_mounts)

BOOST_AUTO_TEST_CASE(mountinfo_with_optional_fields_and_escapes) {
    const auto entries = parse_mountinfo(
        "36 35 98:0 /mnt1 /mnt\\040with\\040space rw,noatime master:1 shared:2 - ext3 /dev/root rw\n"
        "40 24 0:33 / /sys/fs/bpf rw,relatime - bpf bpf rw,mode=700\n"
        "short line\n"
        "41 24 0:34 / /no/dash rw,relatime shared:3 cgroup2 cgroup2 rw\n");
    BOOST_REQUIRE(entries.size() == 2u);
    BOOST_TEST(entries[0].mount_point == "/mnt with space");
    BOOST_TEST(entries[0].fs_type == "ext3");
    BOOST_TEST(entries[1].mount_point == "/sys/fs/bpf");
    BOOST_TEST(entries[1].fs_type == "bpf");
}

BOOST_AUTO_TEST_CASE(hybrid_v1_host_supports_cgroup2_without_mounting_it) {
    const auto mounts = read_mounts(fixture_host("rocky8.10"));
    BOOST_TEST(mounts.bpffs == true);
    BOOST_TEST(mounts.cgroup2 == false);
    BOOST_TEST(mounts.cgroup2_supported == true);
}

BOOST_AUTO_TEST_CASE(el7_has_no_cgroup2_and_no_bpffs) {
    const auto mounts = read_mounts(fixture_host("centos7"));
    BOOST_TEST(mounts.bpffs == false);
    BOOST_TEST(mounts.cgroup2 == false);
    BOOST_TEST(mounts.cgroup2_supported == false);
}

BOOST_AUTO_TEST_CASE(unreadable_mountinfo_is_unknown) {
    TempDir dir;
    const auto mounts = read_mounts(dir.host());
    BOOST_TEST(!mounts.bpffs.has_value());
    BOOST_TEST(!mounts.cgroup2.has_value());
    BOOST_TEST(mounts.error.find("mountinfo") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
