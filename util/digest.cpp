#include "util/digest.hpp"

#include <openssl/evp.h>

#include <new>

namespace meshlink::util {

Sha256 sha256(std::string_view data) {
    Sha256 digest{};
    unsigned int length = 0;
    // One call, no context object to own; it fails only when OpenSSL cannot allocate or lacks SHA-256.
    if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
        length != digest.size()) {
        throw std::bad_alloc();
    }
    return digest;
}

std::string to_hex(const Sha256& digest) {
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(digest.size() * 2);
    for (std::uint8_t byte : digest) {
        out.push_back(k_digits[byte >> 4U]);
        out.push_back(k_digits[byte & 0x0fU]);
    }
    return out;
}

} // namespace meshlink::util
