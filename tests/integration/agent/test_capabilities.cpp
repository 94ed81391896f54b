// The agent with exactly the DaemonSet's capabilities (manifests/agent/daemonset.yaml), as containerd gives
// them to a root container (bounding, effective and permitted = the added set, inheritable and ambient
// empty) with allowPrivilegeEscalation: false (no_new_privs), set up by util-linux's setpriv: on this
// machine's kernel (5.8 or newer) `serve` gives up SYS_ADMIN and SYS_RESOURCE at start, and `probe` reports
// the same BPF features as with every capability the DaemonSet adds and as plain root.

#include "tests/integration/agent/harness.hpp"
#include "util/fd.hpp"
#include "util/subprocess.hpp"

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <system_error>

using namespace meshlink;
using namespace meshlink::test;

namespace {

// Capability numbers are the kernel's ABI (include/uapi/linux/capability.h).
constexpr int k_net_admin = 12;
constexpr int k_sys_admin = 21;
constexpr int k_sys_resource = 24;
constexpr int k_perfmon = 38;
constexpr int k_bpf = 39;

constexpr std::uint64_t bit(int capability) {
    return std::uint64_t{1} << capability;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The DaemonSet's `capabilities: add`, read from the manifest, in setpriv's words after `drop: ["ALL"]`
// ("-all,+bpf,..."); the manifest must also forbid privilege escalation, which the drop relies on.
std::string daemonset_caps() {
    const std::string manifest =
        read_file(std::filesystem::path(MESHLINK_SOURCE_DIR) / "manifests/agent/daemonset.yaml");
    BOOST_TEST_REQUIRE(manifest.find("allowPrivilegeEscalation: false") != std::string::npos);
    BOOST_TEST_REQUIRE(manifest.find("drop: [\"ALL\"]") != std::string::npos);
    std::smatch match;
    BOOST_TEST_REQUIRE(std::regex_search(manifest, match, std::regex(R"(\n\s*add: \[([^\]]*)\])")));
    std::string caps = "-all";
    const std::string list = match[1];
    const std::regex name(R"re("([A-Z_]+)")re");
    for (auto it = std::sregex_iterator(list.begin(), list.end(), name); it != std::sregex_iterator(); ++it) {
        std::string cap = (*it)[1];
        std::transform(cap.begin(), cap.end(), cap.begin(), [](unsigned char c) { return std::tolower(c); });
        caps += ",+" + cap;
    }
    return caps;
}
// What a drop that also took BPF and SYS_ADMIN would leave: the control that shows the comparison can fail.
const std::string k_without_bpf_caps = "-all,+perfmon,+net_admin,+sys_resource";

// "CapEff:\t000001ffffffffff" -> the mask; nullopt when the field is missing.
std::optional<std::uint64_t> status_mask(const std::string& status, const std::string& field) {
    std::istringstream lines(status);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(field + ":", 0) == 0) {
            return std::stoull(line.substr(field.size() + 1), nullptr, 16);
        }
    }
    return std::nullopt;
}

std::optional<std::filesystem::path> setpriv() {
    return util::find_executable("setpriv");
}

// The host's BPF JIT sysctls are visible in this network namespace: the agent then keeps SYS_ADMIN, which
// alone may read three of them (node-agent/defaults.hpp k_jit_harden_sysctl_file). The DaemonSet's pod has a
// network namespace of its own and never sees them.
bool host_jit_sysctls_visible() {
    std::error_code ignored;
    return std::filesystem::exists("/proc/sys/net/core/bpf_jit_harden", ignored);
}

// `serve` must reach fakekube on this namespace's loopback, so it can show the drop only where the host's JIT
// sysctls are out of sight (a network namespace of the test's own, e.g. under `unshare --net`).
boost::test_tools::assertion_result jit_sysctls_out_of_sight(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result result(!host_jit_sysctls_visible());
    if (!result) {
        result.message()
            << "skipped: this network namespace shows the host's BPF JIT sysctls, so the agent "
               "rightly keeps SYS_ADMIN here (tests/unit/node-agent/privileges covers that rule); "
               "run the suite in a network namespace of its own to see serve drop it";
    }
    return result;
}

// setpriv's arguments for a root container with `caps`, then the agent's. With `own_network`, first a
// network namespace of its own, as the DaemonSet's pod has (no hostNetwork).
std::vector<std::string> launcher(const std::string& caps, bool own_network = false) {
    std::vector<std::string> prefix;
    if (own_network) {
        const auto unshare = util::find_executable("unshare");
        BOOST_TEST_REQUIRE(unshare.has_value(), "unshare (util-linux) is not installed");
        prefix = {unshare->string(), "--net"};
    }
    std::vector<std::string> setpriv_args = {setpriv()->string(),
                                             "--bounding-set",
                                             caps,
                                             "--inh-caps",
                                             "-all",
                                             "--ambient-caps",
                                             "-all",
                                             "--no-new-privs",
                                             "--"};
    prefix.insert(prefix.end(), setpriv_args.begin(), setpriv_args.end());
    return prefix;
}

// Skips (with the reason) where the DaemonSet's set cannot be given or this kernel keeps SYS_ADMIN.
boost::test_tools::assertion_result daemonset_capabilities_here(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result result(false);
    if (::geteuid() != 0) {
        result.message()
            << "skipped: not root (setpriv must shape the capability sets, the probe needs bpf())";
        return result;
    }
    if (!setpriv()) {
        result.message() << "skipped: setpriv (util-linux) is not installed";
        return result;
    }
    utsname name{};
    int major = 0;
    int minor = 0;
    if (::uname(&name) != 0 || std::sscanf(name.release, "%d.%d", &major, &minor) != 2 ||
        std::pair(major, minor) < std::pair(5, 8)) {
        result.message() << "skipped: kernel " << name.release
                         << " is older than 5.8: the agent keeps SYS_ADMIN there (nothing to drop)";
        return result;
    }
    int last_cap = 0;
    std::ifstream(std::string("/proc/sys/kernel/cap_last_cap")) >> last_cap;
    const auto bounding = status_mask(read_file("/proc/self/status"), "CapBnd").value_or(0);
    const std::uint64_t needed = bit(k_bpf) | bit(k_perfmon) | bit(k_net_admin) | bit(k_sys_admin);
    if (last_cap < k_bpf || (bounding & needed) != needed) {
        result.message() << "skipped: this process cannot grant BPF, PERFMON, NET_ADMIN and SYS_ADMIN "
                            "(cap_last_cap "
                         << last_cap << ", bounding set " << std::hex << bounding << ")";
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

bool sys_resource_grantable() {
    return (status_mask(read_file("/proc/self/status"), "CapBnd").value_or(0) & bit(k_sys_resource)) != 0;
}

FakekubeProcess start_server(const TempDirectory& dir) {
    FakekubeOptions options("agent-caps");
    options.seeds.push_back(dir.write("nodes.yaml", R"(apiVersion: v1
kind: Namespace
metadata:
  name: meshlink-system
---
apiVersion: v1
kind: Node
metadata:
  name: n1
---
apiVersion: v1
kind: Node
metadata:
  name: n2
)"));
    auto server = FakekubeProcess::start(options);
    BOOST_TEST_REQUIRE(server.has_value(), error_message(server));
    return std::move(*server);
}

// `serve` on this machine itself (live BPF probes), as the DaemonSet runs it.
std::vector<std::string> live_serve_args(const FakekubeProcess& server, const std::string& node) {
    return {"serve",       "--kubeconfig", server.kubeconfig().string(),
            "--node-name", node,           "--listen-address",
            "127.0.0.1",   "--port",       "0",
            "--interval",  "7m",           "--log-target",
            "stderr",      "-v",           "2"};
}

struct Sets {
    std::uint64_t effective = 0;
    std::uint64_t permitted = 0;
    std::uint64_t inheritable = 0;
    bool no_new_privs = false;
};

// The capability sets of every thread of `pid`, each checked by `check`.
template <typename Check>
void for_each_thread(pid_t pid, Check check) {
    int threads = 0;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
        const std::string status = read_file(task.path() / "status");
        Sets sets;
        sets.effective = status_mask(status, "CapEff").value_or(~0ULL);
        sets.permitted = status_mask(status, "CapPrm").value_or(~0ULL);
        sets.inheritable = status_mask(status, "CapInh").value_or(~0ULL);
        sets.no_new_privs = status.find("NoNewPrivs:\t1") != std::string::npos;
        check(task.path().filename().string(), sets);
        ++threads;
    }
    BOOST_TEST(threads > 0);
}

struct ProbeRun {
    int exit_code = -1;
    json report;
    std::string log;
};

// `meshlink-agent probe -o json` on this machine, under `launch` (nothing: plain root).
ProbeRun run_probe(const std::vector<std::string>& launch, const std::vector<std::string>& extra) {
    TempDirectory dir;
    const auto log_path = dir.path() / "stderr";
    util::Fd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    BOOST_TEST_REQUIRE(static_cast<bool>(log));
    std::vector<std::string> argv = launch;
    argv.push_back((bin_dir() / "meshlink-agent").string());
    argv.insert(argv.end(), {"probe", "-o", "json", "-v", "2"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    util::SubprocessSpec spec;
    spec.program = argv.front();
    spec.args.assign(argv.begin() + 1, argv.end());
    spec.env = util::environment_with({"NODE_NAME=caps-test"});
    spec.stderr_fd = log.get();
    spec.timeout = std::chrono::seconds(120);
    auto result = util::run_subprocess(spec);
    BOOST_TEST_REQUIRE(result.has_value(), error_message(result));
    ProbeRun run;
    run.exit_code = result->term_signal == 0 ? result->exit_code : 128 + result->term_signal;
    run.log = read_file(log_path);
    // 0 or 1 (a check failed): either way the report is complete.
    BOOST_TEST_REQUIRE((run.exit_code == 0 || run.exit_code == 1), "probe failed: " << run.log);
    run.report = json::parse(result->stdout_data);
    return run;
}

// The BPF features as the probe reports them: program types, map types, helpers, bpf() itself, the JIT.
json bpf_features(const json& report) {
    const json& bpf = report.at("facts").at("bpf");
    return json{{"syscall", bpf.at("syscall")},
                {"programTypes", bpf.at("programTypes")},
                {"mapTypes", bpf.at("mapTypes")},
                {"helpers", bpf.at("helpers")},
                {"jited", bpf.at("jit").at("jited")}};
}

// Names whose answer differs between two {name: true/false/null} objects (or helper maps), for messages.
std::string differences(const json& a, const json& b) {
    std::string out;
    for (const auto& [name, value] : a.items()) {
        if (!b.contains(name) || b.at(name) != value) {
            out += " " + name + "=" + value.dump() + "/" + (b.contains(name) ? b.at(name).dump() : "missing");
        }
    }
    return out;
}

int count_true(const json& object) {
    int n = 0;
    for (const auto& [name, value] : object.items()) {
        n += value.is_boolean() && value.get<bool>() ? 1 : 0;
    }
    return n;
}

} // namespace

BOOST_AUTO_TEST_SUITE(agent_capabilities, *boost::unit_test::precondition(daemonset_capabilities_here))

// The running `serve` holds neither SYS_ADMIN nor SYS_RESOURCE in any thread, keeps what the probes run
// on, says so at -v 2, and still publishes its report; with --keep-capabilities SYS_ADMIN stays, so the
// setpriv set did grant it and the check above can fail.
BOOST_AUTO_TEST_CASE(serve_drops_what_the_kernel_does_not_need,
                     *boost::unit_test::precondition(jit_sysctls_out_of_sight)) {
    if (!sys_resource_grantable()) {
        BOOST_TEST_MESSAGE("note: this machine's bounding set has no SYS_RESOURCE, so the agent starts "
                           "without it here; the SYS_RESOURCE decision is covered by tests/unit/node-agent");
    }
    TempDirectory dir;
    auto server = start_server(dir);
    auto config = server.rest_config();
    BOOST_TEST_REQUIRE(config.has_value(), error_message(config));
    auto client = kube::Client::from_config(*config);
    BOOST_TEST_REQUIRE(client.has_value(), error_message(client));

    auto agent = AgentProcess::start(live_serve_args(server, "n1"), launcher(daemonset_caps()));
    BOOST_TEST_REQUIRE(agent.has_value(), error_message(agent));
    const std::uint64_t kept = bit(k_bpf) | bit(k_perfmon) | bit(k_net_admin);
    for_each_thread(agent->pid(), [&](const std::string& tid, const Sets& sets) {
        BOOST_TEST((sets.effective & bit(k_sys_admin)) == 0u,
                   "thread " << tid << " CapEff " << std::hex << sets.effective);
        BOOST_TEST((sets.permitted & bit(k_sys_admin)) == 0u,
                   "thread " << tid << " CapPrm " << std::hex << sets.permitted);
        BOOST_TEST((sets.effective & bit(k_sys_resource)) == 0u, "thread " << tid);
        BOOST_TEST((sets.permitted & bit(k_sys_resource)) == 0u, "thread " << tid);
        BOOST_TEST((sets.effective & kept) == kept,
                   "thread " << tid << " CapEff " << std::hex << sets.effective);
        BOOST_TEST(sets.inheritable == 0u);
        BOOST_TEST(sets.no_new_privs);
    });
    BOOST_TEST(agent->log().find("dropped SYS_ADMIN") != std::string::npos, agent->log());
    const auto published = [&](const std::string& node) {
        auto object = client->get("/api/v1/nodes/" + node);
        return object && (*object)["metadata"].contains("annotations") &&
               (*object)["metadata"]["annotations"].contains("meshlink.io/node-report");
    };
    BOOST_TEST(wait_for([&] { return published("n1"); }), "no report on n1:\n" << agent->log());
    agent->signal(SIGTERM);
    const auto status = agent->wait_exit(std::chrono::seconds(60));
    BOOST_TEST_REQUIRE(status.has_value(), "still running after SIGTERM:\n" << agent->log());
    BOOST_TEST((WIFEXITED(*status) && WEXITSTATUS(*status) == 0), agent->log());

    auto keeping = AgentProcess::start(
        [&] {
            auto args = live_serve_args(server, "n2");
            args.push_back("--keep-capabilities");
            return args;
        }(),
        launcher(daemonset_caps()));
    BOOST_TEST_REQUIRE(keeping.has_value(), error_message(keeping));
    for_each_thread(keeping->pid(), [&](const std::string& tid, const Sets& sets) {
        BOOST_TEST((sets.effective & bit(k_sys_admin)) != 0u, "thread " << tid);
        BOOST_TEST((sets.permitted & bit(k_sys_admin)) != 0u, "thread " << tid);
    });
    BOOST_TEST(keeping->log().find("dropped") == std::string::npos, keeping->log());
    keeping->signal(SIGTERM);
    BOOST_TEST(keeping->wait_exit(std::chrono::seconds(60)).has_value());
}

// The probe's BPF feature report with the drop is the one with every capability the DaemonSet adds, and the
// one of plain root; a set without BPF (what a wrong drop would leave) changes it, so the comparison bites.
BOOST_AUTO_TEST_CASE(probe_reports_the_same_bpf_features_after_the_drop) {
    // Each in a network namespace of its own, as in the pod: the host's JIT sysctls would keep SYS_ADMIN.
    const ProbeRun dropped = run_probe(launcher(daemonset_caps(), true), {});
    const ProbeRun kept = run_probe(launcher(daemonset_caps(), true), {"--keep-capabilities"});
    const ProbeRun root = run_probe({}, {"--keep-capabilities"});
    const ProbeRun without_bpf = run_probe(launcher(k_without_bpf_caps, true), {"--keep-capabilities"});

    BOOST_TEST(dropped.log.find("dropped SYS_ADMIN") != std::string::npos, dropped.log);
    BOOST_TEST(kept.log.find("dropped") == std::string::npos, kept.log);

    const json reference = bpf_features(root.report);
    BOOST_TEST_REQUIRE(reference.at("syscall") == true);
    // A reference with nothing in it would make every comparison pass.
    BOOST_TEST_REQUIRE(count_true(reference.at("programTypes")) > 10);
    BOOST_TEST_REQUIRE(count_true(reference.at("mapTypes")) > 10);
    BOOST_TEST_REQUIRE(!reference.at("helpers").empty());

    for (const auto* run : {&dropped, &kept}) {
        const json features = bpf_features(run->report);
        BOOST_TEST(features.at("syscall") == reference.at("syscall"));
        BOOST_TEST(features.at("jited") == reference.at("jited"));
        BOOST_TEST(features.at("programTypes") == reference.at("programTypes"),
                   "program types differ:" << differences(features.at("programTypes"),
                                                          reference.at("programTypes")));
        BOOST_TEST(features.at("mapTypes") == reference.at("mapTypes"),
                   "map types differ:" << differences(features.at("mapTypes"), reference.at("mapTypes")));
        BOOST_TEST(features.at("helpers") == reference.at("helpers"),
                   "helpers differ: " << features.at("helpers").dump() << " vs "
                                      << reference.at("helpers").dump());
    }
    BOOST_TEST(bpf_features(without_bpf.report) != reference);
}

BOOST_AUTO_TEST_SUITE_END()
