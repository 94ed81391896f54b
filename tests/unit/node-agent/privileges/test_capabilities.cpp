// Which capabilities the agent gives up at start, by kernel release: the decision alone, on releases of real
// distributions, the version boundaries, kernels that do not know CAP_BPF, and releases no kernel would
// report. The real capset on this machine is tested in tests/integration/agent/test_capabilities.cpp.

#include "node-agent/privileges/capabilities.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace meshlink::agent::privileges;

namespace {

// Capability numbers are the kernel's ABI (include/uapi/linux/capability.h).
constexpr int k_net_admin = 12;
constexpr int k_sys_admin = 21;
constexpr int k_sys_resource = 24;
constexpr int k_perfmon = 38;
constexpr int k_bpf = 39;

constexpr CapabilityMask bit(int capability) {
    return CapabilityMask{1} << capability;
}

// What the DaemonSet adds (manifests/agent/daemonset.yaml).
constexpr CapabilityMask k_daemonset =
    bit(k_bpf) | bit(k_perfmon) | bit(k_sys_admin) | bit(k_net_admin) | bit(k_sys_resource);
// A kernel from 5.9 on reports CAP_CHECKPOINT_RESTORE (40) as the last capability.
constexpr int k_modern_last_cap = 40;

Decision decide_for(const std::string& release, CapabilityMask held = k_daemonset,
                    std::optional<int> last_cap = k_modern_last_cap) {
    Facts facts;
    facts.release = release;
    facts.cap_last_cap = last_cap;
    facts.effective = held;
    return decide(facts);
}

bool mentions(const Decision& decision, const std::string& text) {
    return decision.message.find(text) != std::string::npos;
}

struct Case {
    const char* release;
    CapabilityMask drop;
};

std::ostream& operator<<(std::ostream& out, const Case& c) {
    return out << c.release;
}

// Releases as distributions ship them, and the boundaries: SYS_ADMIN goes from 5.8, SYS_RESOURCE from 5.11.
const Case k_releases[] = {
    {"3.10.0-1160.119.1.el7.x86_64", 0},
    {"4.18.0-553.el8_10.x86_64", 0},
    {"5.4.0-150-generic", 0},
    {"5.7.19", 0},
    {"5.8", bit(k_sys_admin)},
    {"5.8.0-63-generic", bit(k_sys_admin)},
    {"5.10.0-28-amd64", bit(k_sys_admin)},
    {"5.10.255", bit(k_sys_admin)},
    {"5.11.0", bit(k_sys_admin) | bit(k_sys_resource)},
    {"5.14.0-427.13.1.el9_4.x86_64", bit(k_sys_admin) | bit(k_sys_resource)},
    {"5.15.0-1051-azure", bit(k_sys_admin) | bit(k_sys_resource)},
    {"6.12.1-1.el9.elrepo.x86_64", bit(k_sys_admin) | bit(k_sys_resource)},
    {"6.18.44-fc-v669", bit(k_sys_admin) | bit(k_sys_resource)},
};

} // namespace

BOOST_AUTO_TEST_SUITE(capabilities)

BOOST_DATA_TEST_CASE(drops_what_the_kernel_release_makes_unnecessary,
                     boost::unit_test::data::make(k_releases), c) {
    const Decision decision = decide_for(c.release);
    BOOST_TEST(decision.drop == c.drop);
    BOOST_TEST(!decision.odd);
    // BPF, PERFMON and NET_ADMIN are what the probes run on: never dropped.
    BOOST_TEST((decision.drop & (bit(k_bpf) | bit(k_perfmon) | bit(k_net_admin))) == 0u);
    BOOST_TEST(mentions(decision, (c.drop & bit(k_sys_admin)) != 0 ? "dropped SYS_ADMIN" : "kept SYS_ADMIN"),
               decision.message);
    BOOST_TEST(mentions(decision,
                        (c.drop & bit(k_sys_resource)) != 0 ? "dropped SYS_RESOURCE" : "kept SYS_RESOURCE"),
               decision.message);
}

BOOST_AUTO_TEST_CASE(the_message_says_why_in_one_line) {
    const Decision decision = decide_for("6.18.44-fc-v669");
    BOOST_TEST(decision.message.find('\n') == std::string::npos);
    BOOST_TEST(mentions(decision, "kernel 6.18.44 is 5.8 or newer"), decision.message);
    BOOST_TEST(mentions(decision, "memory cgroup"), decision.message);
    const Decision old = decide_for("4.18.0-553.el8_10.x86_64");
    BOOST_TEST(mentions(old, "kept SYS_ADMIN: kernel 4.18 is older than 5.8"), old.message);
}

// A kernel that calls itself 5.8 or newer but has no CAP_BPF (a vendor's odd build, or cap_last_cap hidden)
// keeps SYS_ADMIN, whose power BPF would otherwise replace; SYS_RESOURCE does not depend on CAP_BPF.
BOOST_AUTO_TEST_CASE(sys_admin_stays_when_the_kernel_does_not_know_cap_bpf) {
    for (const std::optional<int> last_cap :
         {std::optional<int>(37), std::optional<int>(38), std::optional<int>()}) {
        const Decision decision = decide_for("6.1.0-18-amd64", k_daemonset, last_cap);
        BOOST_TEST(decision.drop == bit(k_sys_resource));
        BOOST_TEST(decision.odd);
        BOOST_TEST(mentions(decision, "kept SYS_ADMIN"), decision.message);
        BOOST_TEST(mentions(decision, "cap_last_cap"), decision.message);
    }
    BOOST_TEST(decide_for("6.1.0-18-amd64", k_daemonset, 39).drop ==
               (bit(k_sys_admin) | bit(k_sys_resource)));
}

// SYS_ADMIN stands in for BPF, PERFMON and NET_ADMIN in bpf(): a process that lacks one of them keeps it.
BOOST_AUTO_TEST_CASE(sys_admin_stays_when_a_replacement_is_missing) {
    for (const int missing : {k_bpf, k_perfmon, k_net_admin}) {
        const Decision decision = decide_for("6.6.30", k_daemonset & ~bit(missing));
        BOOST_TEST(decision.drop == bit(k_sys_resource));
        BOOST_TEST(mentions(decision, "kept SYS_ADMIN"), decision.message);
    }
}

// Only held capabilities are dropped, and a process that holds neither has nothing to do.
BOOST_AUTO_TEST_CASE(only_held_capabilities_are_dropped) {
    const CapabilityMask without_resource = k_daemonset & ~bit(k_sys_resource);
    BOOST_TEST(decide_for("6.6.30", without_resource).drop == bit(k_sys_admin));
    const Decision none = decide_for("6.6.30", bit(k_bpf) | bit(k_perfmon) | bit(k_net_admin));
    BOOST_TEST(none.drop == 0u);
    BOOST_TEST(!none.odd);
    // Plain root holds every capability: the same two go, nothing else.
    const CapabilityMask root = (CapabilityMask{1} << (k_modern_last_cap + 1)) - 1;
    BOOST_TEST(decide_for("6.6.30", root).drop == (bit(k_sys_admin) | bit(k_sys_resource)));
}

// A hostile or broken node: whatever uname says, the agent keeps every capability, says why, and goes on.
const char* const k_unparseable[] = {
    "",
    "   ",
    "linux",
    "6",
    "6.",
    ".6.1",
    "-5.10",
    "v6.1.0",
    "../../etc/passwd",
    "6.1.0\x1b[2J",
    "99999999999999999999.1",
    "6.99999999999999999999",
    "6.1.0-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", // longer than uname's 64 bytes
};

BOOST_DATA_TEST_CASE(an_unparseable_release_keeps_everything, boost::unit_test::data::make(k_unparseable),
                     release) {
    const Decision decision = decide_for(release);
    BOOST_TEST(decision.drop == 0u);
    BOOST_TEST(decision.odd);
    BOOST_TEST(mentions(decision, "keeping all"), decision.message);
    BOOST_TEST(decision.message.find('\x1b') == std::string::npos);
    BOOST_TEST(decision.message.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_release_with_a_nul_byte_keeps_everything) {
    const Decision decision = decide_for(std::string("6.1\0.0", 6));
    BOOST_TEST(decision.drop == 0u);
    BOOST_TEST(decision.odd);
}

// `probe` run on a host as root sees the host's BPF JIT sysctls, three of which the kernel shows only to
// SYS_ADMIN: dropping it there would lose bpf_jit_harden, bpf_jit_kallsyms and bpf_jit_limit from the report.
// The DaemonSet's pod has no hostNetwork and never sees them, so there it goes.
BOOST_AUTO_TEST_CASE(sys_admin_stays_where_the_host_jit_sysctls_are_visible) {
    Facts facts;
    facts.release = "6.1.0-21-amd64";
    facts.cap_last_cap = k_modern_last_cap;
    facts.effective = k_daemonset;
    facts.jit_sysctls_visible = true;
    const Decision on_host = decide(facts);
    BOOST_TEST(on_host.drop == bit(k_sys_resource));
    BOOST_TEST(mentions(on_host, "kept SYS_ADMIN: the host's BPF JIT sysctls are visible here"),
               on_host.message);
    facts.jit_sysctls_visible = false;
    BOOST_TEST(decide(facts).drop == (bit(k_sys_admin) | bit(k_sys_resource)));
}

BOOST_AUTO_TEST_SUITE_END()
