// Every refusal of stage: exit 1, the reason in the plan's checks, and not one byte changed under the root.

#include "tests/integration/kernel/harness.hpp"

#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>

namespace meshlink::test::kernel {
namespace {

bool is_root() {
    return ::geteuid() == 0;
}

struct Refusal {
    nlohmann::json check; // the failing check named by `id`
    std::vector<std::string> refusals;
};

// Runs stage with `extra` flags on `root` and requires a refusal by check `id` that changed nothing.
Refusal expect_refusal(const Root& root, const std::vector<std::string>& extra, const std::string& id) {
    const auto before = root.digest();
    auto flags = root.host_flags();
    flags.insert(flags.begin(), "stage");
    flags.insert(flags.end(), extra.begin(), extra.end());
    int code = -1;
    const auto doc = root.agent_json(flags, &code);
    BOOST_TEST(code == 1, doc.dump());
    BOOST_TEST(doc["staged"] == false);
    BOOST_TEST(doc["steps"].empty());
    Refusal refusal;
    refusal.refusals = refusals(doc["plan"]);
    BOOST_TEST((std::find(refusal.refusals.begin(), refusal.refusals.end(), id) != refusal.refusals.end()),
               id << " not among " << doc["plan"]["refusals"].dump());
    for (const auto& check : doc["plan"]["checks"]) {
        if (check["id"] == id) {
            refusal.check = check;
        }
    }
    BOOST_TEST(digest_diff(before, root.digest()) == "",
               "stage refused by " << id << " but changed the root");
    BOOST_TEST(!root.exists("/var/lib/meshlink/kernel-trial.json"));
    return refusal;
}

std::vector<std::string> with(std::vector<std::string> flags, const std::vector<std::string>& more) {
    flags.insert(flags.end(), more.begin(), more.end());
    return flags;
}

} // namespace

BOOST_AUTO_TEST_SUITE(kernel_refusals)

BOOST_AUTO_TEST_CASE(a_key_whose_fingerprint_differs_from_the_pinned_ones) {
    Root root(9);
    const auto& r = repos();
    // A key file given without its own fingerprint must be one of ELRepo's pinned keys.
    auto refusal =
        expect_refusal(root, {"--repo-url", r.url("good"), "--repo-key", r.other_key}, "kernel.signing-keys");
    const std::string message = refusal.check["message"];
    BOOST_TEST(message.find(", not the trusted ") != std::string::npos, message);
    BOOST_TEST(message.find("B8A7 5587 4DA2 40C9 DAC4  E715 5160 0989 EAA3 1D4A") != std::string::npos,
               message);
    // An operator's fingerprint that is not the file's.
    expect_refusal(
        root,
        {"--repo-url", r.url("good"), "--repo-key", r.other_key, "--repo-key-fingerprint", r.trusted_fpr},
        "kernel.signing-keys");
}

BOOST_AUTO_TEST_CASE(elrepo_v1_key_is_not_trusted_on_el10) {
    Root root(10);
    const auto& r = repos();
    const std::string v1 =
        std::string(MESHLINK_SOURCE_DIR) + "/node-agent/kernel/keys/RPM-GPG-KEY-elrepo.org";
    auto refusal =
        expect_refusal(root, {"--repo-url", r.url("good"), "--repo-key", v1}, "kernel.signing-keys");
    BOOST_TEST(refusal.check["message"].get<std::string>().find("96C0 104F") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_unsigned_package) {
    Root root(9);
    auto refusal = expect_refusal(root, root.repo_flags("unsigned"), "kernel.signatures");
    BOOST_TEST(refusal.check["message"].get<std::string>().find("not signed") != std::string::npos,
               refusal.check.dump());
}

BOOST_AUTO_TEST_CASE(a_package_signed_by_another_key) {
    Root root(9);
    auto refusal = expect_refusal(root, root.repo_flags("other"), "kernel.signatures");
    const std::string message = refusal.check["message"];
    BOOST_TEST(message.find("NOKEY") != std::string::npos, message);
    // rpm names the signer by the last 8 hex digits of its key ID.
    std::string short_id = repos().other_fpr.substr(32);
    for (auto& c : short_id) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    BOOST_TEST(message.find("key ID " + short_id) != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(the_compiled_in_elrepo_keys_do_not_accept_packages_signed_by_a_test_key) {
    Root root(9);
    auto refusal = expect_refusal(root, {"--repo-url", repos().url("good")}, "kernel.signatures");
    BOOST_TEST(refusal.check["message"].get<std::string>().find("NOKEY") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(secure_boot_on) {
    Root root(9, {"secure-boot"});
    auto refusal = expect_refusal(root, root.repo_flags(), "kernel.secure-boot");
    BOOST_TEST(refusal.check["message"].get<std::string>().find("Secure Boot is enabled") !=
               std::string::npos);
    BOOST_TEST(refusal.check["hint"].get<std::string>().find("mokutil --disable-validation") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(secure_boot_unknown_on_uefi) {
    Root root(9, {"secure-boot-unknown"});
    auto refusal = expect_refusal(root, root.repo_flags(), "kernel.secure-boot");
    BOOST_TEST(refusal.check["message"].get<std::string>().find("Secure Boot is unknown") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(uefi_with_secure_boot_off_may_stage) {
    Root root(9, {"uefi"});
    auto flags = with(with({"plan"}, root.host_flags()), root.repo_flags());
    int code = -1;
    const auto plan = root.agent_json(flags, &code);
    BOOST_TEST(code == 0, plan.dump());
}

BOOST_AUTO_TEST_CASE(boot_too_small, *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         return is_root();
                     })) {
    Root root(9, {}, /*mount_small_boot=*/true);
    auto refusal = expect_refusal(root, root.repo_flags(), "kernel.boot-space");
    const std::string message = refusal.check["message"];
    BOOST_TEST(message.find("more space on the") != std::string::npos, message);
    BOOST_TEST(message.find("/boot") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(grub_default_0) {
    Root root(9, {"grub-default-0"});
    auto refusal = expect_refusal(root, root.repo_flags(), "kernel.grub-default");
    BOOST_TEST(refusal.check["message"].get<std::string>().find("GRUB_DEFAULT=0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(boot_on_md_raid) {
    Root root(9, {"md"});
    auto refusal = expect_refusal(root, root.repo_flags(), "kernel.grubenv");
    BOOST_TEST(refusal.check["message"].get<std::string>().find("md-raid") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(boot_on_lvm) {
    Root root(8, {"lvm"});
    auto refusal = expect_refusal(root, root.repo_flags(), "kernel.grubenv");
    BOOST_TEST(refusal.check["message"].get<std::string>().find("lvm") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_candidate_config_without_btf_when_cilium_needs_it) {
    Root root(9);
    auto refusal = expect_refusal(root, with(root.repo_flags("nobtf"), {"--cilium-version", "1.20"}),
                                  "kernel.candidate-config");
    BOOST_TEST(refusal.check["message"].get<std::string>().find("CONFIG_DEBUG_INFO_BTF") != std::string::npos,
               refusal.check.dump());
    // The same kernel is fine for a Cilium release that does not require BTF.
    auto flags =
        with(with({"plan"}, root.host_flags()), with(root.repo_flags("nobtf"), {"--cilium-version", "1.18"}));
    int code = -1;
    const auto plan = root.agent_json(flags, &code);
    BOOST_TEST(code == 0, plan.dump());
}

BOOST_AUTO_TEST_CASE(not_enterprise_linux) {
    Root root(9);
    std::ofstream(root.path() / "etc/os-release")
        << "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12\"\n";
    auto refusal = expect_refusal(root, root.repo_flags(), "kernel.os");
    BOOST_TEST(refusal.check["message"].get<std::string>().find("not Enterprise Linux") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace meshlink::test::kernel
