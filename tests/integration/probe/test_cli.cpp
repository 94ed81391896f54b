// The real `meshlink-agent probe` binary on the committed fixture roots: exit codes, the JSON contract, the
// table on a pipe and on a terminal, usage errors.

#include "tests/integration/probe/run_process.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

using namespace meshlink::probe::testing;

namespace {

std::string fixture(const std::string& name) {
    return std::string(MESHLINK_SOURCE_DIR) + "/tests/fixtures/nodes/" + name;
}

std::vector<std::string> probe_args(const std::string& name, const std::vector<std::string>& more) {
    const std::string base = fixture(name);
    std::vector<std::string> args{agent(),        "probe", "--root",      base + "/root", "--proc",
                                  base + "/proc", "--sys", base + "/sys", "--skip-bpf"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

std::string status(const nlohmann::json& doc, const std::string& id) {
    for (const auto& check : doc.at("checks")) {
        if (check.at("id") == id) {
            return check.at("status").get<std::string>();
        }
    }
    return "absent";
}

} // namespace

BOOST_AUTO_TEST_SUITE(probe_cli)

// Exit 1 exactly when a check fails; the expectations come from each fixture kernel against the Cilium
// minimums (3.10 fails everything; RHEL 8.10's 4.18 passes through its exception; 5.4 fails 1.18's 5.10).
BOOST_AUTO_TEST_CASE(exit_codes_per_fixture_and_cilium_release) {
    const struct {
        const char* fixture;
        const char* cilium;
        int exit_code;
    } cases[] = {
        {"centos7", "1.12", 1},        {"centos7", "1.20", 1},        {"rocky8.10", "1.15", 0},
        {"rocky8.10", "1.18", 0},      {"rocky9-elrepo", "1.20", 0},  {"ubuntu22.04", "1.16", 0},
        {"unknown-distro", "1.16", 0}, {"unknown-distro", "1.18", 1}, {"no-kconfig", "1.20", 0},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.fixture << " with Cilium " << c.cilium) {
            const auto result = run(probe_args(c.fixture, {"--cilium-version", c.cilium, "-o", "json"}));
            BOOST_TEST(result.exit_code == c.exit_code, result.err);
            const auto doc = nlohmann::json::parse(result.out);
            BOOST_TEST(doc.at("ciliumVersion").get<std::string>() == c.cilium);
            bool failed = false;
            for (const auto& check : doc.at("checks")) {
                failed = failed || check.at("status") == "fail";
            }
            BOOST_TEST(failed == (c.exit_code == 1));
        }
    }
}

BOOST_AUTO_TEST_CASE(json_is_the_documented_contract) {
    const auto result = run(probe_args("rocky8.10", {"-o", "json"}));
    BOOST_REQUIRE(result.exit_code == 0);
    const auto doc = nlohmann::json::parse(result.out);
    BOOST_TEST(doc.at("schemaVersion").get<int>() == 1);
    BOOST_TEST(doc.at("node").get<std::string>() == "rocky8-node");
    const auto& facts = doc.at("facts");
    BOOST_TEST(facts.at("kernel").at("release").get<std::string>() == "4.18.0-553.el8_10.x86_64");
    BOOST_TEST((facts.at("kernel").at("version") == nlohmann::json::array({4, 18, 0})));
    BOOST_TEST(facts.at("os").at("platformId").get<std::string>() == "platform:el8");
    BOOST_TEST(facts.at("kconfig").at("options").at("CONFIG_NET_CLS_BPF").get<std::string>() == "m");
    BOOST_TEST(facts.at("bpf").at("probed").get<bool>() == false);
    BOOST_TEST(facts.at("modules").at("vxlan").get<std::string>() == "unknown"); // no depmod indexes
    BOOST_TEST(facts.at("boot").at("secureBoot").get<bool>() == true);
    for (const char* id : {"node.kernel.version", "node.kernel.config", "node.kernel.btf",
                           "node.bpf.features", "node.modules", "node.bpffs", "node.cgroup2", "node.boot"}) {
        BOOST_TEST(status(doc, id) != "absent", id);
    }
    BOOST_TEST(status(doc, "node.kernel.version") == "pass");
    BOOST_TEST(status(doc, "node.boot") == "warn");
}

BOOST_AUTO_TEST_CASE(node_name_comes_from_the_downward_api) {
    const auto result = run(probe_args("ubuntu22.04", {"-o", "json"}), {"NODE_NAME=worker-7"});
    BOOST_TEST(nlohmann::json::parse(result.out).at("node").get<std::string>() == "worker-7");
}

BOOST_AUTO_TEST_CASE(table_on_a_pipe_is_plain_ascii) {
    const auto result =
        run(probe_args("centos7", {"--cilium-version", "1.18"}), {"LANG=C.UTF-8"}, {"NO_COLOR"});
    BOOST_TEST(result.exit_code == 1);
    BOOST_TEST(result.out.find('\033') == std::string::npos);
    for (unsigned char c : result.out) {
        BOOST_TEST_REQUIRE(c < 0x80u); // no symbols either
    }
    BOOST_TEST(result.out.find("[FAIL]  node.kernel.version") != std::string::npos);
    BOOST_TEST(result.out.find("kernel 3.10.0-1160 < 5.10 required by Cilium 1.18") != std::string::npos);
    BOOST_TEST(result.out.find("upgrade the OS") != std::string::npos);
    BOOST_TEST(result.err.empty());
}

BOOST_AUTO_TEST_CASE(table_on_a_terminal_has_colour_and_symbols) {
    const auto args = probe_args("centos7", {"--cilium-version", "1.18"});
    const auto tty = run_on_tty(args, {"LANG=C.UTF-8", "TERM=xterm"}, {"NO_COLOR", "LC_ALL", "LC_CTYPE"});
    BOOST_TEST(tty.exit_code == 1);
    BOOST_TEST(tty.out.find("\033[31m") != std::string::npos); // failures in red
    BOOST_TEST(tty.out.find("✘") != std::string::npos);

    const auto no_color =
        run_on_tty(args, {"LANG=C.UTF-8", "TERM=xterm", "NO_COLOR=1"}, {"LC_ALL", "LC_CTYPE"});
    BOOST_TEST(no_color.out.find('\033') == std::string::npos);
    BOOST_TEST(no_color.out.find("[FAIL]") != std::string::npos);

    const auto ascii = run_on_tty(args, {"LANG=C", "TERM=xterm"}, {"NO_COLOR", "LC_ALL", "LC_CTYPE"});
    BOOST_TEST(ascii.out.find("✘") == std::string::npos);
    BOOST_TEST(ascii.out.find("[FAIL]") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2) {
    const std::vector<std::vector<std::string>> bad{
        {agent(), "probe", "-o", "yaml"},
        {agent(), "probe", "--cilium-version", "one.eighteen"},
        {agent(), "probe", "--cilium-version", "2.0"},
        {agent(), "probe", "--root", "/nonexistent-meshlink-root"},
        {agent(), "probe", "--no-such-flag"},
        {agent(), "probe", "extra-argument"},
    };
    for (const auto& args : bad) {
        BOOST_TEST_CONTEXT(args[2]) {
            const auto result = run(args);
            BOOST_TEST(result.exit_code == 2);
            BOOST_TEST(result.out.empty());
            BOOST_TEST(result.err.find("meshlink-agent: error:") != std::string::npos, result.err);
        }
    }
    const auto help = run({agent(), "probe", "--help"});
    BOOST_TEST(help.exit_code == 0);
    BOOST_TEST(help.out.find("--cilium-version") != std::string::npos);
    BOOST_TEST(help.out.find("Exit codes") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_newer_cilium_than_known_is_judged_by_the_newest_row) {
    const auto result = run(probe_args("ubuntu22.04", {"--cilium-version", "1.99", "-o", "json"}));
    BOOST_TEST(result.exit_code == 0);
    BOOST_TEST(result.err.find("newer than the requirements") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(verb_is_listed_in_help) {
    const auto help = run({agent(), "help"});
    BOOST_TEST(help.out.find("probe") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
