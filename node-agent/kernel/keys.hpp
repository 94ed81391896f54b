#pragma once
// OpenPGP public keys as RPM uses them: ASCII-armored key files parsed far enough to compute each key's
// full v4 fingerprint (RFC 4880 §12.2), which is what the agent trusts, never a short key ID and never a
// key file's name or origin.

#include "util/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::agent::kernel {

struct PublicKey {
    std::string fingerprint;                      // 40 upper-case hex digits
    std::vector<std::string> subkey_fingerprints; // the same for each subkey
    std::uint32_t created = 0;                    // creation time of the primary key (Unix seconds)
    std::string user_id;                          // the first user ID, for messages

    // The last 8 hex digits of the key ID, lower case: rpm's gpg-pubkey version ("eaa31d4a").
    [[nodiscard]] std::string short_id() const;
    // The name rpm gives the key once imported: "gpg-pubkey-eaa31d4a-677ad425".
    [[nodiscard]] std::string rpm_name() const;
};

// Every primary key (with its subkeys) in an ASCII-armored "PUBLIC KEY BLOCK" text (one or more blocks).
// Errors: no block, bad base64 or checksum, malformed packets, key versions other than 4.
util::Result<std::vector<PublicKey>> parse_public_keys(std::string_view armored);

// "B8A755874DA240C9DAC4E71551600989EAA31D4A" from any spelling with spaces or lower case; empty when the
// text is not 40 hex digits.
std::string normalize_fingerprint(std::string_view text);

// "B8A7 5587 4DA2 40C9 DAC4  E715 5160 0989 EAA3 1D4A", the way gpg prints fingerprints.
std::string spaced_fingerprint(std::string_view fingerprint);

// A key file the agent may import: its text and the fingerprints it must contain (all of its primary
// keys must be among them).
struct KeySource {
    std::string name;                      // "ELRepo v2 (compiled in)", "--repo-key /path"
    std::string text;                      // the armored key
    std::vector<std::string> fingerprints; // allowed primary-key fingerprints
};

// The compiled-in ELRepo keys an EL release trusts, each with its pinned fingerprint: EL7 only v1, EL8 and
// EL9 both, EL10 only v2 (each as ELRepo's elrepo-release for that release lists them). Empty for other
// releases.
std::vector<KeySource> elrepo_keys(int el);

// The armored text of ELRepo's keys as compiled in (node-agent/kernel/keys/).
std::string_view elrepo_key_v1_text();
std::string_view elrepo_key_v2_text();

// Parses `source.text` and checks every primary key against `source.fingerprints`. The error names the
// fingerprint found and the one expected, so an operator can tell a wrong file from a tampered one.
util::Result<std::vector<PublicKey>> verify_key(const KeySource& source);

} // namespace meshlink::agent::kernel
