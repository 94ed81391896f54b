#include "probe/checks.hpp"
#include "probe/report.hpp"
#include "tests/unit/probe/probe_test_support.hpp"

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

using namespace meshlink::probe;
using meshlink::probe::testing::kconfig_text;
using meshlink::probe::testing::TempDir;

namespace {

const Check& find(const std::vector<Check>& checks, std::string_view id) {
    for (const auto& check : checks) {
        if (check.id == id) {
            return check;
        }
    }
    BOOST_FAIL("no check " << id);
    throw std::logic_error("unreachable");
}

std::vector<Check> probe(const Host& host) {
    ProbeOptions options;
    options.host = host;
    const auto report = make_report(options, newest_cilium());
    (void)to_json_text(report); // serialising must not throw either
    return report.checks;
}

} // namespace

// Whatever the node hands us, the probe answers "unknown" with a reason, never crashes or claims.
BOOST_AUTO_TEST_SUITE(probe_malformed_inputs)

BOOST_AUTO_TEST_CASE(an_empty_host_is_all_unknown) {
    TempDir dir;
    const auto checks = probe(dir.host());
    for (const char* id :
         {"node.kernel.version", "node.kernel.config", "node.os", "node.bpffs", "node.cgroup2"}) {
        const auto& check = find(checks, id);
        BOOST_TEST(to_string(check.status) == "unknown", id);
        BOOST_TEST(!check.message.empty(), id);
    }
    BOOST_TEST(!any_failed(checks));
}

BOOST_AUTO_TEST_CASE(absent_sys_and_proc) {
    TempDir dir;
    Host host = dir.host();
    host.sys = dir.path() / "no-sys";
    host.proc = dir.path() / "no-proc";
    const auto checks = probe(host);
    const auto& btf = find(checks, "node.kernel.btf");
    BOOST_TEST(btf.status == Status::unknown);
    BOOST_TEST(btf.message.find("no-sys") != std::string::npos);
    BOOST_TEST(find(checks, "node.kernel.version").message.find("osrelease") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(truncated_os_release) {
    TempDir dir;
    const auto host = dir.host();
    dir.write("root/etc/os-release", "NAME=\"Rocky Linux\"\nID=\"ro");
    const auto os = find(probe(host), "node.os");
    BOOST_TEST(os.status == Status::unknown);
    BOOST_TEST(os.message.find("unterminated quote") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(non_utf8_text_still_serialises) {
    TempDir dir;
    const auto host = dir.host();
    dir.write("root/etc/os-release", "ID=latin1\nPRETTY_NAME=\"Caf\xe9 Linux \xff\"\n");
    ProbeOptions options;
    options.host = host;
    const std::string text = to_json_text(make_report(options, newest_cilium()));
    BOOST_TEST(nlohmann::json::parse(text).at("facts").at("os").at("id").get<std::string>() == "latin1");
}

BOOST_AUTO_TEST_CASE(garbage_in_the_config_file) {
    TempDir dir;
    const auto host = dir.host();
    dir.write("proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
    std::string garbage = kconfig_text("CONFIG_BPF=y\n");
    for (int i = 0; i < 512; ++i) {
        garbage += static_cast<char>((i * 131) % 256);
    }
    dir.write("root/boot/config-6.1.0-18-amd64", garbage);
    const auto config = find(probe(host), "node.kernel.config");
    BOOST_TEST(config.status == Status::unknown);
    BOOST_TEST(config.message.find("not a kernel config") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unreadable_files) {
    TempDir dir;
    const auto host = dir.host();
    // Directories where files belong (root can read anything else), and a FIFO nobody writes to.
    dir.mkdir("proc/sys/kernel/osrelease");
    dir.mkdir("root/etc/os-release");
    dir.mkdir("proc/1/mountinfo");
    BOOST_REQUIRE(::mkfifo((host.root / "usr-lib-os-release-fifo").c_str(), 0600) == 0);
    std::filesystem::create_directories(host.root / "usr/lib");
    std::filesystem::rename(host.root / "usr-lib-os-release-fifo", host.root / "usr/lib/os-release");
    const auto checks = probe(host);
    BOOST_TEST(find(checks, "node.kernel.version").status == Status::unknown);
    BOOST_TEST(find(checks, "node.kernel.version").message.find("Is a directory") != std::string::npos);
    BOOST_TEST(find(checks, "node.os").status == Status::unknown);
    BOOST_TEST(find(checks, "node.os").message.find("not a regular file") != std::string::npos);
    BOOST_TEST(find(checks, "node.bpffs").status == Status::unknown);
}

BOOST_AUTO_TEST_CASE(oversized_files_are_refused) {
    TempDir dir;
    const auto host = dir.host();
    dir.write("root/etc/os-release", "ID=big\n" + std::string(200 * 1024, '#'));
    const auto os = find(probe(host), "node.os");
    BOOST_TEST(os.status == Status::unknown);
    BOOST_TEST(os.message.find("larger than") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_hostile_release_string) {
    TempDir dir;
    const auto host = dir.host();
    dir.write("proc/sys/kernel/osrelease", "../../../etc/passwd\n");
    const auto checks = probe(host);
    BOOST_TEST(find(checks, "node.kernel.version").status == Status::unknown);
    // No config path was built from it that escapes the root.
    BOOST_TEST(find(checks, "node.kernel.config").status == Status::unknown);
}

BOOST_AUTO_TEST_SUITE_END()
