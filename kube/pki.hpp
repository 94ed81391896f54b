#pragma once
// PKI helpers on OpenSSL 3: ECDSA P-256 certificate authorities and leaf certificates, certificate
// inspection, PEM codecs, key/certificate matching and chain verification.
// Every OpenSSL handle is owned by a unique_ptr with a functor deleter (X509Ptr, EvpPkeyPtr, ...).

#include "util/error.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::kube::pki {

struct X509Deleter {
    void operator()(X509* cert) const noexcept { X509_free(cert); }
};
struct EvpPkeyDeleter {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct BioDeleter {
    void operator()(BIO* bio) const noexcept { BIO_free_all(bio); }
};
struct X509StoreDeleter {
    void operator()(X509_STORE* store) const noexcept { X509_STORE_free(store); }
};
struct X509StoreCtxDeleter {
    void operator()(X509_STORE_CTX* ctx) const noexcept { X509_STORE_CTX_free(ctx); }
};

using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509StorePtr = std::unique_ptr<X509_STORE, X509StoreDeleter>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, X509StoreCtxDeleter>;

// X.509 keyUsage bits, combined with `|`.
enum class KeyUsage : unsigned {
    none = 0,
    digital_signature = 1U << 0,
    key_encipherment = 1U << 1,
    cert_sign = 1U << 2,
    crl_sign = 1U << 3,
};
constexpr KeyUsage operator|(KeyUsage a, KeyUsage b) {
    return static_cast<KeyUsage>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr bool has(KeyUsage set, KeyUsage bit) {
    return (static_cast<unsigned>(set) & static_cast<unsigned>(bit)) != 0;
}

enum class ExtKeyUsage { server_auth, client_auth };

// What a new certificate says. Empty key_usage means the usual default: CAs get
// digitalSignature|keyEncipherment|keyCertSign, leaves digitalSignature|keyEncipherment.
struct CertificateSpec {
    std::string common_name;
    std::vector<std::string> organizations;
    std::vector<std::string> dns_names;
    std::vector<std::string> ip_addresses; // IPv4 or IPv6 text form
    KeyUsage key_usage = KeyUsage::none;
    std::vector<ExtKeyUsage> ext_key_usage;
    std::chrono::seconds validity = std::chrono::hours(24 * 365);
    // Backdated by this much so a peer with a slightly slow clock accepts the certificate at once.
    std::chrono::seconds backdate = std::chrono::minutes(5);
};

// A certificate and its private key, both PEM ("CERTIFICATE" and "EC PRIVATE KEY").
struct KeyPair {
    std::string cert_pem;
    std::string key_pem;
};

// Generates a new ECDSA P-256 key and a self-signed CA certificate (basicConstraints CA:TRUE, critical).
util::Result<KeyPair> generate_ca(const CertificateSpec& spec);

// Generates a new ECDSA P-256 key and a certificate signed by `issuer` (CA:FALSE, authorityKeyIdentifier
// from the issuer's subjectKeyIdentifier).
util::Result<KeyPair> generate_signed(const CertificateSpec& spec, const KeyPair& issuer);

// What parse_certificate reads from a certificate.
struct CertificateInfo {
    std::string subject_cn;
    std::vector<std::string> subject_organizations;
    std::string issuer_cn;
    std::vector<std::string> dns_names;
    std::vector<std::string> ip_addresses;
    std::chrono::system_clock::time_point not_before;
    std::chrono::system_clock::time_point not_after;
    std::string subject_key_id;   // lower-case hex without separators; empty when absent
    std::string authority_key_id; // likewise
    bool is_ca = false;
};

// Reads the first certificate of a PEM text.
util::Result<CertificateInfo> parse_certificate(std::string_view pem);
// Reads an already decoded certificate.
util::Result<CertificateInfo> describe(const X509& cert);

// PEM codecs. load_certificates reads every certificate of a bundle (at least one).
util::Result<X509Ptr> load_certificate(std::string_view pem);
util::Result<std::vector<X509Ptr>> load_certificates(std::string_view pem);
util::Result<EvpPkeyPtr> load_private_key(std::string_view pem); // PKCS#8, SEC1 or PKCS#1
util::Result<std::string> to_pem(const X509& cert);
util::Result<std::string> to_pem(const EVP_PKEY& key); // EC keys as SEC1 "EC PRIVATE KEY", others PKCS#8

// True when the private key belongs to the certificate's public key.
util::Result<bool> key_matches_certificate(std::string_view cert_pem, std::string_view key_pem);

// Succeeds when `cert_pem` chains to one of the certificates in `ca_pem` (validity, signatures and CA
// constraints checked); the error carries OpenSSL's verification message.
util::Result<> verify_chain(std::string_view cert_pem, std::string_view ca_pem);

} // namespace meshlink::kube::pki
