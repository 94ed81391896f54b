#include "probe/os_release.hpp"
#include "tests/unit/probe/probe_test_support.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink::probe;
using meshlink::probe::testing::TempDir;

BOOST_AUTO_TEST_SUITE(probe_os_release)

BOOST_AUTO_TEST_CASE(quoting_as_the_shell_reads_it) {
    const auto os = parse_os_release("# comment\n"
                                     "NAME=\"Rocky Linux\"\n"
                                     "ID=rocky\n"
                                     "ID_LIKE='rhel centos fedora'\n"
                                     "VERSION_ID=\"9.4\"\n"
                                     "PRETTY_NAME=\"Say \\\"hi\\\" \\$HOME \\\\ \\`x\\`\"\n"
                                     "\n"
                                     "  PLATFORM_ID=\"platform:el9\"  \n"
                                     "EMPTY=\n");
    BOOST_TEST(os.problems.empty());
    BOOST_TEST(os.get("NAME") == "Rocky Linux");
    BOOST_TEST(os.get("ID") == "rocky");
    BOOST_TEST(os.get("VERSION_ID") == "9.4");
    BOOST_TEST(os.get("PLATFORM_ID") == "platform:el9");
    BOOST_TEST(os.get("PRETTY_NAME") == "Say \"hi\" $HOME \\ `x`");
    BOOST_TEST(os.get("EMPTY") == "");
    BOOST_TEST(os.get("ABSENT") == "");
    const std::vector<std::string> like{"rhel", "centos", "fedora"};
    BOOST_TEST(os.id_like() == like, boost::test_tools::per_element());
    BOOST_TEST(os.is_like("rhel"));
    BOOST_TEST(os.is_like("rocky"));
    BOOST_TEST(!os.is_like("debian"));
}

BOOST_AUTO_TEST_CASE(a_truncated_file_keeps_what_is_complete) {
    // Cut in the middle of a quoted value, as a short read or a full disk leaves it.
    const auto os = parse_os_release("NAME=\"Rocky Linux\"\nVERSION=\"9.4 (Blue Onyx)\"\nID=\"roc");
    BOOST_TEST(os.get("NAME") == "Rocky Linux");
    BOOST_TEST(os.get("ID") == "");
    BOOST_REQUIRE(os.problems.size() == 1u);
    BOOST_TEST(os.problems.front().find("line 3") != std::string::npos);
    BOOST_TEST(os.problems.front().find("unterminated quote") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_lines_are_reported_not_fatal) {
    const auto os = parse_os_release("garbage without equals\n"
                                     "1D=x\n"
                                     "I-D=x\n"
                                     "ID=a b\"c\n"
                                     "VERSION_ID=\"1\" trailing\n"
                                     "ID=debian\n");
    BOOST_TEST(os.get("ID") == "debian");
    BOOST_TEST(os.get("VERSION_ID") == "");
    BOOST_TEST(os.problems.size() == 5u);
}

BOOST_AUTO_TEST_CASE(binary_garbage_never_crashes) {
    std::string junk;
    for (int i = 0; i < 4096; ++i) {
        junk += static_cast<char>((i * 7919) % 256);
    }
    const auto os = parse_os_release(junk);
    BOOST_TEST(os.problems.size() <= 5u); // capped, whatever the input
}

BOOST_AUTO_TEST_CASE(etc_first_then_usr_lib) {
    TempDir dir;
    const auto host = dir.host();
    dir.write("root/usr/lib/os-release", "ID=fallback\n");
    BOOST_TEST(read_os_release(host).get("ID") == "fallback");
    dir.write("root/etc/os-release", "ID=etc\n");
    const auto os = read_os_release(host);
    BOOST_TEST(os.get("ID") == "etc");
    BOOST_TEST(os.source == (host.root / "etc/os-release").string());
}

BOOST_AUTO_TEST_CASE(absolute_symlinks_resolve_inside_the_root) {
    TempDir dir;
    const auto host = dir.host();
    dir.write("root/usr/lib/os-release", "ID=inside\n");
    dir.mkdir("root/etc");
    // On the host this points at the host's own file; it must not escape to the agent's /usr/lib.
    std::filesystem::create_symlink("/usr/lib/os-release", host.root / "etc/os-release");
    BOOST_TEST(read_os_release(host).get("ID") == "inside");
}

BOOST_AUTO_TEST_CASE(unreadable_files_give_a_reason) {
    TempDir dir;
    const auto host = dir.host();
    BOOST_TEST(!read_os_release(host).error.empty()); // absent

    // A directory where the file belongs is unreadable even for root.
    dir.mkdir("root/etc/os-release");
    const auto os = read_os_release(host);
    BOOST_TEST(os.get("ID") == "");
    BOOST_TEST(os.error.find("Is a directory") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
