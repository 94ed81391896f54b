// OpenPGP key parsing: ELRepo's real key files (node-agent/kernel/keys/) against the fingerprints pinned in
// node-agent/defaults.hpp, and the trust policy per EL release.

#include "node-agent/defaults.hpp"
#include "node-agent/kernel/keys.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace meshlink::agent::kernel {
namespace {

std::string key_file(const std::string& name) {
    std::ifstream in(std::filesystem::path(MESHLINK_SOURCE_DIR) / "node-agent/kernel/keys" / name);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

BOOST_AUTO_TEST_SUITE(kernel_keys)

BOOST_AUTO_TEST_CASE(elrepo_key_files_have_the_pinned_fingerprints) {
    auto v1 = parse_public_keys(key_file("RPM-GPG-KEY-elrepo.org"));
    BOOST_TEST_REQUIRE(v1.has_value(), v1.error().message);
    BOOST_TEST_REQUIRE(v1->size() == 1u);
    BOOST_TEST(v1->front().fingerprint == defaults::k_elrepo_key_v1_fingerprint);
    BOOST_TEST(v1->front().rpm_name() ==
               "gpg-pubkey-baadae52-49beffa4"); // the name dnf import transcripts show
    BOOST_TEST(v1->front().user_id == "elrepo.org (RPM Signing Key for elrepo.org) <secure@elrepo.org>");
    auto v2 = parse_public_keys(key_file("RPM-GPG-KEY-v2-elrepo.org"));
    BOOST_TEST_REQUIRE(v2.has_value(), v2.error().message);
    BOOST_TEST(v2->front().fingerprint == defaults::k_elrepo_key_v2_fingerprint);
    BOOST_TEST(v2->front().rpm_name() == "gpg-pubkey-eaa31d4a-677ad425");
    BOOST_TEST(v2->front().subkey_fingerprints.size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_compiled_in_keys_are_the_files) {
    BOOST_TEST(elrepo_key_v1_text() == key_file("RPM-GPG-KEY-elrepo.org"));
    BOOST_TEST(elrepo_key_v2_text() == key_file("RPM-GPG-KEY-v2-elrepo.org"));
}

BOOST_AUTO_TEST_CASE(trust_per_el_release) {
    auto names = [](int el) {
        std::vector<std::string> fingerprints;
        for (const auto& source : elrepo_keys(el)) {
            auto keys = verify_key(source);
            BOOST_TEST_REQUIRE(keys.has_value(), keys.error().message);
            fingerprints.push_back(keys->front().fingerprint);
        }
        return fingerprints;
    };
    const std::string v1(defaults::k_elrepo_key_v1_fingerprint);
    const std::string v2(defaults::k_elrepo_key_v2_fingerprint);
    BOOST_TEST(names(7) == std::vector<std::string>{v1});
    BOOST_TEST(names(8) == (std::vector<std::string>{v1, v2}));
    BOOST_TEST(names(9) == (std::vector<std::string>{v1, v2}));
    BOOST_TEST(names(10) == std::vector<std::string>{v2});
    BOOST_TEST(names(6).empty());
}

BOOST_AUTO_TEST_CASE(a_key_file_with_another_fingerprint_is_refused) {
    KeySource v1_as_v2{"v1 claimed as v2",
                       key_file("RPM-GPG-KEY-elrepo.org"),
                       {std::string(defaults::k_elrepo_key_v2_fingerprint)}};
    auto refused = verify_key(v1_as_v2);
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(refused.error().message.find("96C0 104F 6315 4731 1E0B  B1AE 309B C305 BAAD AE52") !=
                   std::string::npos,
               refused.error().message);
}

BOOST_AUTO_TEST_CASE(a_second_key_appended_to_a_trusted_file_is_refused) {
    KeySource both{"two keys",
                   key_file("RPM-GPG-KEY-v2-elrepo.org") + key_file("RPM-GPG-KEY-elrepo.org"),
                   {std::string(defaults::k_elrepo_key_v2_fingerprint)}};
    BOOST_TEST(!verify_key(both).has_value());
}

BOOST_AUTO_TEST_CASE(corrupt_key_data_is_an_error_not_a_key) {
    std::string text = key_file("RPM-GPG-KEY-v2-elrepo.org");
    const auto at = text.find("mQINBG");
    text[at + 10] = text[at + 10] == 'A' ? 'B' : 'A';
    auto parsed = parse_public_keys(text);
    BOOST_TEST_REQUIRE(!parsed.has_value());
    BOOST_TEST(parsed.error().message.find("checksum") != std::string::npos, parsed.error().message);
    BOOST_TEST(!parse_public_keys("not a key").has_value());
}

BOOST_AUTO_TEST_CASE(fingerprints_normalize_from_gpg_spellings) {
    BOOST_TEST(normalize_fingerprint("b8a7 5587 4da2 40c9 dac4  e715 5160 0989 eaa3 1d4a") ==
               defaults::k_elrepo_key_v2_fingerprint);
    BOOST_TEST(normalize_fingerprint("EAA31D4A").empty());
    BOOST_TEST(normalize_fingerprint("G8A755874DA240C9DAC4E71551600989EAA31D4A").empty());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace meshlink::agent::kernel
