#include "probe/kconfig.hpp"
#include "tests/unit/probe/probe_test_support.hpp"

#include <boost/test/unit_test.hpp>
#include <zlib.h>

using namespace meshlink::probe;
using meshlink::probe::testing::kconfig_text;
using meshlink::probe::testing::TempDir;

namespace {

// gzip-compresses `text` as /proc/config.gz is (the test writes it with zlib, not with the code under test).
std::string gzip(const std::string& text) {
    z_stream stream{};
    BOOST_REQUIRE(deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) ==
                  Z_OK);
    std::string out(compressBound(static_cast<uLong>(text.size())) + 64, '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    stream.avail_in = static_cast<uInt>(text.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    BOOST_REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(probe_kconfig)

BOOST_AUTO_TEST_CASE(tristate_values_as_system_validators_reads_them) {
    const auto config = parse_kconfig(kconfig_text("CONFIG_BPF=y\n"
                                                   "CONFIG_NET_CLS_BPF=m\n"
                                                   "CONFIG_EXPLICIT_NO=n\n"
                                                   "# CONFIG_NETKIT is not set\n"
                                                   "CONFIG_HZ=1000\n"
                                                   "CONFIG_DEFAULT_HOSTNAME=\"(none)\"\n"
                                                   "CONFIG_ARCH_MMAP_RND_BITS_MIN=28\n"));
    BOOST_TEST(config.usable());
    BOOST_TEST(config.generated_header);
    BOOST_TEST(config.assignments == 6u);
    KconfigFacts facts;
    facts.source = "test";
    facts.config = config;
    BOOST_TEST((facts.get("CONFIG_BPF") == OptionState::y));
    BOOST_TEST((facts.get("CONFIG_NET_CLS_BPF") == OptionState::m));
    BOOST_TEST((facts.get("CONFIG_EXPLICIT_NO") == OptionState::n));
    // "is not set" and absent look the same to Cilium's checks: unset, never "unknown".
    BOOST_TEST((facts.get("CONFIG_NETKIT") == OptionState::unset));
    BOOST_TEST((facts.get("CONFIG_WIREGUARD") == OptionState::unset));
    // Numbers and strings are not tristate answers.
    BOOST_TEST((facts.get("CONFIG_HZ") == OptionState::unset));
    BOOST_TEST((facts.get("CONFIG_DEFAULT_HOSTNAME") == OptionState::unset));
}

BOOST_AUTO_TEST_CASE(without_a_source_everything_is_unknown) {
    KconfigFacts facts;
    BOOST_TEST((facts.get("CONFIG_BPF") == OptionState::unknown));
}

BOOST_AUTO_TEST_CASE(crlf_line_ends_are_tolerated) {
    const auto config =
        parse_kconfig("#\r\n# Automatically generated file; DO NOT EDIT.\r\nCONFIG_BPF=y\r\n");
    BOOST_TEST(config.usable());
    BOOST_TEST(config.options.at("CONFIG_BPF") == 'y');
}

BOOST_AUTO_TEST_CASE(garbage_makes_a_file_unusable) {
    const struct {
        std::string text;
        const char* why;
    } cases[] = {
        {"", "empty"},
        {"# only comments\n#\n", "no assignments"},
        {kconfig_text("CONFIG_BPF=y\nthis is not a config line\n"), "prose"},
        {kconfig_text("CONFIG_BPF=y\nCONFIG_=y\n"), "empty name"},
        {kconfig_text("CONFIG_BPF=y\nCONFIG_X\n"), "no value"},
        {kconfig_text("CONFIG_BPF=y\nCONFIG_X=\n"), "empty value"},
        {kconfig_text("CONFIG_BPF=y\nCONFIG_X-Y=y\n"), "bad name"},
        {kconfig_text(std::string("CONFIG_BPF=y\nCONFIG_X=y\x01\n")), "control character"},
        {kconfig_text(std::string("CONFIG_BPF=y\n\0\0\0\0", 17)), "NUL bytes"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.why) {
            BOOST_TEST(!parse_kconfig(c.text).usable());
        }
    }
    const auto config = parse_kconfig(kconfig_text("CONFIG_BPF=y\nnot config\n"));
    BOOST_TEST(config.bad_line == 6u);
    BOOST_TEST(!config.bad_reason.empty());
}

BOOST_AUTO_TEST_CASE(search_order_starts_with_proc_config_gz) {
    TempDir dir;
    const auto host = dir.host();
    const std::string release = "6.1.0-18-amd64";
    const auto candidates = kconfig_candidates(host, release);
    BOOST_REQUIRE(candidates.size() >= 4u);
    BOOST_TEST(candidates[0] == host.proc / "config.gz");
    BOOST_TEST(candidates[1] == host.root / ("boot/config-" + release));
    BOOST_TEST(candidates[2] == host.root / ("lib/modules/" + release + "/config"));
    BOOST_TEST(candidates[3] == host.root / ("usr/lib/modules/" + release + "/config"));
    // Without a release nothing else can be matched to the running kernel.
    BOOST_TEST(kconfig_candidates(host, "").size() == 1u);
}

BOOST_AUTO_TEST_CASE(first_usable_candidate_wins) {
    TempDir dir;
    const auto host = dir.host();
    const std::string release = "6.1.0-18-amd64";
    dir.write("root/lib/modules/" + release + "/config", kconfig_text("CONFIG_FROM_LIB=y\n"));
    auto facts = read_kconfig(host, release);
    BOOST_TEST(facts.source == (host.root / "lib/modules" / release / "config").string());
    BOOST_TEST((facts.get("CONFIG_FROM_LIB") == OptionState::y));

    dir.write("root/boot/config-" + release, kconfig_text("CONFIG_FROM_BOOT=m\n"));
    facts = read_kconfig(host, release);
    BOOST_TEST(facts.source == (host.root / "boot" / ("config-" + release)).string());
    BOOST_TEST((facts.get("CONFIG_FROM_BOOT") == OptionState::m));
    BOOST_TEST((facts.get("CONFIG_FROM_LIB") == OptionState::unset));

    dir.write("proc/config.gz", gzip(kconfig_text("CONFIG_FROM_PROC=y\n")));
    facts = read_kconfig(host, release);
    BOOST_TEST(facts.source == (host.proc / "config.gz").string());
    BOOST_TEST((facts.get("CONFIG_FROM_PROC") == OptionState::y));
}

BOOST_AUTO_TEST_CASE(a_config_for_another_release_is_not_used) {
    TempDir dir;
    const auto host = dir.host();
    dir.write("root/boot/config-5.14.0-427.el9.x86_64", kconfig_text("CONFIG_BPF=y\n"));
    const auto facts = read_kconfig(host, "6.12.1-1.el9.elrepo.x86_64");
    BOOST_TEST(facts.source.empty());
    BOOST_TEST((facts.get("CONFIG_BPF") == OptionState::unknown));
    BOOST_TEST(facts.error.find("6.12.1-1.el9.elrepo.x86_64") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unusable_candidates_are_skipped_and_named) {
    TempDir dir;
    const auto host = dir.host();
    const std::string release = "6.1.0-18-amd64";
    dir.mkdir("proc/config.gz"); // unreadable: a directory
    dir.write("root/boot/config-" + release, "\x7f"
                                             "ELF garbage\n");
    dir.write("root/lib/modules/" + release + "/config", kconfig_text("CONFIG_BPF=m\n"));
    const auto facts = read_kconfig(host, release);
    BOOST_TEST(facts.source == (host.root / "lib/modules" / release / "config").string());
    BOOST_TEST((facts.get("CONFIG_BPF") == OptionState::m));
    BOOST_TEST(facts.error.find("config.gz") != std::string::npos);
    BOOST_TEST(facts.error.find("not a kernel config") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(only_garbage_gives_unknown_with_the_reasons) {
    TempDir dir;
    const auto host = dir.host();
    const std::string release = "6.1.0-18-amd64";
    dir.write("root/boot/config-" + release, "random words\nno config here\n");
    dir.write("proc/config.gz", std::string("\x1f\x8b\x08\x00truncated", 13));
    const auto facts = read_kconfig(host, release);
    BOOST_TEST(facts.source.empty());
    BOOST_TEST((facts.get("CONFIG_BPF") == OptionState::unknown));
    BOOST_TEST(facts.error.find("no usable kernel config") != std::string::npos);
    BOOST_TEST(facts.error.find("boot/config-" + release) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(fixture_roots_find_their_configs) {
    using meshlink::probe::testing::fixture_host;
    const auto rocky9 = read_kconfig(fixture_host("rocky9-elrepo"), "6.12.1-1.el9.elrepo.x86_64");
    // Reached through the usr-merged /lib symlink of the fixture.
    BOOST_TEST(rocky9.source.find("lib/modules/6.12.1-1.el9.elrepo.x86_64/config") != std::string::npos);
    BOOST_TEST((rocky9.get("CONFIG_NET_SCH_INGRESS") == OptionState::m));
    BOOST_TEST((rocky9.get("CONFIG_NETKIT") == OptionState::unset));

    const auto acme = read_kconfig(fixture_host("unknown-distro"), "5.4.0-acme7");
    BOOST_TEST(acme.source.find("proc/config.gz") != std::string::npos);
    BOOST_TEST((acme.get("CONFIG_BPF") == OptionState::y));
}

BOOST_AUTO_TEST_SUITE_END()
