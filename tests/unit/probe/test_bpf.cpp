#include "probe/bpf.hpp"
#include "tests/unit/probe/probe_test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <map>

using namespace meshlink::probe;
using meshlink::probe::testing::TempDir;

namespace {

// Answers like a kernel would, and counts how often it was asked.
class FakeKernel : public BpfKernel {
public:
    int access = 0;
    std::map<int, int> program_answers; // missing: supported
    std::map<int, int> map_answers;
    std::map<std::pair<int, int>, int> helper_answers;
    int jit_answer = 1;
    int calls = 0;
    int helper_calls = 0;

    int syscall_access() override {
        ++calls;
        return access;
    }
    int program_type(int type) override {
        ++calls;
        auto it = program_answers.find(type);
        return it == program_answers.end() ? 1 : it->second;
    }
    int map_type(int type) override {
        ++calls;
        auto it = map_answers.find(type);
        return it == map_answers.end() ? 1 : it->second;
    }
    int helper(int type, int id) override {
        ++calls;
        ++helper_calls;
        auto it = helper_answers.find({type, id});
        return it == helper_answers.end() ? 1 : it->second;
    }
    int jit() override {
        ++calls;
        return jit_answer;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(probe_bpf)

BOOST_AUTO_TEST_CASE(names_come_from_libbpf_in_bpftool_order) {
    const auto programs = libbpf_program_types();
    BOOST_REQUIRE(programs.size() > 20u);
    BOOST_TEST(programs.front() == "socket_filter");
    BOOST_TEST((std::find(programs.begin(), programs.end(), "sched_cls") != programs.end()));
    BOOST_TEST((std::find(programs.begin(), programs.end(), "cgroup_sock_addr") != programs.end()));
    const auto maps = libbpf_map_types();
    BOOST_TEST(maps.front() == "hash");
    BOOST_TEST((std::find(maps.begin(), maps.end(), "lpm_trie") != maps.end()));
    BOOST_TEST((program_type_from_name("xdp") == BPF_PROG_TYPE_XDP));
    BOOST_TEST((map_type_from_name("lru_hash") == BPF_MAP_TYPE_LRU_HASH));
    BOOST_TEST(!program_type_from_name("no_such_type").has_value());
    BOOST_TEST((helper_from_name("redirect_peer") == BPF_FUNC_redirect_peer));
    BOOST_TEST((helper_from_name("get_netns_cookie") == BPF_FUNC_get_netns_cookie));
    BOOST_TEST(!helper_from_name("unspec").has_value());
    BOOST_TEST(!helper_from_name("bpf_redirect_peer").has_value()); // names are without the prefix
}

BOOST_AUTO_TEST_CASE(answers_are_cached) {
    FakeKernel kernel;
    kernel.program_answers[BPF_PROG_TYPE_LSM] = 0;
    BpfFeatures features(kernel);
    BOOST_TEST(features.program_type("sched_cls").available == true);
    BOOST_TEST(features.program_type("lsm").available == false);
    const int calls = kernel.calls;
    BOOST_TEST(features.program_type("sched_cls").available == true);
    BOOST_TEST(features.program_type("lsm").available == false);
    BOOST_TEST(features.syscall().available == true);
    BOOST_TEST(kernel.calls == calls);
}

BOOST_AUTO_TEST_CASE(an_undecided_probe_is_unknown_with_the_reason) {
    FakeKernel kernel;
    kernel.map_answers[BPF_MAP_TYPE_RINGBUF] = -EINVAL;
    BpfFeatures features(kernel);
    const auto ringbuf = features.map_type("ringbuf");
    BOOST_TEST(!ringbuf.available.has_value());
    BOOST_TEST(ringbuf.reason.find("ringbuf") != std::string::npos);
    BOOST_TEST(ringbuf.reason.find("Invalid argument") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(without_privileges_nothing_is_claimed) {
    FakeKernel kernel;
    kernel.access = -EPERM;
    BpfFeatures features(kernel);
    BOOST_TEST(features.syscall().available == true); // EPERM proves bpf() exists
    const auto sched_cls = features.program_type("sched_cls");
    BOOST_TEST(!sched_cls.available.has_value());
    BOOST_TEST(sched_cls.reason.find("root") != std::string::npos);
    BOOST_TEST(!features.helper("sched_cls", "redirect_peer").available.has_value());
    BOOST_TEST(!features.jit().available.has_value());
    BOOST_TEST(kernel.helper_calls == 0);
}

BOOST_AUTO_TEST_CASE(without_the_syscall_nothing_is_probed) {
    FakeKernel kernel;
    kernel.access = -ENOSYS;
    BpfFeatures features(kernel);
    BOOST_TEST(features.syscall().available == false);
    BOOST_TEST(!features.program_type("sched_cls").available.has_value());
    BOOST_TEST(kernel.calls == 1);
}

BOOST_AUTO_TEST_CASE(a_missing_program_type_has_no_helpers) {
    FakeKernel kernel;
    kernel.program_answers[BPF_PROG_TYPE_CGROUP_SOCK_ADDR] = 0;
    BpfFeatures features(kernel);
    BOOST_TEST(features.helper("cgroup_sock_addr", "get_netns_cookie").available == false);
    BOOST_TEST(kernel.helper_calls == 0);
    kernel.helper_answers[{BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_redirect_peer}] = 0;
    BOOST_TEST(features.helper("sched_cls", "redirect_peer").available == false);
    BOOST_TEST(features.helper("sched_cls", "redirect_neigh").available == true);
}

BOOST_AUTO_TEST_CASE(gather_lists_every_libbpf_type_and_the_sysctls) {
    TempDir dir;
    const auto host = dir.host();
    dir.write("proc/sys/net/core/bpf_jit_enable", "1\n");
    dir.write("proc/sys/net/core/bpf_jit_limit", "264241152\n");
    dir.write("proc/sys/kernel/unprivileged_bpf_disabled", "garbage\n");
    FakeKernel kernel;
    kernel.program_answers[BPF_PROG_TYPE_LIRC_MODE2] = 0;
    BpfFeatures features(kernel);
    const auto facts = gather_bpf(host, &features, {{"sched_cls", "redirect_peer"}}, "unused");
    BOOST_TEST(facts.probed);
    BOOST_TEST(facts.error.empty());
    BOOST_TEST(facts.program_types.size() == libbpf_program_types().size());
    BOOST_TEST(facts.map_types.size() == libbpf_map_types().size());
    BOOST_TEST(facts.program_type("lirc_mode2") == false);
    BOOST_TEST(facts.helper("sched_cls", "redirect_peer") == true);
    BOOST_TEST(facts.jited == true);
    BOOST_TEST(facts.jit_enable == 1);
    BOOST_TEST(facts.jit_limit == 264241152);
    BOOST_TEST(!facts.jit_harden.has_value());                // absent
    BOOST_TEST(!facts.unprivileged_bpf_disabled.has_value()); // not a number
}

BOOST_AUTO_TEST_CASE(skipping_keeps_the_sysctls_and_says_why) {
    TempDir dir;
    const auto host = dir.host();
    dir.write("proc/sys/net/core/bpf_jit_enable", "0\n");
    const auto facts = gather_bpf(host, nullptr, {}, "skipped for the test");
    BOOST_TEST(!facts.probed);
    BOOST_TEST(facts.error == "skipped for the test");
    BOOST_TEST(facts.program_types.empty());
    BOOST_TEST(!facts.syscall.has_value());
    BOOST_TEST(facts.jit_enable == 0);
}

BOOST_AUTO_TEST_CASE(btf_needs_sysfs_to_say_no) {
    TempDir dir;
    const auto host = dir.host();
    dir.mkdir("sys/kernel");
    BOOST_TEST(read_btf(host).vmlinux == false);
    dir.write("sys/kernel/btf/vmlinux", "blob");
    BOOST_TEST(read_btf(host).vmlinux == true);

    Host absent = host;
    absent.sys = dir.path() / "no-sysfs-here";
    const auto unknown = read_btf(absent);
    BOOST_TEST(!unknown.vmlinux.has_value());
    BOOST_TEST(unknown.error.find("no-sysfs-here") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
