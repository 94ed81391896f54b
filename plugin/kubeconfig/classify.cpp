#include "plugin/kubeconfig/classify.hpp"

#include "kube/pki.hpp"
#include "plugin/defaults.hpp"
#include "util/file.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

namespace meshlink::plugin::kubeconfig {
namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

ServerClass classify_ipv4(const in_addr& address) {
    const std::uint32_t ip = ntohl(address.s_addr);
    auto in = [ip](std::uint32_t network, int bits) {
        const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
        return (ip & mask) == network;
    };
    if (in(0x7F000000, 8) || ip == 0) {
        return ServerClass::loopback; // 0.0.0.0 connects to this host too
    }
    if (in(0xA9FE0000, 16)) {
        return ServerClass::link_local;
    }
    if (in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x64400000, 10)) {
        return ServerClass::private_network;
    }
    return ServerClass::public_network;
}

ServerClass classify_ipv6(const in6_addr& address) {
    const unsigned char* b = address.s6_addr;
    static constexpr std::array<unsigned char, 16> k_loopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr std::array<unsigned char, 16> k_any{};
    if (std::equal(k_loopback.begin(), k_loopback.end(), b) || std::equal(k_any.begin(), k_any.end(), b)) {
        return ServerClass::loopback;
    }
    // IPv4-mapped ::ffff:a.b.c.d
    static constexpr std::array<unsigned char, 12> k_mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(k_mapped.begin(), k_mapped.end(), b)) {
        in_addr v4{};
        std::memcpy(&v4.s_addr, b + 12, 4);
        return classify_ipv4(v4);
    }
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
        return ServerClass::link_local;
    }
    if ((b[0] & 0xfe) == 0xfc) {
        return ServerClass::private_network;
    }
    return ServerClass::public_network;
}

util::Result<std::string> read_text_file(const std::string& path) {
    auto text = util::read_file(path);
    if (!text) {
        return util::fail(text.error().kind(), path + ": " + text.error().reason());
    }
    return std::move(*text);
}

} // namespace

std::string_view to_string(ServerClass server_class) {
    switch (server_class) {
    case ServerClass::loopback:
        return "loopback";
    case ServerClass::link_local:
        return "link-local";
    case ServerClass::private_network:
        return "private";
    case ServerClass::public_network:
        return "public";
    case ServerClass::cluster_internal:
        return "cluster-internal";
    case ServerClass::dns_name:
        return "dns-name";
    case ServerClass::invalid:
        return "invalid";
    }
    return "invalid";
}

std::string server_host(std::string_view server) {
    const std::size_t scheme = server.find("://");
    if (scheme == std::string_view::npos) {
        return {};
    }
    std::string_view rest = server.substr(scheme + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
        rest.remove_prefix(at + 1);
    }
    if (rest.starts_with('[')) {
        const std::size_t close = rest.find(']');
        return close == std::string_view::npos ? std::string() : std::string(rest.substr(1, close - 1));
    }
    return std::string(rest.substr(0, rest.find(':')));
}

ServerClass classify_server(std::string_view server) {
    const std::string scheme = lower(server.substr(0, server.find("://")));
    if (server.find("://") == std::string_view::npos || (scheme != "https" && scheme != "http")) {
        return ServerClass::invalid;
    }
    std::string host = lower(server_host(server));
    if (host.empty()) {
        return ServerClass::invalid;
    }
    in_addr v4{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
        return classify_ipv4(v4);
    }
    in6_addr v6{};
    if (::inet_pton(AF_INET6, host.substr(0, host.find('%')).c_str(), &v6) == 1) {
        return classify_ipv6(v6);
    }
    if (host.ends_with('.')) {
        host.pop_back();
    }
    if (host == "localhost" || host.ends_with(".localhost")) {
        return ServerClass::loopback;
    }
    // Names only a cluster's DNS answers: the API server's own service and anything under svc/cluster.local.
    if (host == "kubernetes" || host == "kubernetes.default" || host.ends_with(".svc") ||
        host.find(".svc.") != std::string::npos || host.ends_with(".cluster.local") ||
        host == "cluster.local") {
        return ServerClass::cluster_internal;
    }
    return ServerClass::dns_name;
}

bool reachable_only_locally(ServerClass server_class) {
    return server_class == ServerClass::loopback || server_class == ServerClass::link_local ||
           server_class == ServerClass::cluster_internal;
}

AuthSummary classify_auth(const kube::AuthInfo& user) {
    AuthSummary summary;
    if (!user.client_certificate.empty() || !user.client_certificate_data.empty()) {
        summary.kind = AuthKind::client_cert;
        summary.label = "client-cert";
    } else if (!user.token.empty()) {
        summary.kind = AuthKind::token;
        summary.label = "token";
    } else if (!user.token_file.empty()) {
        summary.kind = AuthKind::token_file;
        summary.label = "token-file";
        summary.portable = false;
        summary.why_not = "reads its token from " + user.token_file + " on this machine";
    } else if (!user.username.empty() || !user.password.empty()) {
        summary.kind = AuthKind::basic;
        summary.label = "basic";
    } else if (user.exec) {
        summary.kind = AuthKind::exec;
        const std::string& command = user.exec->command;
        const std::size_t slash = command.rfind('/');
        summary.label = "exec:" + (slash == std::string::npos ? command : command.substr(slash + 1));
        summary.portable = false;
        summary.why_not = "runs " + command + " to get credentials, which needs that program and its login";
    } else if (!user.auth_provider.empty()) {
        summary.kind = AuthKind::auth_provider;
        summary.label = "auth-provider:" + user.auth_provider;
        summary.portable = false;
        summary.why_not =
            "uses the " + user.auth_provider + " auth-provider, which depends on this machine's login";
    } else {
        summary.kind = AuthKind::none;
        summary.label = "none";
    }
    return summary;
}

util::Result<CertificateExpiry> certificate_expiry(std::string_view pem,
                                                   std::chrono::system_clock::time_point now) {
    auto info = kube::pki::parse_certificate(pem);
    if (!info) {
        return std::unexpected(info.error());
    }
    CertificateExpiry expiry;
    expiry.not_after = info->not_after;
    expiry.remaining = std::chrono::floor<std::chrono::days>(info->not_after - now);
    expiry.expired = info->not_after <= now;
    expiry.expiring_soon = !expiry.expired && info->not_after - now <= defaults::k_certificate_expiry_warning;
    return expiry;
}

util::Result<std::optional<std::string>> certificate_pem(const std::string& data, const std::string& path) {
    if (!data.empty()) {
        return std::optional<std::string>(data);
    }
    if (path.empty()) {
        return std::optional<std::string>();
    }
    auto text = read_text_file(path);
    if (!text) {
        return std::unexpected(text.error());
    }
    return std::optional<std::string>(std::move(*text));
}

} // namespace meshlink::plugin::kubeconfig
