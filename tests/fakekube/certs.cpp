#include "tests/fakekube/certs.hpp"

#include "util/base64.hpp"
#include "util/fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>

namespace meshlink::fakekube {

namespace pki = kube::pki;

util::Result<ClusterCredentials> make_credentials(const std::string& name, const std::string& host) {
    pki::CertificateSpec ca_spec;
    ca_spec.common_name = "fakekube-ca-" + name;
    ca_spec.validity = std::chrono::hours(24 * 365 * 10);
    auto ca = pki::generate_ca(ca_spec);
    if (!ca) {
        return std::unexpected(ca.error().with_context("fakekube CA"));
    }
    pki::CertificateSpec serving_spec;
    serving_spec.common_name = "kube-apiserver";
    serving_spec.dns_names = {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"};
    serving_spec.ip_addresses = {"127.0.0.1"};
    if (host != "127.0.0.1" && host != "localhost") {
        serving_spec.ip_addresses.push_back(host);
    }
    serving_spec.ext_key_usage = {pki::ExtKeyUsage::server_auth};
    auto serving = pki::generate_signed(serving_spec, *ca);
    if (!serving) {
        return std::unexpected(serving.error().with_context("fakekube serving certificate"));
    }
    pki::CertificateSpec admin_spec;
    admin_spec.common_name = "admin";
    admin_spec.organizations = {"system:masters"};
    admin_spec.ext_key_usage = {pki::ExtKeyUsage::client_auth};
    auto admin = pki::generate_signed(admin_spec, *ca);
    if (!admin) {
        return std::unexpected(admin.error().with_context("fakekube admin certificate"));
    }
    return ClusterCredentials{std::move(*ca), std::move(*serving), std::move(*admin)};
}

util::Result<> write_kubeconfig(const std::string& path, const std::string& name,
                                const std::string& server_url, const ClusterCredentials& credentials) {
    YAML::Emitter out;
    out << YAML::BeginMap;
    out << YAML::Key << "apiVersion" << YAML::Value << "v1";
    out << YAML::Key << "kind" << YAML::Value << "Config";
    out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << name;
    out << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "server" << YAML::Value << server_url;
    out << YAML::Key << "certificate-authority-data" << YAML::Value
        << util::base64_encode(credentials.ca.cert_pem);
    out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
    out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << name;
    out << YAML::Key << "user" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "client-certificate-data" << YAML::Value
        << util::base64_encode(credentials.admin.cert_pem);
    out << YAML::Key << "client-key-data" << YAML::Value << util::base64_encode(credentials.admin.key_pem);
    out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
    out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << name;
    out << YAML::Key << "context" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "cluster" << YAML::Value << name;
    out << YAML::Key << "user" << YAML::Value << name;
    out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
    out << YAML::Key << "current-context" << YAML::Value << name;
    out << YAML::Key << "preferences" << YAML::Value << YAML::BeginMap << YAML::EndMap;
    out << YAML::EndMap;
    std::string text = std::string(out.c_str()) + "\n";

    const std::string temp = path + ".tmp." + std::to_string(::getpid());
    util::Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd) {
        return util::fail(util::ErrorKind::io, temp + ": " + std::strerror(errno));
    }
    size_t written = 0;
    while (written < text.size()) {
        ssize_t n = ::write(fd.get(), text.data() + written, text.size() - written);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            const std::string why = std::strerror(errno);
            ::unlink(temp.c_str());
            return util::fail(util::ErrorKind::io, temp + ": " + why);
        }
        written += static_cast<size_t>(n);
    }
    if (::fchmod(fd.get(), 0600) != 0 || ::fsync(fd.get()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(temp.c_str());
        return util::fail(util::ErrorKind::io, temp + ": " + why);
    }
    fd.reset();
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(temp.c_str());
        return util::fail(util::ErrorKind::io, path + ": " + why);
    }
    return {};
}

} // namespace meshlink::fakekube
