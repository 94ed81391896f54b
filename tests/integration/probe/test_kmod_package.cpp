// libkmod against a real module tree: a Debian linux-image package, downloaded with `apt-get download` into
// the build tree and unpacked with `dpkg-deb -x` (never installed). Before depmod its tree has no .bin
// indexes (the package's postinst builds them), so the probe must say "unknown"; after `depmod -b` every
// state must match what `modprobe -D` and the package's own kernel config say.

#include "probe/kmod.hpp"
#include "tests/integration/probe/run_process.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace meshlink::probe::testing;
namespace probe = meshlink::probe;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

bool on_path(const char* tool) {
    return run({"sh", "-c", std::string("command -v ") + tool}).exit_code == 0;
}

struct Package {
    std::string skip_reason; // non-empty: the tree could not be prepared
    fs::path root;           // the unpacked package
    fs::path proc;           // a procfs stand-in naming the package's kernel
    fs::path sys;            // an empty sysfs stand-in
    std::string release;
    Json before_depmod;
    Json after_depmod;
    std::map<std::string, char>
        config; // the package's boot/config-<release>, read here with plain text tools
};

std::string first_linux_image(const std::string& meta) {
    const auto show = run({"apt-cache", "depends", "--important", meta});
    std::istringstream lines(show.out);
    std::string line;
    while (std::getline(lines, line)) {
        const auto at = line.find("linux-image-");
        if (line.find("Depends:") != std::string::npos && at != std::string::npos) {
            return line.substr(at, line.find_first_of(" \t\n", at) - at);
        }
    }
    return {};
}

Json probe_json(const Package& p) {
    const auto result = run({agent(), "probe", "--root", p.root.string(), "--proc", p.proc.string(), "--sys",
                             p.sys.string(), "--skip-bpf", "-o", "json"});
    BOOST_REQUIRE_MESSAGE(result.exit_code == 0 || result.exit_code == 1, result.err);
    return Json::parse(result.out);
}

Package prepare() {
    Package p;
    for (const char* tool : {"apt-get", "apt-cache", "dpkg-deb", "depmod", "modprobe"}) {
        if (!on_path(tool)) {
            p.skip_reason =
                std::string("skipped: ") + tool + " not found (scripts/install-deps installs kmod)";
            return p;
        }
    }
    // The cloud flavour is the smallest Debian kernel (~27 MB); any linux-image would do.
    std::string package = first_linux_image("linux-image-cloud-amd64");
    if (package.empty()) {
        package = first_linux_image("linux-image-amd64");
    }
    if (package.empty()) {
        p.skip_reason = "skipped: apt-cache knows no linux-image package (no Debian package lists?)";
        return p;
    }
    const fs::path work = fs::path(MESHLINK_BINARY_DIR) / "tests" / "probe-kmod";
    fs::create_directories(work);
    fs::path deb;
    for (const auto& entry : fs::directory_iterator(work)) {
        if (entry.path().filename().string().rfind(package + "_", 0) == 0 &&
            entry.path().extension() == ".deb") {
            deb = entry.path();
        }
    }
    if (deb.empty()) {
        const auto download = run({"sh", "-c", "cd '" + work.string() + "' && apt-get download " + package});
        for (const auto& entry : fs::directory_iterator(work)) {
            if (entry.path().filename().string().rfind(package + "_", 0) == 0 &&
                entry.path().extension() == ".deb") {
                deb = entry.path();
            }
        }
        if (deb.empty()) {
            p.skip_reason = "skipped: apt-get download " + package + " failed (offline?): " + download.err;
            return p;
        }
    }
    p.root = work / "root";
    fs::remove_all(p.root);
    const auto unpack = run({"dpkg-deb", "-x", deb.string(), p.root.string()});
    BOOST_REQUIRE_MESSAGE(unpack.exit_code == 0, "dpkg-deb -x " << deb << ": " << unpack.err);
    fs::path modules = p.root / "lib/modules";
    if (!fs::exists(modules)) {
        modules = p.root / "usr/lib/modules";
    }
    for (const auto& entry : fs::directory_iterator(modules)) {
        p.release = entry.path().filename().string();
    }
    BOOST_REQUIRE(!p.release.empty());
    p.proc = work / "proc";
    p.sys = work / "sys";
    fs::remove_all(p.proc);
    fs::remove_all(p.sys);
    fs::create_directories(p.proc / "sys/kernel");
    fs::create_directories(p.sys / "module/vxlan");
    std::ofstream(p.proc / "sys/kernel/osrelease") << p.release << "\n";
    std::ofstream(p.sys / "module/vxlan/initstate") << "live\n";

    std::ifstream config(p.root / "boot" / ("config-" + p.release));
    std::string line;
    while (std::getline(config, line)) {
        const auto eq = line.find('=');
        if (line.rfind("CONFIG_", 0) == 0 && eq != std::string::npos && eq + 1 < line.size()) {
            p.config[line.substr(0, eq)] = line[eq + 1];
        }
    }

    p.before_depmod = probe_json(p);
    const auto depmod = run({"depmod", "-b", p.root.string(), p.release});
    BOOST_REQUIRE_MESSAGE(depmod.exit_code == 0, "depmod: " << depmod.err);
    p.after_depmod = probe_json(p);
    return p;
}

const Package& package() {
    static const Package p = prepare();
    return p;
}

// A plain function: GCC 12 warns (-Wuninitialized) about an empty functor stored in boost::function.
boost::test_tools::assertion_result package_ready(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result result(package().skip_reason.empty());
    result.message() << package().skip_reason;
    return result;
}

// What modprobe itself says about `name` in the unpacked tree: builtin, loadable or missing.
std::string modprobe_state(const std::string& name) {
    const auto& p = package();
    const auto result =
        run({"modprobe", "-C", "/dev/null", "-d", p.root.string(), "-S", p.release, "-D", name});
    if (result.exit_code != 0) {
        return "missing";
    }
    std::istringstream lines(result.out);
    std::string line;
    std::string last;
    while (std::getline(lines, line)) {
        if (line == "builtin " + name) {
            return "builtin";
        }
        if (!line.empty()) {
            last = line;
        }
    }
    return last.rfind("insmod ", 0) == 0 ? "loadable" : "unrecognised: " + result.out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(probe_kmod_package, *boost::unit_test::precondition(&package_ready))

BOOST_AUTO_TEST_CASE(without_depmod_indexes_states_are_unknown) {
    const auto& doc = package().before_depmod;
    const auto& index = doc.at("facts").at("moduleIndex");
    BOOST_TEST(index.at("error").get<std::string>().find("modules.dep.bin") != std::string::npos);
    for (const auto& [name, state] : doc.at("facts").at("modules").items()) {
        // vxlan is live in the sysfs stand-in: that much is known without indexes.
        BOOST_TEST(state.get<std::string>() == (name == "vxlan" ? "loaded" : "unknown"), name);
    }
    for (const auto& check : doc.at("checks")) {
        if (check.at("id") == "node.modules") {
            BOOST_TEST(check.at("status").get<std::string>() == "unknown");
        }
    }
}

BOOST_AUTO_TEST_CASE(every_state_matches_modprobe) {
    int compared = 0;
    for (const auto& [name, state] : package().after_depmod.at("facts").at("modules").items()) {
        if (name == "vxlan") {
            BOOST_TEST(state.get<std::string>() == "loaded"); // live in <sys>, whatever the tree says
            continue;
        }
        BOOST_TEST(state.get<std::string>() == modprobe_state(name), name);
        ++compared;
    }
    BOOST_TEST(compared >= 20);
}

BOOST_AUTO_TEST_CASE(states_follow_the_package_config) {
    const auto& p = package();
    const auto& modules = p.after_depmod.at("facts").at("modules");
    // Standard kbuild names, written here independently of the probe's table.
    const std::map<std::string, std::string> option_module{
        {"CONFIG_NET_CLS_BPF", "cls_bpf"}, {"CONFIG_NET_SCH_INGRESS", "sch_ingress"},
        {"CONFIG_GENEVE", "geneve"},       {"CONFIG_WIREGUARD", "wireguard"},
        {"CONFIG_NET_SCH_FQ", "sch_fq"},   {"CONFIG_NETFILTER_XT_MATCH_SOCKET", "xt_socket"},
    };
    int compared = 0;
    for (const auto& [option, module] : option_module) {
        const auto it = p.config.find(option);
        const std::string expected = it == p.config.end() ? "missing"
                                     : it->second == 'y'  ? "builtin"
                                                          : "loadable";
        BOOST_TEST(modules.at(module).get<std::string>() == expected, option << " -> " << module);
        ++compared;
    }
    BOOST_TEST(compared == 6);
}

BOOST_AUTO_TEST_CASE(builtin_loadable_and_missing_through_the_library) {
    const auto& p = package();
    probe::Host host{p.root, p.proc, p.sys, {}};
    // unix is =y in every Debian kernel, vxlan =m; the third name exists nowhere.
    BOOST_REQUIRE(p.config.count("CONFIG_UNIX") == 1 && p.config.at("CONFIG_UNIX") == 'y');
    const auto facts = probe::probe_modules(host, p.release, {"unix", "geneve", "meshlink_no_such_module"});
    BOOST_TEST(facts.error.empty(), facts.error);
    BOOST_TEST(probe::to_string(facts.get("unix")) == modprobe_state("unix"));
    BOOST_TEST(probe::to_string(facts.get("unix")) == "builtin");
    BOOST_TEST(probe::to_string(facts.get("geneve")) == modprobe_state("geneve"));
    BOOST_TEST(probe::to_string(facts.get("meshlink_no_such_module")) == "missing");
    BOOST_TEST(modprobe_state("meshlink_no_such_module") == "missing");
}

BOOST_AUTO_TEST_CASE(a_complete_tree_passes_the_modules_check) {
    for (const auto& check : package().after_depmod.at("checks")) {
        if (check.at("id") == "node.modules") {
            BOOST_TEST(check.at("status").get<std::string>() != "unknown",
                       check.at("message").get<std::string>());
            BOOST_TEST(check.at("status").get<std::string>() != "fail",
                       check.at("message").get<std::string>());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
