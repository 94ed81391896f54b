#include "probe/checks.hpp"
#include "tests/unit/probe/probe_test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <map>

using namespace meshlink::probe;
using meshlink::probe::testing::fixture_host;
using meshlink::probe::testing::TempDir;

namespace {

NodeFacts fixture_facts(std::string_view name) {
    ProbeOptions options;
    options.host = fixture_host(name);
    return gather(options);
}

const Check& find(const std::vector<Check>& checks, std::string_view id) {
    for (const auto& check : checks) {
        if (check.id == id) {
            return check;
        }
    }
    BOOST_FAIL("no check " << id);
    throw std::logic_error("unreachable");
}

Status status_of(const NodeFacts& facts, CiliumVersion cilium, std::string_view id) {
    return find(evaluate(facts, cilium), id).status;
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

// A kernel that supports everything except what `missing` names.
class FakeKernel : public BpfKernel {
public:
    int access = 0;
    std::vector<std::pair<int, int>> missing_helpers;
    int syscall_access() override { return access; }
    int program_type(int) override { return 1; }
    int map_type(int) override { return 1; }
    int helper(int type, int id) override {
        for (const auto& [t, h] : missing_helpers) {
            if (t == type && h == id) {
                return 0;
            }
        }
        return 1;
    }
    int jit() override { return 1; }
};

NodeFacts with_bpf(std::string_view fixture, FakeKernel& kernel) {
    BpfFeatures features(kernel);
    ProbeOptions options;
    options.host = fixture_host(fixture);
    options.bpf = &features;
    return gather(options);
}

const CiliumVersion k_versions[] = {{1, 12}, {1, 15}, {1, 16}, {1, 18}, newest_cilium()};

} // namespace

BOOST_AUTO_TEST_SUITE(probe_checks)

// Verdicts per fixture and Cilium release. Expected values come from the kernels' facts (version, config
// excerpt, BTF) against the minimums of docs/kernel-requirements.md, not from running the code.
BOOST_AUTO_TEST_CASE(fixture_verdicts_for_several_cilium_releases) {
    using S = Status;
    struct Row {
        const char* fixture;
        std::map<std::string_view, std::vector<Status>> expected; // per check, per k_versions entry
        std::vector<bool> fails;
    };
    const Row rows[] = {
        {"centos7", // 3.10: below every minimum; no CGROUP_BPF; no BTF
         {{"node.kernel.version", {S::fail, S::fail, S::fail, S::fail, S::fail}},
          {"node.kernel.config", {S::fail, S::fail, S::fail, S::fail, S::fail}},
          {"node.kernel.btf", {S::warn, S::warn, S::warn, S::warn, S::fail}}},
         {true, true, true, true, true}},
        {"rocky8.10", // RHEL 8.10's 4.18.0-553: accepted by every release through its exceptions
         {{"node.kernel.version", {S::pass, S::pass, S::pass, S::pass, S::pass}},
          {"node.kernel.config", {S::pass, S::pass, S::pass, S::pass, S::pass}},
          {"node.kernel.btf", {S::pass, S::pass, S::pass, S::pass, S::pass}}},
         {false, false, false, false, false}},
        {"rocky9-elrepo", // ELRepo kernel-ml 6.12 (docs/kernel-requirements.md, "ELRepo kernel-ml")
         {{"node.kernel.version", {S::pass, S::pass, S::pass, S::pass, S::pass}},
          {"node.kernel.config", {S::pass, S::pass, S::pass, S::pass, S::pass}},
          {"node.kernel.btf", {S::pass, S::pass, S::pass, S::pass, S::pass}}},
         {false, false, false, false, false}},
        {"ubuntu22.04", // 5.15
         {{"node.kernel.version", {S::pass, S::pass, S::pass, S::pass, S::pass}},
          {"node.kernel.config", {S::pass, S::pass, S::pass, S::pass, S::pass}},
          {"node.kernel.btf", {S::pass, S::pass, S::pass, S::pass, S::pass}}},
         {false, false, false, false, false}},
        {"unknown-distro", // 5.4.0: enough up to 1.17, not for 1.18's 5.10
         {{"node.kernel.version", {S::pass, S::pass, S::pass, S::fail, S::fail}},
          {"node.kernel.config", {S::pass, S::pass, S::pass, S::pass, S::pass}},
          {"node.kernel.btf", {S::pass, S::pass, S::pass, S::pass, S::pass}}},
         {false, false, false, true, true}},
        {"no-kconfig", // 6.1 without any config file: the config is unknown, which is not a failure
         {{"node.kernel.version", {S::pass, S::pass, S::pass, S::pass, S::pass}},
          {"node.kernel.config", {S::unknown, S::unknown, S::unknown, S::unknown, S::unknown}},
          {"node.kernel.btf", {S::pass, S::pass, S::pass, S::pass, S::pass}}},
         {false, false, false, false, false}},
    };
    for (const auto& row : rows) {
        const NodeFacts facts = fixture_facts(row.fixture);
        for (std::size_t v = 0; v < std::size(k_versions); ++v) {
            const auto checks = evaluate(facts, k_versions[v]);
            for (const auto& [id, statuses] : row.expected) {
                BOOST_TEST_CONTEXT(row.fixture << ", Cilium " << to_string(k_versions[v]) << ", " << id) {
                    const auto& check = find(checks, id);
                    BOOST_TEST(to_string(check.status) == to_string(statuses[v]));
                    BOOST_TEST(!check.message.empty());
                    if (check.status == Status::fail || check.status == Status::warn) {
                        BOOST_TEST(!check.hint.empty());
                    }
                }
            }
            BOOST_TEST_CONTEXT(row.fixture << ", Cilium " << to_string(k_versions[v]) << ", exit") {
                BOOST_TEST(any_failed(checks) == row.fails[v]);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(every_issue_check_id_is_reported) {
    const auto checks = evaluate(fixture_facts("ubuntu22.04"), newest_cilium());
    for (const char* id :
         {"node.kernel.version", "node.kernel.config", "node.kernel.btf", "node.bpf.features", "node.modules",
          "node.bpffs", "node.cgroup2", "node.boot", "node.feature.tunnel", "node.feature.wireguard",
          "node.feature.host-routing", "node.feature.kube-proxy-replacement"}) {
        BOOST_TEST(std::any_of(checks.begin(), checks.end(), [&](const Check& c) { return c.id == id; }), id);
    }
}

BOOST_AUTO_TEST_CASE(an_old_kernel_names_both_versions_and_the_way_out) {
    const auto check = find(evaluate(fixture_facts("centos7"), {1, 18}), "node.kernel.version");
    BOOST_TEST(check.message == "kernel 3.10.0-1160 < 5.10 required by Cilium 1.18");
    // EL7 cannot get a kernel that helps: the way out is the OS, not a kernel rollout.
    BOOST_TEST(contains(check.hint, "upgrade the OS"));
    BOOST_TEST(!contains(check.hint, "kubectl meshlink kernel"));
    BOOST_TEST(status_of(fixture_facts("centos7"), {1, 18}, "node.os") == Status::warn);
}

BOOST_AUTO_TEST_CASE(el8_hints_point_at_the_kernel_upgrade) {
    NodeFacts facts = fixture_facts("rocky8.10");
    facts.kernel = parse_kernel_release("4.18.0-372.9.1.el8.x86_64"); // RHEL 8.6's kernel
    BOOST_TEST(status_of(facts, {1, 16}, "node.kernel.version") == Status::pass);
    const auto check = find(evaluate(facts, {1, 18}), "node.kernel.version");
    BOOST_TEST(check.status == Status::fail);
    BOOST_TEST(contains(check.message, "553"));
    BOOST_TEST(contains(check.hint, "RHEL 8.10"));
    // The command that exists: plan shows the rollout (`kernel upgrade` starts it after a look).
    BOOST_TEST(contains(check.hint, "`kubectl meshlink kernel plan`"));
}

BOOST_AUTO_TEST_CASE(a_4_18_kernel_without_the_rhel_tag_gets_no_exception) {
    NodeFacts facts = fixture_facts("ubuntu22.04");
    facts.kernel = parse_kernel_release("4.18.0-25-generic");
    BOOST_TEST(status_of(facts, {1, 12}, "node.kernel.version") == Status::pass);
    BOOST_TEST(status_of(facts, {1, 15}, "node.kernel.version") == Status::fail);
}

BOOST_AUTO_TEST_CASE(unknown_distributions_get_a_generic_hint) {
    const auto check = find(evaluate(fixture_facts("unknown-distro"), {1, 18}), "node.kernel.version");
    BOOST_TEST(check.status == Status::fail);
    BOOST_TEST(contains(check.hint, "Acme Linux 3"));
    BOOST_TEST(!contains(check.hint, "kubectl meshlink kernel"));
}

BOOST_AUTO_TEST_CASE(missing_options_are_named_with_their_state) {
    const auto check = find(evaluate(fixture_facts("centos7"), {1, 15}), "node.kernel.config");
    BOOST_TEST(contains(check.message, "CONFIG_CGROUP_BPF (unset)"));
    BOOST_TEST(contains(check.message, "config-3.10.0-1160.119.1.el7.x86_64"));
    // =m passes: CentOS 7 builds NET_CLS_BPF as a module and it is not listed.
    BOOST_TEST(!contains(check.message, "CONFIG_NET_CLS_BPF"));
}

BOOST_AUTO_TEST_CASE(unknown_config_is_never_reported_missing) {
    const auto checks = evaluate(fixture_facts("no-kconfig"), newest_cilium());
    const auto& config = find(checks, "node.kernel.config");
    BOOST_TEST(contains(config.message, "unknown"));
    BOOST_TEST(!contains(config.message, "missing"));
    BOOST_TEST(find(checks, "node.feature.wireguard").status == Status::unknown);
}

BOOST_AUTO_TEST_CASE(btf_falls_back_to_the_config_when_sysfs_is_absent) {
    NodeFacts facts = fixture_facts("rocky9-elrepo");
    facts.btf = BtfFacts{std::nullopt, "/nowhere/kernel: No such file or directory"};
    BOOST_TEST(status_of(facts, newest_cilium(), "node.kernel.btf") == Status::pass);
    facts.kconfig.config.options.erase("CONFIG_DEBUG_INFO_BTF");
    BOOST_TEST(status_of(facts, newest_cilium(), "node.kernel.btf") == Status::fail);
    BOOST_TEST(status_of(facts, {1, 18}, "node.kernel.btf") == Status::warn);
    facts.kconfig = KconfigFacts{};
    BOOST_TEST(status_of(facts, newest_cilium(), "node.kernel.btf") == Status::unknown);
}

BOOST_AUTO_TEST_CASE(runtime_probes_decide_bpf_features) {
    FakeKernel kernel;
    BOOST_TEST(status_of(with_bpf("rocky9-elrepo", kernel), {1, 18}, "node.bpf.features") == Status::pass);

    FakeKernel no_peer;
    no_peer.missing_helpers = {{BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_redirect_peer}};
    const NodeFacts facts = with_bpf("rocky9-elrepo", no_peer);
    const auto check = find(evaluate(facts, {1, 18}), "node.bpf.features");
    BOOST_TEST(check.status == Status::fail);
    BOOST_TEST(contains(check.message, "bpf_redirect_peer"));
    // Before 1.18 Cilium does without it, but BPF host routing is gone.
    BOOST_TEST(status_of(facts, {1, 15}, "node.bpf.features") == Status::pass);
    const auto routing = find(evaluate(facts, {1, 15}), "node.feature.host-routing");
    BOOST_TEST(routing.status == Status::warn);
    BOOST_TEST(contains(routing.message, "bpf_redirect_peer"));
}

BOOST_AUTO_TEST_CASE(runtime_probes_override_the_version_gate) {
    // RHEL 8.10 backports the 5.10 helpers: probes that find them beat "4.18 < 5.10".
    FakeKernel kernel;
    const NodeFacts probed = with_bpf("rocky8.10", kernel);
    BOOST_TEST(status_of(probed, {1, 18}, "node.feature.host-routing") == Status::pass);
    BOOST_TEST(status_of(fixture_facts("rocky8.10"), {1, 18}, "node.feature.host-routing") == Status::warn);
}

BOOST_AUTO_TEST_CASE(no_privileges_means_unknown_not_fail) {
    FakeKernel kernel;
    kernel.access = -EPERM;
    const auto check = find(evaluate(with_bpf("ubuntu22.04", kernel), {1, 18}), "node.bpf.features");
    BOOST_TEST(check.status == Status::unknown);
    BOOST_TEST(contains(check.message, "root"));
}

BOOST_AUTO_TEST_CASE(no_bpf_syscall_fails) {
    FakeKernel kernel;
    kernel.access = -ENOSYS;
    const auto check = find(evaluate(with_bpf("ubuntu22.04", kernel), {1, 12}), "node.bpf.features");
    BOOST_TEST(check.status == Status::fail);
    BOOST_TEST(contains(check.hint, "CONFIG_BPF_SYSCALL"));
}

BOOST_AUTO_TEST_CASE(missing_required_modules_fail) {
    NodeFacts facts = fixture_facts("rocky9-elrepo");
    facts.modules.directory = "/lib/modules/6.12.1-1.el9.elrepo.x86_64";
    facts.modules.error.clear();
    for (auto& module : facts.modules.modules) {
        module.state = ModuleState::loadable;
    }
    BOOST_TEST(status_of(facts, {1, 18}, "node.modules") == Status::pass);
    for (auto& module : facts.modules.modules) {
        if (module.name == "cls_bpf") {
            module.state = ModuleState::missing; // CONFIG_NET_CLS_BPF=m, but no cls_bpf.ko
        }
    }
    const auto check = find(evaluate(facts, {1, 18}), "node.modules");
    BOOST_TEST(check.status == Status::fail);
    BOOST_TEST(contains(check.message, "cls_bpf"));
    BOOST_TEST(!check.hint.empty());
}

BOOST_AUTO_TEST_CASE(a_kernel_without_module_support_needs_no_modules) {
    NodeFacts facts = fixture_facts("ubuntu22.04");
    facts.kconfig.config.options.erase("CONFIG_MODULES");
    BOOST_TEST(status_of(facts, {1, 18}, "node.modules") == Status::pass);
}

BOOST_AUTO_TEST_CASE(secure_boot_warns_about_unsigned_kernels) {
    const auto check = find(evaluate(fixture_facts("rocky8.10"), {1, 18}), "node.boot");
    BOOST_TEST(check.status == Status::warn);
    BOOST_TEST(contains(check.message, "Secure Boot"));
    BOOST_TEST(contains(check.hint, "Secure Boot"));
}

BOOST_AUTO_TEST_CASE(features_follow_config_and_version) {
    const auto ubuntu = evaluate(fixture_facts("ubuntu22.04"), newest_cilium());
    BOOST_TEST(find(ubuntu, "node.feature.wireguard").status == Status::pass);
    BOOST_TEST(find(ubuntu, "node.feature.tunnel").status == Status::pass);
    // netkit needs 6.7 and CONFIG_NETKIT=y; ELRepo's config does not set it (docs/kernel-requirements.md).
    const auto elrepo =
        find(evaluate(fixture_facts("rocky9-elrepo"), newest_cilium()), "node.feature.netkit");
    BOOST_TEST(elrepo.status == Status::warn);
    BOOST_TEST(contains(elrepo.message, "CONFIG_NETKIT"));
    const auto centos = find(evaluate(fixture_facts("centos7"), newest_cilium()), "node.feature.wireguard");
    BOOST_TEST(centos.status == Status::warn);
    BOOST_TEST(contains(centos.message, "CONFIG_WIREGUARD"));
    BOOST_TEST(!centos.hint.empty());
    // RHEL 8.10 backports WireGuard to 4.18: its config says =m, which beats the documented 5.6.
    BOOST_TEST(status_of(fixture_facts("rocky8.10"), newest_cilium(), "node.feature.wireguard") ==
               Status::pass);
    // Without a config, the version gate is all there is.
    NodeFacts blind = fixture_facts("no-kconfig");
    blind.kernel = parse_kernel_release("5.4.0-150-generic");
    const auto gated = find(evaluate(blind, {1, 16}), "node.feature.wireguard");
    BOOST_TEST(gated.status == Status::warn);
    BOOST_TEST(contains(gated.message, "5.6"));
    // No cgroup v2 on EL7.
    BOOST_TEST(status_of(fixture_facts("centos7"), newest_cilium(), "node.feature.kube-proxy-replacement") ==
               Status::warn);
}

BOOST_AUTO_TEST_SUITE_END()
