// kube/pki checked against the real `openssl` command: what the library writes must verify and read back
// in openssl exactly as asked, and what openssl writes must parse the same in the library.
#include "kube/pki.hpp"

#include <boost/test/unit_test.hpp>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <memory>
#include <sstream>
#include <string>

namespace pki = meshlink::kube::pki;
namespace fs = std::filesystem;

namespace {

struct PipeCloser {
    int* status;
    void operator()(FILE* pipe) const noexcept { *status = pclose(pipe); }
};

struct CommandResult {
    int exit_code = -1;
    std::string output; // stdout and stderr
};

CommandResult run(const std::string& command) {
    CommandResult result;
    int status = -1;
    {
        std::unique_ptr<FILE, PipeCloser> pipe(popen((command + " 2>&1").c_str(), "r"), PipeCloser{&status});
        BOOST_TEST_REQUIRE(pipe != nullptr, command);
        std::array<char, 4096> buffer{};
        while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe.get())) {
            result.output.append(buffer.data(), n);
        }
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

// A scratch directory removed at the end of each test.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "meshlink-pki-XXXXXX").string();
        BOOST_TEST_REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    std::string write(const std::string& name, const std::string& content) const {
        std::ofstream(path / name, std::ios::binary) << content;
        return (path / name).string();
    }
    std::string read(const std::string& name) const {
        std::ifstream in(path / name, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }
};

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

pki::KeyPair make_ca(const std::string& cn) {
    pki::CertificateSpec spec;
    spec.common_name = cn;
    spec.organizations = {"meshlink tests"};
    auto ca = pki::generate_ca(spec);
    BOOST_TEST_REQUIRE(ca.has_value(), (ca ? "" : ca.error().message));
    return *ca;
}

pki::KeyPair make_server(const pki::KeyPair& ca) {
    pki::CertificateSpec spec;
    spec.common_name = "clustermesh-apiserver";
    spec.dns_names = {"cluster1.mesh.cilium.io", "localhost"};
    spec.ip_addresses = {"127.0.0.1", "fd00::1"};
    spec.ext_key_usage = {pki::ExtKeyUsage::server_auth, pki::ExtKeyUsage::client_auth};
    spec.validity = std::chrono::hours(48);
    auto leaf = pki::generate_signed(spec, ca);
    BOOST_TEST_REQUIRE(leaf.has_value(), (leaf ? "" : leaf.error().message));
    return *leaf;
}

// "notAfter=Jan  2 03:04:05 2030 GMT" -> time_point, as openssl prints it.
std::chrono::system_clock::time_point openssl_date(const std::string& line) {
    std::tm tm{};
    std::istringstream in(line.substr(line.find('=') + 1));
    in >> std::get_time(&tm, "%b %d %H:%M:%S %Y");
    BOOST_TEST_REQUIRE(!in.fail(), line);
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string strip_hex(std::string text) {
    std::string out;
    for (char c : text) {
        if (std::isxdigit(static_cast<unsigned char>(c)) != 0) {
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(pki_against_openssl)

BOOST_AUTO_TEST_CASE(ca_is_a_p256_ca_in_openssl_eyes) {
    TempDir dir;
    auto ca = make_ca("meshlink-test-ca");
    auto path = dir.write("ca.pem", ca.cert_pem);
    auto text = run("openssl x509 -noout -text -in " + path);
    BOOST_TEST_REQUIRE(text.exit_code == 0, text.output);
    BOOST_TEST(contains(text.output, "CA:TRUE"));
    BOOST_TEST(contains(text.output, "Certificate Sign"));
    BOOST_TEST(contains(text.output, "prime256v1"));
    BOOST_TEST(contains(text.output, "ecdsa-with-SHA256"));
    auto subject = run("openssl x509 -noout -subject -nameopt RFC2253 -in " + path);
    BOOST_TEST(contains(subject.output, "CN=meshlink-test-ca,O=meshlink tests"), subject.output);
    // A self-signed CA verifies against itself.
    auto verify = run("openssl verify -CAfile " + path + " " + path);
    BOOST_TEST(verify.exit_code == 0, verify.output);
    // And the key is a valid EC key to openssl.
    auto key = run("openssl pkey -check -noout -in " + dir.write("ca.key", ca.key_pem));
    BOOST_TEST(key.exit_code == 0, key.output);
}

BOOST_AUTO_TEST_CASE(leaf_verifies_with_openssl_and_carries_sans_and_usages) {
    TempDir dir;
    auto ca = make_ca("meshlink-test-ca");
    auto leaf = make_server(ca);
    auto ca_path = dir.write("ca.pem", ca.cert_pem);
    auto leaf_path = dir.write("leaf.pem", leaf.cert_pem);

    auto verify = run("openssl verify -purpose sslserver -CAfile " + ca_path + " " + leaf_path);
    BOOST_TEST(verify.exit_code == 0, verify.output);
    BOOST_TEST(contains(verify.output, leaf_path + ": OK"), verify.output);
    auto client = run("openssl verify -purpose sslclient -CAfile " + ca_path + " " + leaf_path);
    BOOST_TEST(client.exit_code == 0, client.output);

    auto san = run("openssl x509 -noout -ext subjectAltName -in " + leaf_path);
    BOOST_TEST(contains(san.output, "DNS:cluster1.mesh.cilium.io"), san.output);
    BOOST_TEST(contains(san.output, "DNS:localhost"), san.output);
    BOOST_TEST(contains(san.output, "IP Address:127.0.0.1"), san.output);
    BOOST_TEST(contains(san.output, "IP Address:FD00:0:0:0:0:0:0:1"), san.output);
    auto eku = run("openssl x509 -noout -ext extendedKeyUsage,keyUsage,basicConstraints -in " + leaf_path);
    BOOST_TEST(contains(eku.output, "TLS Web Server Authentication"), eku.output);
    BOOST_TEST(contains(eku.output, "TLS Web Client Authentication"), eku.output);
    BOOST_TEST(contains(eku.output, "Digital Signature"), eku.output);
    BOOST_TEST(contains(eku.output, "CA:FALSE"), eku.output);
    BOOST_TEST(!contains(eku.output, "Certificate Sign"), eku.output);

    // The authority key id of the leaf is the CA's subject key id, as openssl reads them.
    auto ca_skid = run("openssl x509 -noout -ext subjectKeyIdentifier -in " + ca_path);
    auto leaf_akid = run("openssl x509 -noout -ext authorityKeyIdentifier -in " + leaf_path);
    auto skid_hex = strip_hex(ca_skid.output.substr(ca_skid.output.find('\n')));
    BOOST_TEST(skid_hex.size() == 40U, ca_skid.output);
    BOOST_TEST(contains(strip_hex(leaf_akid.output.substr(leaf_akid.output.find('\n'))), skid_hex),
               leaf_akid.output);
}

BOOST_AUTO_TEST_CASE(client_certificate_only_has_client_auth) {
    TempDir dir;
    auto ca = make_ca("ca");
    pki::CertificateSpec spec;
    spec.common_name = "admin";
    spec.organizations = {"system:masters"};
    spec.ext_key_usage = {pki::ExtKeyUsage::client_auth};
    auto leaf = pki::generate_signed(spec, ca);
    BOOST_TEST_REQUIRE(leaf.has_value());
    auto ca_path = dir.write("ca.pem", ca.cert_pem);
    auto leaf_path = dir.write("leaf.pem", leaf->cert_pem);
    BOOST_TEST(run("openssl verify -purpose sslclient -CAfile " + ca_path + " " + leaf_path).exit_code == 0);
    BOOST_TEST(run("openssl verify -purpose sslserver -CAfile " + ca_path + " " + leaf_path).exit_code != 0);
    auto subject = run("openssl x509 -noout -subject -nameopt RFC2253 -in " + leaf_path);
    BOOST_TEST(contains(subject.output, "CN=admin,O=system:masters"), subject.output);
}

BOOST_AUTO_TEST_CASE(validity_matches_openssl_dates) {
    TempDir dir;
    auto ca = make_ca("ca");
    auto leaf = make_server(ca); // 48 h, backdated 5 min
    auto dates = run("openssl x509 -noout -startdate -enddate -in " + dir.write("leaf.pem", leaf.cert_pem));
    std::istringstream lines(dates.output);
    std::string start_line;
    std::string end_line;
    std::getline(lines, start_line);
    std::getline(lines, end_line);
    auto start = openssl_date(start_line);
    auto end = openssl_date(end_line);
    BOOST_TEST(std::chrono::duration_cast<std::chrono::seconds>(end - start).count() == 48 * 3600 + 300);
    auto info = pki::parse_certificate(leaf.cert_pem);
    BOOST_TEST_REQUIRE(info.has_value());
    BOOST_TEST((info->not_before == start));
    BOOST_TEST((info->not_after == end));
}

BOOST_AUTO_TEST_CASE(parses_a_certificate_openssl_made) {
    TempDir dir;
    auto ca_key = dir.path / "ca.key";
    auto ca_cert = dir.path / "ca.pem";
    auto made = run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3 -subj "
                    "'/O=Acme/CN=Acme Root'"
                    " -keyout " +
                    ca_key.string() + " -out " + ca_cert.string());
    BOOST_TEST_REQUIRE(made.exit_code == 0, made.output);
    auto leaf_key = dir.path / "leaf.key";
    auto leaf_csr = dir.path / "leaf.csr";
    auto leaf_cert = dir.path / "leaf.pem";
    made = run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=etcd-peer'"
               " -keyout " +
               leaf_key.string() + " -out " + leaf_csr.string());
    BOOST_TEST_REQUIRE(made.exit_code == 0, made.output);
    auto ext = dir.write("ext.cnf", "subjectAltName=DNS:peer.example,IP:10.0.0.7\nsubjectKeyIdentifier=hash\n"
                                    "authorityKeyIdentifier=keyid\n");
    made = run("openssl x509 -req -in " + leaf_csr.string() + " -CA " + ca_cert.string() + " -CAkey " +
               ca_key.string() + " -CAcreateserial -days 2 -extfile " + ext + " -out " + leaf_cert.string());
    BOOST_TEST_REQUIRE(made.exit_code == 0, made.output);

    auto info = pki::parse_certificate(dir.read("leaf.pem"));
    BOOST_TEST_REQUIRE(info.has_value(), (info ? "" : info.error().message));
    BOOST_TEST(info->subject_cn == "etcd-peer");
    BOOST_TEST(info->issuer_cn == "Acme Root");
    BOOST_TEST((info->dns_names == std::vector<std::string>{"peer.example"}));
    BOOST_TEST((info->ip_addresses == std::vector<std::string>{"10.0.0.7"}));
    BOOST_TEST(!info->is_ca);
    auto skid = run("openssl x509 -noout -ext subjectKeyIdentifier -in " + leaf_cert.string());
    BOOST_TEST(info->subject_key_id == strip_hex(skid.output.substr(skid.output.find('\n'))));
    auto end = run("openssl x509 -noout -enddate -in " + leaf_cert.string());
    BOOST_TEST((info->not_after == openssl_date(end.output)));

    auto ca_info = pki::parse_certificate(dir.read("ca.pem"));
    BOOST_TEST_REQUIRE(ca_info.has_value());
    BOOST_TEST(ca_info->is_ca);
    BOOST_TEST((ca_info->subject_organizations == std::vector<std::string>{"Acme"}));

    BOOST_TEST(pki::verify_chain(dir.read("leaf.pem"), dir.read("ca.pem")).has_value());
    BOOST_TEST(pki::key_matches_certificate(dir.read("leaf.pem"), dir.read("leaf.key")).value());
    BOOST_TEST(!pki::key_matches_certificate(dir.read("leaf.pem"), dir.read("ca.key")).value());
}

BOOST_AUTO_TEST_CASE(chain_to_another_ca_fails_in_both) {
    TempDir dir;
    auto ca = make_ca("ca-one");
    auto other = make_ca("ca-two");
    auto leaf = make_server(ca);
    auto verify = run("openssl verify -CAfile " + dir.write("other.pem", other.cert_pem) + " " +
                      dir.write("leaf.pem", leaf.cert_pem));
    BOOST_TEST(verify.exit_code != 0, verify.output);
    auto ours = pki::verify_chain(leaf.cert_pem, other.cert_pem);
    BOOST_TEST_REQUIRE(!ours.has_value());
    BOOST_TEST(contains(ours.error().message, "clustermesh-apiserver"), ours.error().message);
    // A bundle holding the right CA verifies.
    BOOST_TEST(pki::verify_chain(leaf.cert_pem, other.cert_pem + ca.cert_pem).has_value());
}

BOOST_AUTO_TEST_CASE(key_matching_agrees_with_openssl_public_keys) {
    TempDir dir;
    auto ca = make_ca("ca");
    auto leaf = make_server(ca);
    auto from_cert = run("openssl x509 -noout -pubkey -in " + dir.write("leaf.pem", leaf.cert_pem));
    auto from_key = run("openssl pkey -pubout -in " + dir.write("leaf.key", leaf.key_pem));
    BOOST_TEST_REQUIRE(from_cert.exit_code == 0);
    BOOST_TEST(from_cert.output == from_key.output);
    BOOST_TEST(pki::key_matches_certificate(leaf.cert_pem, leaf.key_pem).value());
    BOOST_TEST(!pki::key_matches_certificate(leaf.cert_pem, ca.key_pem).value());
    // SEC1 key as Go's x509.MarshalECPrivateKey writes it, which openssl reads as an EC key.
    BOOST_TEST(contains(leaf.key_pem, "-----BEGIN EC PRIVATE KEY-----"));
}

BOOST_AUTO_TEST_CASE(pem_round_trip_and_garbage) {
    auto ca = make_ca("ca");
    auto cert = pki::load_certificate(ca.cert_pem);
    BOOST_TEST_REQUIRE(cert.has_value());
    BOOST_TEST(pki::to_pem(**cert).value() == ca.cert_pem);
    auto key = pki::load_private_key(ca.key_pem);
    BOOST_TEST_REQUIRE(key.has_value());
    BOOST_TEST(pki::to_pem(**key).value() == ca.key_pem);
    BOOST_TEST(!pki::load_certificate("not a certificate").has_value());
    BOOST_TEST(!pki::load_private_key(ca.cert_pem).has_value());
    BOOST_TEST(pki::load_certificates(ca.cert_pem + make_ca("b").cert_pem).value().size() == 2U);
}

BOOST_AUTO_TEST_CASE(bad_specs_are_refused) {
    auto ca = make_ca("ca");
    pki::CertificateSpec spec;
    BOOST_TEST(!pki::generate_ca(spec).has_value()); // no CN
    spec.common_name = "x";
    spec.ip_addresses = {"300.1.1.1"};
    auto bad_ip = pki::generate_signed(spec, ca);
    BOOST_TEST_REQUIRE(!bad_ip.has_value());
    BOOST_TEST(contains(bad_ip.error().message, "300.1.1.1"));
    spec.ip_addresses.clear();
    BOOST_TEST(!pki::generate_signed(spec, pki::KeyPair{ca.cert_pem, make_ca("other").key_pem}).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
