#include "node-agent/kernel/keys.hpp"

#include "node-agent/defaults.hpp"
#include "util/base64.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/evp.h>

#include <cctype>
#include <memory>

namespace meshlink::agent::kernel {
namespace {

constexpr std::string_view k_begin = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
constexpr std::string_view k_end = "-----END PGP PUBLIC KEY BLOCK-----";

// OpenPGP packet tags (RFC 4880 §4.3).
constexpr int k_tag_public_key = 6;
constexpr int k_tag_user_id = 13;
constexpr int k_tag_public_subkey = 14;

std::string hex(const unsigned char* data, std::size_t size, bool upper) {
    static constexpr char k_upper[] = "0123456789ABCDEF";
    static constexpr char k_lower[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        out += (upper ? k_upper : k_lower)[data[i] >> 4];
        out += (upper ? k_upper : k_lower)[data[i] & 0xF];
    }
    return out;
}

// CRC-24 of the armor checksum line (RFC 4880 §6.1).
std::uint32_t crc24(std::string_view data) {
    std::uint32_t crc = 0xB704CEu;
    for (unsigned char c : data) {
        crc ^= static_cast<std::uint32_t>(c) << 16;
        for (int i = 0; i < 8; ++i) {
            crc <<= 1;
            if ((crc & 0x1000000u) != 0) {
                crc ^= 0x1864CFBu;
            }
        }
    }
    return crc & 0xFFFFFFu;
}

struct EvpMdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// v4 fingerprint: SHA-1 over 0x99, the two-octet body length and the key packet body (RFC 4880 §12.2).
util::Result<std::string> v4_fingerprint(std::string_view body) {
    const unsigned char prefix[3] = {0x99, static_cast<unsigned char>((body.size() >> 8) & 0xFF),
                                     static_cast<unsigned char>(body.size() & 0xFF)};
    std::unique_ptr<EVP_MD_CTX, EvpMdCtxFree> ctx(EVP_MD_CTX_new());
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha1(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), prefix, sizeof prefix) != 1 ||
        EVP_DigestUpdate(ctx.get(), body.data(), body.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1) {
        return util::fail(util::ErrorKind::generic, "SHA-1 of a key packet failed (OpenSSL)");
    }
    return hex(digest, size, true);
}

struct Packet {
    int tag = 0;
    std::string_view body;
};

util::Result<std::vector<Packet>> split_packets(std::string_view data) {
    std::vector<Packet> packets;
    std::size_t pos = 0;
    auto byte = [&](std::size_t at) { return static_cast<unsigned char>(data[at]); };
    while (pos < data.size()) {
        const unsigned char ctb = byte(pos++);
        if ((ctb & 0x80) == 0) {
            return util::fail(util::ErrorKind::parse,
                              fmt::format("byte {}: not an OpenPGP packet header", pos - 1));
        }
        Packet packet;
        std::size_t length = 0;
        auto need = [&](std::size_t n) -> bool { return pos + n <= data.size(); };
        if ((ctb & 0x40) != 0) { // new format
            packet.tag = ctb & 0x3F;
            if (!need(1)) {
                return util::fail(util::ErrorKind::parse, "truncated packet length");
            }
            const unsigned char first = byte(pos++);
            if (first < 192) {
                length = first;
            } else if (first < 224) {
                if (!need(1)) {
                    return util::fail(util::ErrorKind::parse, "truncated packet length");
                }
                length = ((first - 192u) << 8) + byte(pos++) + 192u;
            } else if (first == 255) {
                if (!need(4)) {
                    return util::fail(util::ErrorKind::parse, "truncated packet length");
                }
                length = (std::size_t{byte(pos)} << 24) | (std::size_t{byte(pos + 1)} << 16) |
                         (std::size_t{byte(pos + 2)} << 8) | byte(pos + 3);
                pos += 4;
            } else {
                return util::fail(util::ErrorKind::parse, "partial body lengths are not allowed in a key");
            }
        } else { // old format
            packet.tag = (ctb >> 2) & 0x0F;
            const int type = ctb & 0x03;
            if (type == 3) {
                length = data.size() - pos;
            } else {
                const std::size_t n = type == 0 ? 1 : type == 1 ? 2 : 4;
                if (!need(n)) {
                    return util::fail(util::ErrorKind::parse, "truncated packet length");
                }
                for (std::size_t i = 0; i < n; ++i) {
                    length = (length << 8) | byte(pos + i);
                }
                pos += n;
            }
        }
        if (length > data.size() - pos) {
            return util::fail(util::ErrorKind::parse,
                              fmt::format("packet of tag {} runs past the end of the key", packet.tag));
        }
        packet.body = data.substr(pos, length);
        pos += length;
        packets.push_back(packet);
    }
    return packets;
}

util::Result<std::string> dearmor_block(std::string_view block) {
    // Armor headers ("Version: ...") end at the first empty line; then base64 up to the "=XXXX" checksum.
    std::size_t pos = 0;
    bool in_headers = true;
    std::string base64;
    std::string checksum;
    while (pos < block.size()) {
        std::size_t end = block.find('\n', pos);
        if (end == std::string_view::npos) {
            end = block.size();
        }
        std::string_view line = block.substr(pos, end - pos);
        pos = end + 1;
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
            line.remove_suffix(1);
        }
        if (in_headers) {
            if (line.empty()) {
                in_headers = false;
            } else if (line.find(':') == std::string_view::npos) {
                in_headers = false; // no header lines and no blank line: the data starts here
                base64 += line;
            }
            continue;
        }
        if (!line.empty() && line.front() == '=') {
            checksum = std::string(line.substr(1));
            break;
        }
        base64 += line;
    }
    auto data = util::base64_decode(base64);
    if (!data) {
        return std::unexpected(data.error().with_context("key block base64"));
    }
    if (!checksum.empty()) {
        auto sum = util::base64_decode(checksum);
        if (!sum || sum->size() != 3) {
            return util::fail(util::ErrorKind::parse, "malformed armor checksum line");
        }
        const std::uint32_t want = (std::uint32_t{static_cast<unsigned char>((*sum)[0])} << 16) |
                                   (std::uint32_t{static_cast<unsigned char>((*sum)[1])} << 8) |
                                   static_cast<unsigned char>((*sum)[2]);
        if (crc24(*data) != want) {
            return util::fail(util::ErrorKind::parse, "armor checksum does not match the key data");
        }
    }
    return data;
}

} // namespace

std::string PublicKey::short_id() const {
    std::string id = fingerprint.size() >= 8 ? fingerprint.substr(fingerprint.size() - 8) : fingerprint;
    for (char& c : id) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return id;
}

std::string PublicKey::rpm_name() const {
    return fmt::format("gpg-pubkey-{}-{:08x}", short_id(), created);
}

util::Result<std::vector<PublicKey>> parse_public_keys(std::string_view armored) {
    std::vector<PublicKey> keys;
    std::size_t pos = 0;
    while ((pos = armored.find(k_begin, pos)) != std::string_view::npos) {
        const std::size_t start = armored.find('\n', pos);
        const std::size_t stop = armored.find(k_end, pos);
        if (start == std::string_view::npos || stop == std::string_view::npos || stop < start) {
            return util::fail(util::ErrorKind::parse, "key block without its END line");
        }
        auto data = dearmor_block(armored.substr(start + 1, stop - start - 1));
        if (!data) {
            return std::unexpected(data.error());
        }
        auto packets = split_packets(*data);
        if (!packets) {
            return std::unexpected(packets.error());
        }
        for (const auto& packet : *packets) {
            if (packet.tag == k_tag_public_key || packet.tag == k_tag_public_subkey) {
                if (packet.body.size() < 6) {
                    return util::fail(util::ErrorKind::parse, "key packet too short");
                }
                const int version = static_cast<unsigned char>(packet.body[0]);
                if (version != 4) {
                    return util::fail(
                        util::ErrorKind::parse,
                        fmt::format("OpenPGP key version {} is not supported (only v4)", version));
                }
                auto fingerprint = v4_fingerprint(packet.body);
                if (!fingerprint) {
                    return std::unexpected(fingerprint.error());
                }
                if (packet.tag == k_tag_public_key) {
                    PublicKey key;
                    key.fingerprint = *fingerprint;
                    for (int i = 1; i <= 4; ++i) {
                        key.created = (key.created << 8) | static_cast<unsigned char>(packet.body[i]);
                    }
                    keys.push_back(std::move(key));
                } else if (!keys.empty()) {
                    keys.back().subkey_fingerprints.push_back(*fingerprint);
                } else {
                    return util::fail(util::ErrorKind::parse, "subkey before any primary key");
                }
            } else if (packet.tag == k_tag_user_id && !keys.empty() && keys.back().user_id.empty()) {
                keys.back().user_id = std::string(packet.body);
            }
        }
        pos = stop + k_end.size();
    }
    if (keys.empty()) {
        return util::fail(util::ErrorKind::parse,
                          "no OpenPGP public key (no \"" + std::string(k_begin) + "\" block)");
    }
    return keys;
}

std::string normalize_fingerprint(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == ' ' || c == '\t') {
            continue;
        }
        if (!std::isxdigit(static_cast<unsigned char>(c))) {
            return {};
        }
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out.size() == 40 ? out : std::string();
}

std::string spaced_fingerprint(std::string_view fingerprint) {
    std::string out;
    for (std::size_t i = 0; i < fingerprint.size(); i += 4) {
        if (i > 0) {
            out += i == 20 ? "  " : " ";
        }
        out += fingerprint.substr(i, 4);
    }
    return out;
}

std::vector<KeySource> elrepo_keys(int el) {
    KeySource v1{"ELRepo v1 key (compiled in)",
                 std::string(elrepo_key_v1_text()),
                 {std::string(defaults::k_elrepo_key_v1_fingerprint)}};
    KeySource v2{"ELRepo v2 key (compiled in)",
                 std::string(elrepo_key_v2_text()),
                 {std::string(defaults::k_elrepo_key_v2_fingerprint)}};
    switch (el) {
    case 7:
        return {v1};
    case 8:
    case 9:
        return {v1, v2};
    case 10:
        return {v2};
    default:
        return {};
    }
}

util::Result<std::vector<PublicKey>> verify_key(const KeySource& source) {
    auto keys = parse_public_keys(source.text);
    if (!keys) {
        return std::unexpected(keys.error().with_context(source.name));
    }
    std::vector<std::string> expected;
    for (const auto& fingerprint : source.fingerprints) {
        expected.push_back(spaced_fingerprint(fingerprint));
    }
    for (const auto& key : *keys) {
        bool trusted = false;
        for (const auto& fingerprint : source.fingerprints) {
            trusted = trusted || key.fingerprint == fingerprint;
        }
        if (!trusted) {
            return util::fail(util::ErrorKind::forbidden,
                              fmt::format("{}: key {} ({}) has fingerprint {}, not the trusted {}",
                                          source.name, key.short_id(), key.user_id,
                                          spaced_fingerprint(key.fingerprint), fmt::join(expected, " or ")));
        }
    }
    return keys;
}

} // namespace meshlink::agent::kernel
