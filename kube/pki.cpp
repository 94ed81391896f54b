#include "kube/pki.hpp"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <array>
#include <ctime>

namespace meshlink::kube::pki {
namespace {

struct X509ExtensionDeleter {
    void operator()(X509_EXTENSION* ext) const noexcept { X509_EXTENSION_free(ext); }
};
struct GeneralNamesDeleter {
    void operator()(GENERAL_NAMES* names) const noexcept { GENERAL_NAMES_free(names); }
};
struct BignumDeleter {
    void operator()(BIGNUM* bn) const noexcept { BN_free(bn); }
};
struct EncoderCtxDeleter {
    void operator()(OSSL_ENCODER_CTX* ctx) const noexcept { OSSL_ENCODER_CTX_free(ctx); }
};
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, X509ExtensionDeleter>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter>;
using BignumPtr = std::unique_ptr<BIGNUM, BignumDeleter>;
using EncoderCtxPtr = std::unique_ptr<OSSL_ENCODER_CTX, EncoderCtxDeleter>;

// Drains OpenSSL's error queue into "<what>: <first reason>".
util::Error openssl_error(std::string_view what, util::ErrorKind kind = util::ErrorKind::generic) {
    std::string message(what);
    unsigned long code = ERR_get_error();
    if (code != 0) {
        std::array<char, 256> buffer{};
        ERR_error_string_n(code, buffer.data(), buffer.size());
        message += ": ";
        message += buffer.data();
    }
    ERR_clear_error();
    return util::Error{kind, message};
}

BioPtr memory_bio(std::string_view data) {
    return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string bio_contents(BIO* bio) {
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

std::string to_hex(const ASN1_OCTET_STRING* octets) {
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string out;
    if (octets == nullptr) {
        return out;
    }
    const unsigned char* data = ASN1_STRING_get0_data(octets);
    for (int i = 0; i < ASN1_STRING_length(octets); ++i) {
        out += k_digits[data[i] >> 4];
        out += k_digits[data[i] & 0x0f];
    }
    return out;
}

std::string asn1_string_text(const ASN1_STRING* text) {
    unsigned char* utf8 = nullptr;
    int length = ASN1_STRING_to_UTF8(&utf8, text);
    if (length < 0) {
        return {};
    }
    std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
    OPENSSL_free(utf8);
    return out;
}

std::vector<std::string> name_entries(const X509_NAME* name, int nid) {
    std::vector<std::string> out;
    for (int index = X509_NAME_get_index_by_NID(name, nid, -1); index >= 0;
         index = X509_NAME_get_index_by_NID(name, nid, index)) {
        out.push_back(asn1_string_text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index))));
    }
    return out;
}

util::Result<std::chrono::system_clock::time_point> to_time_point(const ASN1_TIME* time) {
    std::tm tm{};
    if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
        return util::fail(util::ErrorKind::parse, "certificate has an unreadable validity time");
    }
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

util::Result<EvpPkeyPtr> generate_key() {
    EvpPkeyPtr key(EVP_EC_gen("P-256"));
    if (!key) {
        return std::unexpected(openssl_error("generating an ECDSA P-256 key"));
    }
    return key;
}

util::Result<> add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
    X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
        return std::unexpected(
            openssl_error("adding extension " + std::string(OBJ_nid2sn(nid)) + "=" + value));
    }
    return {};
}

std::string key_usage_text(KeyUsage usage, bool is_ca) {
    if (usage == KeyUsage::none) {
        usage = KeyUsage::digital_signature | KeyUsage::key_encipherment;
        if (is_ca) {
            usage = usage | KeyUsage::cert_sign;
        }
    }
    std::string text = "critical";
    if (has(usage, KeyUsage::digital_signature)) {
        text += ",digitalSignature";
    }
    if (has(usage, KeyUsage::key_encipherment)) {
        text += ",keyEncipherment";
    }
    if (has(usage, KeyUsage::cert_sign)) {
        text += ",keyCertSign";
    }
    if (has(usage, KeyUsage::crl_sign)) {
        text += ",cRLSign";
    }
    return text;
}

util::Result<> validate_spec(const CertificateSpec& spec) {
    if (spec.common_name.empty()) {
        return util::fail(util::ErrorKind::usage, "certificate needs a common name");
    }
    if (spec.validity.count() <= 0) {
        return util::fail(util::ErrorKind::usage,
                          "certificate \"" + spec.common_name + "\" needs a positive validity");
    }
    for (const auto& ip : spec.ip_addresses) {
        std::array<unsigned char, 16> buffer{};
        if (inet_pton(AF_INET, ip.c_str(), buffer.data()) != 1 &&
            inet_pton(AF_INET6, ip.c_str(), buffer.data()) != 1) {
            return util::fail(util::ErrorKind::usage, "certificate \"" + spec.common_name + "\": \"" + ip +
                                                          "\" is not an IP address");
        }
    }
    for (const auto& dns : spec.dns_names) {
        if (dns.empty() || dns.find_first_of(", \t\r\n") != std::string::npos) {
            return util::fail(util::ErrorKind::usage,
                              "certificate \"" + spec.common_name + "\": \"" + dns + "\" is not a DNS name");
        }
    }
    return {};
}

// Builds and signs a certificate for `key`. `issuer` is null for a self-signed CA.
util::Result<X509Ptr> build_certificate(const CertificateSpec& spec, EVP_PKEY* key, bool is_ca,
                                        X509* issuer_cert, EVP_PKEY* issuer_key) {
    if (auto valid = validate_spec(spec); !valid) {
        return std::unexpected(valid.error());
    }
    X509Ptr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), 2) != 1) {
        return std::unexpected(openssl_error("allocating a certificate"));
    }
    BignumPtr serial(BN_new());
    if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
        BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
        return std::unexpected(openssl_error("choosing a serial number"));
    }
    std::time_t now = std::time(nullptr);
    if (X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, -static_cast<long>(spec.backdate.count()),
                         &now) == nullptr ||
        X509_time_adj_ex(X509_getm_notAfter(cert.get()), 0, static_cast<long>(spec.validity.count()), &now) ==
            nullptr) {
        return std::unexpected(openssl_error("setting the validity period"));
    }
    X509_NAME* subject = X509_get_subject_name(cert.get());
    for (const auto& org : spec.organizations) {
        if (X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(org.c_str()), -1, -1, 0) != 1) {
            return std::unexpected(openssl_error("setting organization \"" + org + "\""));
        }
    }
    if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1,
                                   0) != 1) {
        return std::unexpected(openssl_error("setting common name \"" + spec.common_name + "\""));
    }
    X509* signer = issuer_cert != nullptr ? issuer_cert : cert.get();
    if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1 ||
        X509_set_pubkey(cert.get(), key) != 1) {
        return std::unexpected(openssl_error("setting issuer and public key"));
    }

    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, signer, cert.get(), nullptr, nullptr, 0);
    std::vector<std::pair<int, std::string>> extensions = {
        {NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE"},
        {NID_key_usage, key_usage_text(spec.key_usage, is_ca)},
        {NID_subject_key_identifier, "hash"},
    };
    if (issuer_cert != nullptr) {
        extensions.emplace_back(NID_authority_key_identifier, "keyid:always");
    }
    if (!spec.ext_key_usage.empty()) {
        std::string text;
        for (auto usage : spec.ext_key_usage) {
            text += text.empty() ? "" : ",";
            text += usage == ExtKeyUsage::server_auth ? "serverAuth" : "clientAuth";
        }
        extensions.emplace_back(NID_ext_key_usage, text);
    }
    if (!spec.dns_names.empty() || !spec.ip_addresses.empty()) {
        std::string text;
        for (const auto& dns : spec.dns_names) {
            text += (text.empty() ? "DNS:" : ",DNS:") + dns;
        }
        for (const auto& ip : spec.ip_addresses) {
            text += (text.empty() ? "IP:" : ",IP:") + ip;
        }
        extensions.emplace_back(NID_subject_alt_name, text);
    }
    for (const auto& [nid, value] : extensions) {
        if (auto added = add_extension(cert.get(), &ctx, nid, value); !added) {
            return std::unexpected(added.error());
        }
    }
    if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) <= 0) {
        return std::unexpected(openssl_error("signing certificate \"" + spec.common_name + "\""));
    }
    return cert;
}

util::Result<KeyPair> to_key_pair(const X509& cert, const EVP_PKEY& key) {
    auto cert_pem = to_pem(cert);
    if (!cert_pem) {
        return std::unexpected(cert_pem.error());
    }
    auto key_pem = to_pem(key);
    if (!key_pem) {
        return std::unexpected(key_pem.error());
    }
    return KeyPair{std::move(*cert_pem), std::move(*key_pem)};
}

} // namespace

util::Result<KeyPair> generate_ca(const CertificateSpec& spec) {
    auto key = generate_key();
    if (!key) {
        return std::unexpected(key.error());
    }
    auto cert = build_certificate(spec, key->get(), true, nullptr, nullptr);
    if (!cert) {
        return std::unexpected(cert.error());
    }
    return to_key_pair(**cert, **key);
}

util::Result<KeyPair> generate_signed(const CertificateSpec& spec, const KeyPair& issuer) {
    auto issuer_cert = load_certificate(issuer.cert_pem);
    if (!issuer_cert) {
        return std::unexpected(issuer_cert.error().with_context("issuer certificate"));
    }
    auto issuer_key = load_private_key(issuer.key_pem);
    if (!issuer_key) {
        return std::unexpected(issuer_key.error().with_context("issuer key"));
    }
    if (X509_check_private_key(issuer_cert->get(), issuer_key->get()) != 1) {
        ERR_clear_error();
        return util::fail(util::ErrorKind::usage, "issuer key does not match the issuer certificate");
    }
    auto key = generate_key();
    if (!key) {
        return std::unexpected(key.error());
    }
    auto cert = build_certificate(spec, key->get(), false, issuer_cert->get(), issuer_key->get());
    if (!cert) {
        return std::unexpected(cert.error());
    }
    return to_key_pair(**cert, **key);
}

util::Result<CertificateInfo> describe(const X509& cert_ref) {
    // OpenSSL's getters take non-const pointers for historical reasons; none of them modify the certificate.
    X509* cert = const_cast<X509*>(&cert_ref);
    CertificateInfo info;
    auto cns = name_entries(X509_get_subject_name(cert), NID_commonName);
    info.subject_cn = cns.empty() ? "" : cns.back();
    info.subject_organizations = name_entries(X509_get_subject_name(cert), NID_organizationName);
    auto issuer_cns = name_entries(X509_get_issuer_name(cert), NID_commonName);
    info.issuer_cn = issuer_cns.empty() ? "" : issuer_cns.back();

    GeneralNamesPtr names(
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
        if (name->type == GEN_DNS) {
            info.dns_names.push_back(asn1_string_text(name->d.dNSName));
        } else if (name->type == GEN_IPADD) {
            const int length = ASN1_STRING_length(name->d.iPAddress);
            std::array<char, INET6_ADDRSTRLEN> text{};
            if ((length == 4 || length == 16) &&
                inet_ntop(length == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(name->d.iPAddress),
                          text.data(), text.size()) != nullptr) {
                info.ip_addresses.emplace_back(text.data());
            }
        }
    }
    auto not_before = to_time_point(X509_get0_notBefore(cert));
    auto not_after = to_time_point(X509_get0_notAfter(cert));
    if (!not_before || !not_after) {
        return std::unexpected(not_before ? not_after.error() : not_before.error());
    }
    info.not_before = *not_before;
    info.not_after = *not_after;
    info.subject_key_id = to_hex(X509_get0_subject_key_id(cert));
    info.authority_key_id = to_hex(X509_get0_authority_key_id(cert));
    info.is_ca = X509_check_ca(cert) > 0;
    ERR_clear_error();
    return info;
}

util::Result<CertificateInfo> parse_certificate(std::string_view pem) {
    auto cert = load_certificate(pem);
    if (!cert) {
        return std::unexpected(cert.error());
    }
    return describe(**cert);
}

util::Result<X509Ptr> load_certificate(std::string_view pem) {
    BioPtr bio = memory_bio(pem);
    X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!cert) {
        return std::unexpected(openssl_error("no PEM certificate found", util::ErrorKind::parse));
    }
    return cert;
}

util::Result<std::vector<X509Ptr>> load_certificates(std::string_view pem) {
    BioPtr bio = memory_bio(pem);
    std::vector<X509Ptr> certs;
    while (bio) {
        X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (!cert) {
            break;
        }
        certs.push_back(std::move(cert));
    }
    // Reaching the end of the buffer leaves a "no start line" error behind; it is not a failure.
    ERR_clear_error();
    if (certs.empty()) {
        return util::fail(util::ErrorKind::parse, "no PEM certificate found");
    }
    return certs;
}

util::Result<EvpPkeyPtr> load_private_key(std::string_view pem) {
    BioPtr bio = memory_bio(pem);
    EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key) {
        return std::unexpected(openssl_error("no PEM private key found", util::ErrorKind::parse));
    }
    return key;
}

util::Result<std::string> to_pem(const X509& cert) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), const_cast<X509*>(&cert)) != 1) {
        return std::unexpected(openssl_error("encoding a certificate as PEM"));
    }
    return bio_contents(bio.get());
}

util::Result<std::string> to_pem(const EVP_PKEY& key) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    const bool is_ec = EVP_PKEY_is_a(&key, "EC") == 1;
    EncoderCtxPtr encoder(OSSL_ENCODER_CTX_new_for_pkey(&key, EVP_PKEY_KEYPAIR, "PEM",
                                                        is_ec ? "type-specific" : "PrivateKeyInfo", nullptr));
    if (!bio || !encoder || OSSL_ENCODER_to_bio(encoder.get(), bio.get()) != 1) {
        return std::unexpected(openssl_error("encoding a private key as PEM"));
    }
    return bio_contents(bio.get());
}

util::Result<bool> key_matches_certificate(std::string_view cert_pem, std::string_view key_pem) {
    auto cert = load_certificate(cert_pem);
    if (!cert) {
        return std::unexpected(cert.error());
    }
    auto key = load_private_key(key_pem);
    if (!key) {
        return std::unexpected(key.error());
    }
    const bool matches = EVP_PKEY_eq(X509_get0_pubkey(cert->get()), key->get()) == 1;
    ERR_clear_error();
    return matches;
}

util::Result<> verify_chain(std::string_view cert_pem, std::string_view ca_pem) {
    auto cert = load_certificate(cert_pem);
    if (!cert) {
        return std::unexpected(cert.error().with_context("certificate"));
    }
    auto cas = load_certificates(ca_pem);
    if (!cas) {
        return std::unexpected(cas.error().with_context("CA bundle"));
    }
    X509StorePtr store(X509_STORE_new());
    X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!store || !ctx) {
        return std::unexpected(openssl_error("allocating a certificate store"));
    }
    for (const auto& ca : *cas) {
        if (X509_STORE_add_cert(store.get(), ca.get()) != 1) {
            return std::unexpected(openssl_error("adding a CA certificate"));
        }
    }
    if (X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr) != 1) {
        return std::unexpected(openssl_error("preparing verification"));
    }
    if (X509_verify_cert(ctx.get()) != 1) {
        const int code = X509_STORE_CTX_get_error(ctx.get());
        ERR_clear_error();
        auto info = describe(**cert);
        const std::string name = info ? info->subject_cn : std::string("?");
        return util::fail(util::ErrorKind::tls, "certificate \"" + name + "\" does not verify: " +
                                                    X509_verify_cert_error_string(code));
    }
    return {};
}

} // namespace meshlink::kube::pki
