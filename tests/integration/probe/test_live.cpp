// The probe on this machine's running kernel, against `bpftool -j feature probe` run in the same test: every
// program type, map type, helper, sysctl and kernel config option both report must agree.

#include "tests/integration/probe/run_process.hpp"

#include <boost/test/unit_test.hpp>
#include <linux/bpf.h>
#include <nlohmann/json.hpp>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

using namespace meshlink::probe::testing;
using Json = nlohmann::json;

namespace {

std::string find_bpftool() {
    for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin"}) {
        const std::string path = std::string(dir) + "/bpftool";
        if (::access(path.c_str(), X_OK) == 0) {
            return path;
        }
    }
    return {};
}

// Skips (with the reason) when this machine cannot run the comparison.
// A plain function: GCC 12 warns (-Wuninitialized) about an empty functor stored in boost::function.
boost::test_tools::assertion_result live_kernel(boost::unit_test::test_unit_id) {
    {
        boost::test_tools::assertion_result result(false);
        if (::geteuid() != 0) {
            result.message() << "skipped: not root (bpftool and the probe need CAP_SYS_ADMIN/CAP_BPF)";
            return result;
        }
        if (find_bpftool().empty()) {
            result.message() << "skipped: bpftool not installed (scripts/install-deps installs it)";
            return result;
        }
        union bpf_attr attr;
        std::memset(&attr, 0, sizeof attr);
        const long fd = ::syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
        if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
            result.message() << "skipped: bpf() unavailable here: " << std::strerror(errno);
            return result;
        }
        return true;
    }
}

struct Both {
    Json probe;
    Json bpftool;
    int probe_exit = -1;
};

const Both& both() {
    static const Both result = [] {
        Both out;
        const auto probe = run({agent(), "probe", "-o", "json"});
        out.probe_exit = probe.exit_code;
        out.probe = Json::parse(probe.out);
        const auto bpftool = run({find_bpftool(), "-j", "feature", "probe"});
        BOOST_REQUIRE_MESSAGE(bpftool.exit_code == 0, "bpftool failed: " << bpftool.err);
        out.bpftool = Json::parse(bpftool.out);
        return out;
    }();
    return result;
}

// Compares ours[name] (true/false/null) with bpftool's section["have_<name>_<suffix>"]; returns how many
// both answered.
int compare_types(const Json& ours, const Json& theirs, const std::string& suffix) {
    int compared = 0;
    for (const auto& [name, value] : ours.items()) {
        const std::string key = "have_" + name + "_" + suffix;
        if (value.is_null() || !theirs.contains(key)) {
            continue;
        }
        BOOST_TEST(value.get<bool>() == theirs.at(key).get<bool>(), suffix << " " << name);
        ++compared;
    }
    return compared;
}

std::string release() {
    utsname u{};
    ::uname(&u);
    return u.release;
}

// Where bpftool takes the config from (src/feature.c read_kernel_config): /boot/config-$(uname -r) if its
// second line is the kconfig header, else /proc/config.gz.
std::string bpftool_config_source() {
    const std::string boot = "/boot/config-" + release();
    std::ifstream in(boot);
    std::string line;
    if (in && std::getline(in, line) && std::getline(in, line) &&
        line == "# Automatically generated file; DO NOT EDIT.") {
        return boot;
    }
    return "/proc/config.gz";
}

// Skips when the probe and bpftool read different config files: there is nothing to compare then.
boost::test_tools::assertion_result same_config_file(boost::unit_test::test_unit_id) {
    const Json& source = both().probe.at("facts").at("kconfig").at("source");
    boost::test_tools::assertion_result result(source.is_null() ||
                                               source.get<std::string>() == bpftool_config_source());
    result.message() << "the probe read " << source.dump() << ", bpftool reads " << bpftool_config_source()
                     << ": different files, nothing to compare";
    return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(probe_live, *boost::unit_test::precondition(&live_kernel))

BOOST_AUTO_TEST_CASE(reports_the_running_kernel) {
    const auto& doc = both().probe;
    BOOST_TEST(doc.at("facts").at("kernel").at("release").get<std::string>() == release());
    BOOST_TEST(doc.at("facts").at("bpf").at("probed").get<bool>());
    BOOST_TEST(doc.at("facts").at("bpf").at("syscall").get<bool>() ==
               both().bpftool.at("syscall_config").at("have_bpf_syscall").get<bool>());
    bool failed = false;
    for (const auto& check : doc.at("checks")) {
        failed = failed || check.at("status") == "fail";
    }
    BOOST_TEST(both().probe_exit == (failed ? 1 : 0));
}

BOOST_AUTO_TEST_CASE(program_types_agree_with_bpftool) {
    const int compared = compare_types(both().probe.at("facts").at("bpf").at("programTypes"),
                                       both().bpftool.at("program_types"), "prog_type");
    BOOST_TEST_MESSAGE(compared << " program types compared");
    BOOST_TEST(compared >= 25); // libbpf 1.1 and bpftool 7.1 know ~31; a vacuous pass is a failure
}

BOOST_AUTO_TEST_CASE(map_types_agree_with_bpftool) {
    const int compared = compare_types(both().probe.at("facts").at("bpf").at("mapTypes"),
                                       both().bpftool.at("map_types"), "map_type");
    BOOST_TEST_MESSAGE(compared << " map types compared");
    BOOST_TEST(compared >= 25);
}

BOOST_AUTO_TEST_CASE(helpers_agree_with_bpftool) {
    int compared = 0;
    const auto& theirs = both().bpftool.at("helpers");
    for (const auto& [type, helpers] : both().probe.at("facts").at("bpf").at("helpers").items()) {
        const std::string key = type + "_available_helpers";
        if (!theirs.contains(key)) {
            continue;
        }
        const auto& list = theirs.at(key);
        for (const auto& [helper, value] : helpers.items()) {
            if (value.is_null()) {
                continue;
            }
            const bool listed = std::find(list.begin(), list.end(), "bpf_" + helper) != list.end();
            BOOST_TEST(value.get<bool>() == listed, type << "/" << helper);
            ++compared;
        }
    }
    BOOST_TEST_MESSAGE(compared << " helpers compared");
    BOOST_TEST(compared >= 4);
}

BOOST_AUTO_TEST_CASE(sysctls_agree_with_bpftool) {
    const auto& ours = both().probe.at("facts").at("bpf");
    const auto& theirs = both().bpftool.at("system_config");
    const auto same = [](const Json& mine, const Json& other) {
        return mine.is_null() ? other.get<long long>() == -1
                              : mine.get<long long>() == other.get<long long>();
    };
    BOOST_TEST(same(ours.at("unprivileged_bpf_disabled"), theirs.at("unprivileged_bpf_disabled")));
    for (const char* name : {"bpf_jit_enable", "bpf_jit_harden", "bpf_jit_kallsyms", "bpf_jit_limit"}) {
        BOOST_TEST(same(ours.at("jit").at(name), theirs.at(name)), name);
    }
}

BOOST_AUTO_TEST_CASE(kernel_config_agrees_with_bpftool, *boost::unit_test::precondition(&same_config_file)) {
    const auto& kconfig = both().probe.at("facts").at("kconfig");
    if (kconfig.at("source").is_null()) {
        const auto& theirs = both().bpftool.at("system_config");
        const bool bpftool_has_none = !theirs.contains("CONFIG_BPF") || theirs.at("CONFIG_BPF").is_null();
        BOOST_TEST(bpftool_has_none);
        return;
    }
    const std::string source = kconfig.at("source").get<std::string>();
    int compared = 0;
    const auto& theirs = both().bpftool.at("system_config");
    for (const auto& [name, value] : kconfig.at("options").items()) {
        if (!theirs.contains(name)) {
            continue;
        }
        const std::string mine = value.get<std::string>();
        const Json& other = theirs.at(name);
        if (mine == "unset") {
            BOOST_TEST(other.is_null(), name << ": bpftool says " << other.dump());
        } else {
            BOOST_TEST((other.is_string() && other.get<std::string>() == mine),
                       name << ": bpftool says " << other.dump());
        }
        ++compared;
    }
    BOOST_TEST_MESSAGE(compared << " kernel config options compared (" << source << ")");
    BOOST_TEST(compared >= 15);
}

BOOST_AUTO_TEST_SUITE_END()
