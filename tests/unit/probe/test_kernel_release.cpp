#include "probe/kernel_release.hpp"
#include "tests/unit/probe/probe_test_support.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink::probe;

BOOST_AUTO_TEST_SUITE(probe_kernel_release)

BOOST_AUTO_TEST_CASE(distribution_suffixes_keep_the_upstream_version) {
    struct Case {
        const char* release;
        KernelVersion version;
        std::optional<int> build;
    };
    const Case cases[] = {
        {"3.10.0-1160.119.1.el7.x86_64", {3, 10, 0}, 1160},
        {"4.18.0-553.el8_10.x86_64", {4, 18, 0}, 553},
        {"5.15.0-1051-azure", {5, 15, 0}, 1051},
        {"6.12.1-1.el9.elrepo.x86_64", {6, 12, 1}, 1},
        {"6.18.44-fc-v669", {6, 18, 44}, std::nullopt},
        {"6.8.0", {6, 8, 0}, std::nullopt},
        {"6.10-rc3", {6, 10, 0}, std::nullopt},
        {"4.9.337+", {4, 9, 337}, std::nullopt},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.release) {
            const auto parsed = parse_kernel_release(c.release);
            BOOST_TEST(parsed.error.empty());
            BOOST_TEST(parsed.release == c.release);
            BOOST_REQUIRE(parsed.version.has_value());
            BOOST_TEST(parsed.version->major == c.version.major);
            BOOST_TEST(parsed.version->minor == c.version.minor);
            BOOST_TEST(parsed.version->patch == c.version.patch);
            BOOST_TEST((parsed.build == c.build));
        }
    }
}

BOOST_AUTO_TEST_CASE(enterprise_linux_tags_name_the_minor_release) {
    const auto el8_10 = parse_kernel_release("4.18.0-553.el8_10.x86_64");
    BOOST_TEST(el8_10.el_major == 8);
    BOOST_TEST(el8_10.el_minor == 10);
    const auto el8_6 = parse_kernel_release("4.18.0-372.9.1.el8.x86_64");
    BOOST_TEST(el8_6.el_major == 8);
    BOOST_TEST(!el8_6.el_minor.has_value());
    const auto elrepo = parse_kernel_release("6.12.1-1.el9.elrepo.x86_64");
    BOOST_TEST(elrepo.el_major == 9);
    const auto ubuntu = parse_kernel_release("5.15.0-1051-azure");
    BOOST_TEST(!ubuntu.el_major.has_value());
    // "elrepo" alone is not an EL tag.
    BOOST_TEST(!parse_kernel_release("6.1.0-1.elrepo").el_major.has_value());
}

BOOST_AUTO_TEST_CASE(trailing_newline_from_procfs_is_ignored) {
    const auto parsed = parse_kernel_release("6.1.0-18-amd64\n");
    BOOST_TEST(parsed.release == "6.1.0-18-amd64");
    BOOST_TEST(parsed.version.has_value());
}

BOOST_AUTO_TEST_CASE(ordering_compares_numerically) {
    BOOST_TEST((KernelVersion{4, 19, 57} > KernelVersion{4, 19, 9}));
    BOOST_TEST((KernelVersion{5, 4, 0} > KernelVersion{4, 19, 300}));
    BOOST_TEST((KernelVersion{5, 10, 0} > KernelVersion{5, 9, 99}));
    BOOST_TEST(to_string(KernelVersion{5, 10, 0}) == "5.10");
    BOOST_TEST(to_string(KernelVersion{4, 19, 57}) == "4.19.57");
}

BOOST_AUTO_TEST_CASE(malformed_releases_have_no_version_and_say_why) {
    for (const char* text : {"", "\n", "linux", "5", "5.", ".10", "x5.10", "5.x"}) {
        BOOST_TEST_CONTEXT("\"" << text << "\"") {
            const auto parsed = parse_kernel_release(text);
            BOOST_TEST(!parsed.version.has_value());
            BOOST_TEST(!parsed.error.empty());
        }
    }
    // Longer than uname's 64 bytes, spaces and control characters cannot come from the kernel.
    BOOST_TEST(!parse_kernel_release(std::string(65, '5')).error.empty());
    BOOST_TEST(!parse_kernel_release("5.10 rc1").version.has_value());
    BOOST_TEST(!parse_kernel_release(std::string("5.10\0x", 6)).version.has_value());
    // Absurdly large components are rejected rather than overflowing.
    BOOST_TEST(!parse_kernel_release("99999999999999999999.1").version.has_value());
}

BOOST_AUTO_TEST_CASE(read_uses_proc_sys_kernel_osrelease) {
    const auto fixture = meshlink::probe::testing::fixture_host("centos7");
    const auto kernel = read_kernel_release(fixture);
    BOOST_TEST(kernel.release == "3.10.0-1160.119.1.el7.x86_64");

    meshlink::probe::testing::TempDir dir;
    const auto host = dir.host();
    const auto missing = read_kernel_release(host);
    BOOST_TEST(!missing.version.has_value());
    BOOST_TEST(missing.error.find("osrelease") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
