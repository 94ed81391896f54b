#include "probe/report.hpp"
#include "tests/unit/probe/probe_test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <set>

using namespace meshlink::probe;
using meshlink::probe::testing::fixture_host;

namespace {

nlohmann::ordered_json fixture_json(std::string_view name, CiliumVersion cilium) {
    ProbeOptions options;
    options.host = fixture_host(name);
    return to_json(make_report(options, cilium));
}

} // namespace

// The document is a contract with `kubectl meshlink preflight` and the node annotation (README "Node probe").
BOOST_AUTO_TEST_SUITE(probe_report)

BOOST_AUTO_TEST_CASE(top_level_shape) {
    const auto doc = fixture_json("rocky9-elrepo", {1, 18});
    BOOST_TEST(doc.at("schemaVersion").get<int>() == 1);
    BOOST_TEST(doc.at("node").get<std::string>() == "rocky9-node");
    BOOST_TEST(doc.at("ciliumVersion").get<std::string>() == "1.18");
    const auto& facts = doc.at("facts");
    for (const char* key : {"kernel", "os", "kconfig", "btf", "bpf", "modules", "mounts", "boot"}) {
        BOOST_TEST(facts.contains(key), key);
    }
    const auto& kernel = facts.at("kernel");
    BOOST_TEST(kernel.at("release").get<std::string>() == "6.12.1-1.el9.elrepo.x86_64");
    BOOST_TEST((kernel.at("version") == nlohmann::ordered_json::array({6, 12, 1})));
    const auto& os = facts.at("os");
    BOOST_TEST(os.at("id").get<std::string>() == "rocky");
    BOOST_TEST(os.at("versionId").get<std::string>() == "9.4");
    BOOST_TEST(os.at("platformId").get<std::string>() == "platform:el9");
    BOOST_TEST(os.at("idLike").size() == 3u);
}

BOOST_AUTO_TEST_CASE(values_stay_in_their_vocabularies) {
    const std::set<std::string> statuses{"pass", "warn", "fail", "unknown"};
    const std::set<std::string> options{"y", "m", "n", "unset", "unknown"};
    const std::set<std::string> modules{"builtin", "loadable", "loaded", "missing", "unknown"};
    for (const char* fixture :
         {"centos7", "rocky8.10", "rocky9-elrepo", "ubuntu22.04", "unknown-distro", "no-kconfig"}) {
        const auto doc = fixture_json(fixture, newest_cilium());
        std::set<std::string> ids;
        for (const auto& check : doc.at("checks")) {
            BOOST_TEST(statuses.count(check.at("status").get<std::string>()) == 1u, fixture);
            BOOST_TEST(!check.at("message").get<std::string>().empty(), fixture);
            BOOST_TEST((check.at("hint").is_null() || check.at("hint").is_string()));
            BOOST_TEST(ids.insert(check.at("id").get<std::string>()).second, "duplicate id in " << fixture);
        }
        for (const auto& [name, value] : doc.at("facts").at("kconfig").at("options").items()) {
            BOOST_TEST(name.substr(0, 7) == "CONFIG_");
            BOOST_TEST(options.count(value.get<std::string>()) == 1u, name);
        }
        for (const auto& [name, value] : doc.at("facts").at("modules").items()) {
            BOOST_TEST(modules.count(value.get<std::string>()) == 1u, name);
        }
    }
}

BOOST_AUTO_TEST_CASE(no_config_means_null_source_and_unknown_options) {
    const auto doc = fixture_json("no-kconfig", newest_cilium());
    const auto& kconfig = doc.at("facts").at("kconfig");
    BOOST_TEST(kconfig.at("source").is_null());
    BOOST_TEST(kconfig.at("error").is_string());
    for (const auto& [name, value] : kconfig.at("options").items()) {
        BOOST_TEST(value.get<std::string>() == "unknown", name);
    }
}

BOOST_AUTO_TEST_CASE(config_values_are_the_files) {
    const auto doc = fixture_json("rocky9-elrepo", newest_cilium());
    const auto& options = doc.at("facts").at("kconfig").at("options");
    BOOST_TEST(options.at("CONFIG_BPF").get<std::string>() == "y");
    BOOST_TEST(options.at("CONFIG_NET_SCH_INGRESS").get<std::string>() == "m");
    BOOST_TEST(options.at("CONFIG_NETKIT").get<std::string>() == "unset");
}

BOOST_AUTO_TEST_CASE(skipped_probes_are_null_not_false) {
    const auto doc = fixture_json("ubuntu22.04", newest_cilium());
    const auto& bpf = doc.at("facts").at("bpf");
    BOOST_TEST(bpf.at("probed").get<bool>() == false);
    BOOST_TEST(bpf.at("syscall").is_null());
    BOOST_TEST(bpf.at("programTypes").empty());
    BOOST_TEST(bpf.at("error").get<std::string>().find("skip") != std::string::npos);
    BOOST_TEST(bpf.at("jit").at("bpf_jit_enable").get<int>() == 1);
}

BOOST_AUTO_TEST_CASE(boot_and_mounts_are_reported) {
    const auto doc = fixture_json("rocky8.10", newest_cilium());
    const auto& boot = doc.at("facts").at("boot");
    BOOST_TEST(boot.at("firmware").get<std::string>() == "uefi");
    BOOST_TEST(boot.at("secureBoot").get<bool>() == true);
    BOOST_TEST(boot.at("defaultKernel").get<std::string>() == "4.18.0-553.el8_10.x86_64");
    const auto& mounts = doc.at("facts").at("mounts");
    BOOST_TEST(mounts.at("bpffs").get<bool>() == true);
    BOOST_TEST(mounts.at("cgroup2").get<bool>() == false);
}

BOOST_AUTO_TEST_SUITE_END()
