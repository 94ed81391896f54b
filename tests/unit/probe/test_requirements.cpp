#include "probe/bpf.hpp"
#include "probe/requirements.hpp"
#include "tests/unit/probe/probe_test_support.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink::probe;

BOOST_AUTO_TEST_SUITE(probe_requirements)

BOOST_AUTO_TEST_CASE(cilium_versions_parse_like_users_write_them) {
    BOOST_TEST((parse_cilium_version("1.18") == CiliumVersion{1, 18}));
    BOOST_TEST((parse_cilium_version("v1.16") == CiliumVersion{1, 16}));
    BOOST_TEST((parse_cilium_version("1.18.3") == CiliumVersion{1, 18}));
    for (const char* bad : {"", "1", "1.", "x.y", "1.18.3.1", "2.0", "1.18-rc1", "1..18", " 1.18", "v"}) {
        BOOST_TEST_CONTEXT("\"" << bad << "\"") {
            BOOST_TEST(!parse_cilium_version(bad).has_value());
        }
    }
}

// The minimums of docs/kernel-requirements.md, which users rely on when they pick a Cilium release.
BOOST_AUTO_TEST_CASE(kernel_minimum_by_cilium_release) {
    const struct {
        CiliumVersion cilium;
        KernelVersion minimum;
    } cases[] = {
        {{1, 10}, {4, 9, 17}},  {{1, 12}, {4, 9, 17}}, {{1, 13}, {4, 19, 57}},
        {{1, 15}, {4, 19, 57}}, {{1, 16}, {5, 4, 0}},  {{1, 17}, {5, 4, 0}},
        {{1, 18}, {5, 10, 0}},  {{1, 19}, {5, 10, 0}}, {{1, 20}, {5, 10, 0}},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("Cilium " << to_string(c.cilium)) {
            BOOST_TEST((requirements_for(c.cilium).min_kernel == c.minimum));
        }
    }
}

BOOST_AUTO_TEST_CASE(rhel8_exceptions_follow_the_minor_release) {
    BOOST_TEST(!requirements_for({1, 12}).exception.has_value());
    BOOST_REQUIRE(requirements_for({1, 15}).exception.has_value());
    BOOST_TEST(requirements_for({1, 15}).exception->min_build == 0);   // any RHEL 8 kernel
    BOOST_TEST(requirements_for({1, 16}).exception->min_build == 372); // RHEL 8.6: 4.18.0-372
    BOOST_TEST(requirements_for({1, 18}).exception->min_build == 553); // RHEL 8.10: 4.18.0-553
}

BOOST_AUTO_TEST_CASE(btf_is_required_only_by_the_newest_releases) {
    BOOST_TEST(!requirements_for({1, 18}).btf_required);
    BOOST_TEST(requirements_for(newest_cilium()).btf_required);
}

BOOST_AUTO_TEST_CASE(unknown_newer_releases_use_the_newest_row) {
    bool extrapolated = false;
    const auto& row = requirements_for({1, 27}, &extrapolated);
    BOOST_TEST(extrapolated);
    BOOST_TEST((row.last == newest_cilium()));
    requirements_for(newest_cilium(), &extrapolated);
    BOOST_TEST(!extrapolated);
}

BOOST_AUTO_TEST_CASE(the_table_is_contiguous_and_ascending) {
    const auto& rows = cilium_requirements();
    BOOST_REQUIRE(!rows.empty());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        BOOST_TEST((rows[i].first <= rows[i].last));
        BOOST_TEST(!rows[i].options.empty());
        BOOST_TEST(!rows[i].source.empty());
        if (i > 0) {
            BOOST_TEST((rows[i].first == CiliumVersion{rows[i - 1].last.major, rows[i - 1].last.minor + 1}));
            BOOST_TEST((rows[i].min_kernel >= rows[i - 1].min_kernel));
        }
    }
    BOOST_TEST((newest_cilium() == rows.back().last));
}

// A typo in the table would otherwise turn into a permanent "unknown".
BOOST_AUTO_TEST_CASE(every_name_in_the_table_is_known_to_libbpf_and_the_uapi) {
    const auto check_helper = [](const HelperNeed& need) {
        BOOST_TEST_CONTEXT(need.program_type << "/" << need.helper) {
            BOOST_TEST(program_type_from_name(need.program_type).has_value());
            BOOST_TEST(helper_from_name(need.helper).has_value());
        }
    };
    for (const auto& row : cilium_requirements()) {
        for (auto type : row.program_types) {
            BOOST_TEST(program_type_from_name(type).has_value(), type);
        }
        for (auto type : row.map_types) {
            BOOST_TEST(map_type_from_name(type).has_value(), type);
        }
        for (const auto& need : row.helpers) {
            check_helper(need);
        }
        for (auto option : row.options) {
            BOOST_TEST(option.substr(0, 7) == "CONFIG_");
        }
    }
    for (const auto& feature : feature_requirements()) {
        BOOST_TEST(feature.id.substr(0, 13) == "node.feature.");
        BOOST_TEST(!feature.without.empty());
        for (auto type : feature.program_types) {
            BOOST_TEST(program_type_from_name(type).has_value(), type);
        }
        for (const auto& need : feature.helpers) {
            check_helper(need);
        }
        for (auto option : feature.options) {
            BOOST_TEST(option.substr(0, 7) == "CONFIG_");
        }
    }
    for (const auto& need : reported_helpers()) {
        check_helper(need);
    }
}

BOOST_AUTO_TEST_CASE(modules_of_issue_options_use_kbuild_names) {
    BOOST_TEST(module_for_option("CONFIG_NET_CLS_BPF") == "cls_bpf");
    BOOST_TEST(module_for_option("CONFIG_NET_SCH_INGRESS") == "sch_ingress");
    BOOST_TEST(module_for_option("CONFIG_VXLAN") == "vxlan");
    BOOST_TEST(module_for_option("CONFIG_WIREGUARD") == "wireguard");
    BOOST_TEST(module_for_option("CONFIG_BPF") == ""); // bool-only
    const auto modules = reported_modules();
    for (const char* name :
         {"cls_bpf", "sch_ingress", "vxlan", "geneve", "wireguard", "xt_socket", "ip_tables"}) {
        BOOST_TEST((std::find(modules.begin(), modules.end(), name) != modules.end()), name);
    }
}

BOOST_AUTO_TEST_SUITE_END()
