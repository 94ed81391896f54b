// After the trial boot: confirm into the new kernel, the fallback into the old one, not rebooted yet,
// rollback.

#include "tests/integration/kernel/harness.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

namespace meshlink::test::kernel {
namespace {

const std::string k_mid = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const std::string k_old = "5.14.0-427.13.1.el9_4.x86_64";
const std::string k_new = "7.1.9-1.el9.elrepo.x86_64";

std::vector<std::string> verb(const Root& root, const std::string& name,
                              const std::vector<std::string>& extra = {}) {
    auto flags = root.host_flags();
    flags.insert(flags.begin(), name);
    flags.insert(flags.end(), extra.begin(), extra.end());
    return flags;
}

void stage(const Root& root) {
    const auto result = root.agent(verb(root, "stage", root.repo_flags()));
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.out << result.err);
}

bool guard_present(const Root& root) {
    return root.exists("/etc/systemd/system/meshlink-kernel-guard.timer") ||
           root.exists("/etc/systemd/system/meshlink-kernel-guard.service") ||
           root.exists("/etc/systemd/system/timers.target.wants/meshlink-kernel-guard.timer");
}

} // namespace

BOOST_AUTO_TEST_SUITE(kernel_confirm)

BOOST_AUTO_TEST_CASE(not_rebooted_yet_changes_nothing) {
    Root root(9);
    stage(root);
    const auto before = root.digest();
    int code = -1;
    const auto doc = root.agent_json(verb(root, "confirm", {"--skip-bpf"}), &code);
    BOOST_TEST(code == 1);
    BOOST_TEST(doc["outcome"] == "not-rebooted");
    BOOST_TEST(digest_diff(before, root.digest()) == "");
}

BOOST_AUTO_TEST_CASE(rebooted_into_the_new_kernel_promotes_it) {
    Root root(9);
    stage(root);
    root.reboot_into(k_new, /*btf=*/true);
    int code = -1;
    const auto doc =
        root.agent_json(verb(root, "confirm", {"--skip-bpf", "--cilium-version", "1.18"}), &code);
    BOOST_TEST_REQUIRE(code == 0, doc.dump(2));
    BOOST_TEST(doc["outcome"] == "confirmed");
    const auto env = root.grubenv();
    BOOST_TEST(env.at("saved_entry") == k_mid + "-" + k_new);
    BOOST_TEST(env.count("next_entry") == 0u);
    BOOST_TEST(!guard_present(root));
    const auto entry = root.read("/boot/loader/entries/" + k_mid + "-" + k_new + ".conf");
    BOOST_TEST(entry.find("panic=30") == std::string::npos, entry);
    BOOST_TEST(entry.find("root=/dev/mapper/el-root ro crashkernel=auto") != std::string::npos, entry);
    const auto record = nlohmann::json::parse(root.read("/var/lib/meshlink/kernel-trial.json"));
    BOOST_TEST(record["state"] == "confirmed");
    BOOST_TEST(record["outcome"]["runningRelease"] == k_new);

    // Again: nothing left to do.
    const auto before = root.digest();
    const auto again = root.agent_json(verb(root, "confirm", {"--skip-bpf"}), &code);
    BOOST_TEST(code == 0);
    BOOST_TEST(again["outcome"] == "already-confirmed");
    BOOST_TEST(digest_diff(before, root.digest()) == "");
}

BOOST_AUTO_TEST_CASE(keep_panic_keeps_the_trial_arguments) {
    Root root(10);
    BOOST_TEST_REQUIRE(root.agent(verb(root, "stage", root.repo_flags())).exit_code == 0);
    const std::string release = "7.1.9-1.el10.elrepo.x86_64";
    root.reboot_into(release, true);
    int code = -1;
    const auto doc = root.agent_json(
        verb(root, "confirm", {"--skip-bpf", "--keep-panic", "--cilium-version", "1.18"}), &code);
    BOOST_TEST_REQUIRE(code == 0, doc.dump(2));
    const auto entry = root.read("/boot/loader/entries/" + k_mid + "-" + release + ".conf");
    BOOST_TEST(entry.find("panic=30 rd.shell=0 rd.emergency=reboot") != std::string::npos, entry);
}

BOOST_AUTO_TEST_CASE(the_new_kernel_failing_the_cilium_checks_is_not_promoted) {
    Root root(9);
    stage(root);
    root.reboot_into(k_new, /*btf=*/false);
    // No BTF in sysfs and 1.20 requires it: the new kernel must not become the default.
    std::ofstream(root.path() / "boot" / ("config-" + k_new)) << "CONFIG_BPF=y\n";
    std::filesystem::remove(root.path() / "lib/modules" / k_new / "config");
    int code = -1;
    const auto doc =
        root.agent_json(verb(root, "confirm", {"--skip-bpf", "--cilium-version", "1.20"}), &code);
    BOOST_TEST(code == 1, doc.dump(2));
    BOOST_TEST(doc["outcome"] == "checks-failed");
    BOOST_TEST(root.grubenv().at("saved_entry") == k_mid + "-" + k_old);
    BOOST_TEST(guard_present(root), "the guard stays armed and reboots into the previous kernel");
    const auto record = nlohmann::json::parse(root.read("/var/lib/meshlink/kernel-trial.json"));
    BOOST_TEST(record["state"] == "failed");
    BOOST_TEST(record["outcome"]["result"] == "checks-failed");
}

BOOST_AUTO_TEST_CASE(rebooted_into_the_old_kernel_is_a_recorded_fallback_never_retried) {
    Root root(9);
    stage(root);
    root.reboot_into(k_old, false);
    int code = -1;
    const auto doc = root.agent_json(verb(root, "confirm", {"--skip-bpf"}), &code);
    BOOST_TEST(code == 1);
    BOOST_TEST(doc["outcome"] == "fallback");
    const auto record = nlohmann::json::parse(root.read("/var/lib/meshlink/kernel-trial.json"));
    BOOST_TEST(record["state"] == "failed");
    BOOST_TEST(record["outcome"]["result"] == "fallback");
    BOOST_TEST(record["outcome"]["runningRelease"] == k_old);
    BOOST_TEST(record["outcome"]["bootId"] == "22222222-3333-4444-8555-666666666666");
    BOOST_TEST(root.grubenv().at("saved_entry") == k_mid + "-" + k_old);
    BOOST_TEST(!guard_present(root));

    // Never retried by itself: stage refuses, changing nothing.
    const auto before = root.digest();
    const auto again = root.agent_json(verb(root, "stage", root.repo_flags()), &code);
    BOOST_TEST(code == 1);
    const auto ids = refusals(again["plan"]);
    BOOST_TEST((ids == std::vector<std::string>{"kernel.trial"}), again["plan"]["refusals"].dump());
    BOOST_TEST(digest_diff(before, root.digest()) == "");

    // A human rolls back (removing the packages), after which a new plan may stage again.
    const auto rolled = root.agent_json(verb(root, "rollback", {"--remove"}), &code);
    BOOST_TEST(code == 0, rolled.dump(2));
    BOOST_TEST(rolled["trial"]["state"] == "rolled-back");
    BOOST_TEST(root.kernel_packages().empty());
    BOOST_TEST(root.grubenv().at("saved_entry") == k_mid + "-" + k_old);
    BOOST_TEST(root.agent(verb(root, "plan", root.repo_flags())).exit_code == 0);
}

BOOST_AUTO_TEST_CASE(rollback_before_the_reboot_restores_the_previous_boot) {
    Root root(8);
    BOOST_TEST_REQUIRE(root.agent(verb(root, "stage", root.repo_flags())).exit_code == 0);
    int code = -1;
    const auto doc = root.agent_json(verb(root, "rollback"), &code);
    BOOST_TEST(code == 0, doc.dump(2));
    const auto env = root.grubenv();
    BOOST_TEST(env.count("next_entry") == 0u);
    BOOST_TEST(env.at("saved_entry") == k_mid + "-4.18.0-553.el8_10.x86_64");
    BOOST_TEST(!guard_present(root));
    const auto entry = root.read("/boot/loader/entries/" + k_mid + "-7.1.9-1.el8.elrepo.x86_64.conf");
    BOOST_TEST(entry.find("panic=30") == std::string::npos, entry);
    BOOST_TEST(root.kernel_packages().size() == 3u, "without --remove the packages stay");
}

BOOST_AUTO_TEST_CASE(rollback_remove_is_refused_while_the_trial_kernel_runs) {
    Root root(9);
    stage(root);
    root.reboot_into(k_new, true);
    const auto before = root.digest();
    const auto result = root.agent(verb(root, "rollback", {"--remove"}));
    BOOST_TEST(result.exit_code == 2);
    BOOST_TEST(result.err.find("is the running kernel") != std::string::npos, result.err);
    BOOST_TEST(digest_diff(before, root.digest()) == "");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace meshlink::test::kernel
