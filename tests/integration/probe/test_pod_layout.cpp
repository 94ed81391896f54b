// The probe the way the DaemonSet runs it: in a PID namespace of its own with its own procfs (--proc=/proc),
// and of the host's procfs only PID 1's mount table, bind-mounted as one file (--mountinfo). It must report
// the host's bpffs and cgroup v2 mounts, not the container's, while everything else comes from its own /proc.

#include "tests/integration/probe/run_process.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

using namespace meshlink::probe::testing;
using Json = nlohmann::json;

namespace {

std::string find_unshare() {
    for (const char* dir : {"/usr/bin", "/bin"}) {
        const std::string path = std::string(dir) + "/unshare";
        if (::access(path.c_str(), X_OK) == 0) {
            return path;
        }
    }
    return {};
}

boost::test_tools::assertion_result can_make_namespaces(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result result(false);
    if (::geteuid() != 0) {
        result.message() << "needs root to create mount and PID namespaces";
        return result;
    }
    if (find_unshare().empty()) {
        result.message() << "unshare (util-linux) is not installed";
        return result;
    }
    const auto probe = run({find_unshare(), "--mount", "--pid", "--fork", "--mount-proc", "true"});
    if (probe.exit_code != 0) {
        result.message() << "cannot create mount and PID namespaces here: " << probe.err;
        return result;
    }
    return true;
}

// The cgroup2 mount points in a mountinfo text (field 5, the mount point; the type follows " - ").
std::set<std::string> cgroup2_mounts(const std::string& text) {
    std::set<std::string> out;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        const auto dash = line.find(" - cgroup2 ");
        if (dash == std::string::npos) {
            continue;
        }
        std::istringstream fields(line.substr(0, dash));
        std::string field;
        for (int i = 0; i < 5 && fields >> field; ++i) {
        }
        out.insert(field);
    }
    return out;
}

struct Scratch {
    std::filesystem::path dir;
    Scratch() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "meshlink-pod-layout-XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        dir = pattern;
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    ~Scratch() {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
};

// Runs `meshlink-agent probe -o json --skip-bpf --proc=/proc <extra>` in a new mount namespace where the
// host's /proc/1/mountinfo is bound at <dir>/mountinfo and a cgroup2 is mounted at <dir>/container-cgroup
// (a mount only the container has), then in a new PID namespace with its own procfs.
Json probe_in_pod(const Scratch& scratch, const std::string& extra) {
    std::ofstream(scratch.dir / "mountinfo").flush();
    std::filesystem::create_directory(scratch.dir / "container-cgroup");
    const std::string script = "mount --bind /proc/1/mountinfo \"$1/mountinfo\" && "
                               "mount -t cgroup2 none \"$1/container-cgroup\" && "
                               "exec \"$2\" --pid --fork --mount-proc \"$3\" probe -o json --skip-bpf "
                               "--proc=/proc " +
                               extra;
    const auto out = run({find_unshare(), "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                          script, "sh", scratch.dir.string(), find_unshare(), agent()});
    BOOST_TEST_REQUIRE((out.exit_code == 0 || out.exit_code == 1), out.err);
    return Json::parse(out.out);
}

std::set<std::string> reported_cgroup2(const Json& document) {
    std::set<std::string> out;
    for (const auto& mount : document.at("facts").at("mounts").at("cgroup2Mounts")) {
        out.insert(mount.get<std::string>());
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(probe_pod_layout, *boost::unit_test::precondition(&can_make_namespaces))

BOOST_AUTO_TEST_CASE(the_bound_mountinfo_shows_the_hosts_mounts_not_the_containers) {
    std::ifstream in("/proc/1/mountinfo");
    std::stringstream host;
    host << in.rdbuf();
    const auto expected = cgroup2_mounts(host.str());

    Scratch scratch;
    const Json document = probe_in_pod(scratch, "--mountinfo=" + (scratch.dir / "mountinfo").string());
    BOOST_TEST(document.at("facts").at("mounts").at("error").is_null(),
               document.at("facts").at("mounts").dump());
    const auto reported = reported_cgroup2(document);
    BOOST_TEST(reported == expected, boost::test_tools::per_element());
    BOOST_TEST(!reported.contains((scratch.dir / "container-cgroup").string()));
    // The kernel release comes from the pod's own procfs: the same kernel.
    std::ifstream release_file("/proc/sys/kernel/osrelease");
    std::string release;
    std::getline(release_file, release);
    BOOST_TEST(document.at("facts").at("kernel").at("release") == release);
}

// Why the DaemonSet mounts that one file: the pod's own /proc/1 is the container's first process, whose mount
// table is the container's.
BOOST_AUTO_TEST_CASE(without_it_the_pods_own_proc_shows_the_containers_mounts) {
    Scratch scratch;
    const Json document = probe_in_pod(scratch, "");
    BOOST_TEST(reported_cgroup2(document).contains((scratch.dir / "container-cgroup").string()));
}

BOOST_AUTO_TEST_SUITE_END()
