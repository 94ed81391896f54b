#pragma once
// What preflight, join, export and list need to know about a kubeconfig entry before relying on it elsewhere:
// where its server is reachable from, whether its credentials work on another machine, when its
// certificates expire.

#include "kube/kubeconfig.hpp"
#include "util/error.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace meshlink::plugin::kubeconfig {

enum class ServerClass {
    loopback,         // 127.0.0.0/8, ::1, localhost: this machine only
    link_local,       // 169.254.0.0/16, fe80::/10
    private_network,  // RFC 1918, 100.64.0.0/10 (CGNAT), fc00::/7
    public_network,   // any other IP address
    cluster_internal, // kubernetes, *.svc, *.cluster.local: resolvable inside a cluster only
    dns_name,         // another host name (not resolved here)
    invalid,          // not an http(s) URL with a host
};
std::string_view to_string(ServerClass server_class); // "loopback", "link-local", "private", ...

// The host of a kubeconfig `server` URL, without brackets or port ("" when there is none).
std::string server_host(std::string_view server);

// Classifies a kubeconfig `server` URL by its host.
ServerClass classify_server(std::string_view server);

// True for servers a peer cluster or another machine cannot reach as written: loopback, link-local and
// cluster-internal names.
bool reachable_only_locally(ServerClass server_class);

enum class AuthKind { client_cert, token, token_file, basic, exec, auth_provider, none };

struct AuthSummary {
    AuthKind kind = AuthKind::none;
    std::string
        label; // client-cert | token | token-file | basic | exec:<command> | auth-provider:<name> | none
    bool portable = true; // works on another machine once certificates are inlined
    std::string why_not;  // for messages when not portable
};

// The credential client-go would use (client certificate, then token, token file, basic auth, exec,
// auth-provider) and whether it can be copied to another machine: exec plugins, token files and
// auth-providers depend on this machine's programs, files and logins.
AuthSummary classify_auth(const kube::AuthInfo& user);

struct CertificateExpiry {
    std::chrono::system_clock::time_point not_after;
    std::chrono::days remaining{0}; // whole days left; negative when expired
    bool expired = false;
    bool expiring_soon = false; // expires within the warning window (30 days)
};

// Reads the first certificate of `pem` and compares its notAfter with `now`.
util::Result<CertificateExpiry> certificate_expiry(std::string_view pem,
                                                   std::chrono::system_clock::time_point now);

// The PEM of a certificate given inline (*-data) or by path; nullopt when the entry has neither. A path
// that cannot be read is an error naming it.
util::Result<std::optional<std::string>> certificate_pem(const std::string& data, const std::string& path);

} // namespace meshlink::plugin::kubeconfig
