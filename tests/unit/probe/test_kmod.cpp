#include "probe/kmod.hpp"
#include "tests/unit/probe/probe_test_support.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink::probe;
using meshlink::probe::testing::fixture_host;
using meshlink::probe::testing::TempDir;

// libkmod against real depmod indexes is tested in tests/integration/probe (an unpacked linux-image package).
BOOST_AUTO_TEST_SUITE(probe_kmod)

BOOST_AUTO_TEST_CASE(without_a_module_tree_states_are_unknown) {
    TempDir dir;
    const auto facts = probe_modules(dir.host(), "6.1.0-18-amd64", {"vxlan", "cls_bpf"});
    BOOST_TEST(facts.directory.empty());
    BOOST_TEST(facts.error.find("6.1.0-18-amd64") != std::string::npos);
    BOOST_TEST((facts.get("vxlan") == ModuleState::unknown));
    BOOST_TEST((facts.get("cls_bpf") == ModuleState::unknown));
}

BOOST_AUTO_TEST_CASE(text_indexes_alone_are_not_enough) {
    // modules.dep and modules.builtin exist as text, but libkmod only reads the .bin files: without them
    // "not found" would be a lie, so the answer is unknown and says which indexes are missing.
    const auto facts =
        probe_modules(fixture_host("centos7"), "3.10.0-1160.119.1.el7.x86_64", {"vxlan", "cls_bpf"});
    BOOST_TEST(!facts.directory.empty());
    BOOST_TEST(facts.error.find("modules.dep.bin") != std::string::npos);
    BOOST_TEST(facts.error.find("depmod") != std::string::npos);
    BOOST_TEST((facts.get("vxlan") == ModuleState::unknown));
}

BOOST_AUTO_TEST_CASE(sysfs_still_tells_what_is_loaded) {
    // The Rocky 9 fixture's sysfs has vxlan live; its module tree has no indexes.
    const auto facts =
        probe_modules(fixture_host("rocky9-elrepo"), "6.12.1-1.el9.elrepo.x86_64", {"vxlan", "geneve"});
    BOOST_TEST((facts.get("vxlan") == ModuleState::loaded));
    BOOST_TEST((facts.get("geneve") == ModuleState::unknown));
}

BOOST_AUTO_TEST_CASE(names_are_normalised_like_kmod) {
    TempDir dir;
    const auto host = dir.host();
    dir.write("sys/module/nf_conntrack/initstate", "live\n");
    const auto facts = probe_modules(host, "6.1.0", {"nf-conntrack"});
    BOOST_TEST(facts.modules.front().name == "nf_conntrack");
    BOOST_TEST((facts.get("nf-conntrack") == ModuleState::loaded));
}

BOOST_AUTO_TEST_CASE(an_unknown_release_has_no_module_tree) {
    TempDir dir;
    const auto facts = probe_modules(dir.host(), "", {"vxlan"});
    BOOST_TEST((facts.get("vxlan") == ModuleState::unknown));
    BOOST_TEST(!facts.error.empty());
}

BOOST_AUTO_TEST_SUITE_END()
