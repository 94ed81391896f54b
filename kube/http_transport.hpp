#pragma once
// One HTTP exchange with an API server over libcurl (internal to kube/; callers use kube/client.hpp):
// the URL and TLS name, TLS material handed over in memory, proxy, timeouts, headers, -v 7/8 logging, and
// what a failed exchange means for the user and for the retry policy.

#include "kube/auth.hpp"
#include "kube/client.hpp"
#include "kube/curl.hpp"
#include "kube/rest_config.hpp"
#include "kube/retry.hpp"
#include "util/error.hpp"

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace meshlink::kube::detail {

std::string ascii_lower(std::string_view text);

// "?a=1&b=x%20y" (percent-encoded), "" for no parameters.
std::string build_query(const Query& query);

// What one attempt produced: a response, or a libcurl failure.
struct Exchange {
    CURLcode code = CURLE_OK;
    std::string curl_detail;     // libcurl's error text when code != CURLE_OK (URL credentials redacted)
    bool body_too_large = false; // the body passed RestConfig::max_response_bytes: reading stopped there
    Response response;
    std::chrono::steady_clock::duration elapsed{};
};

// The parts of the server URL a connection needs.
struct ServerUrl {
    std::string scheme;    // "https"
    std::string host;      // without IPv6 brackets
    std::string authority; // host[:port] as written, for the Host header
    int port = 443;
    std::string prefix; // path prefix, "" or "/something"
};

util::Result<ServerUrl> parse_server_url(const std::string& server);

// Where the system's trust anchors are, for servers whose kubeconfig names no CA: found at run time in the
// places Go's crypto/x509 looks (kubectl's behaviour), because a release binary carries its own OpenSSL and
// libcurl with no compiled-in path (docs/release-build.md). Files: $SSL_CERT_FILE alone when set, else the
// first that exists of Debian/Ubuntu/Arch, RHEL/Fedora, openSUSE, OpenELEC, RHEL's extracted bundle, Alpine;
// directories: $SSL_CERT_DIR (colon-separated) when set, else those of /etc/ssl/certs and /etc/pki/tls/certs
// that exist.
struct SystemTrust {
    std::string file;        // "" when none exists
    std::string directories; // colon-separated, as OpenSSL's CAPATH takes them; "" when none
};
SystemTrust find_system_trust();

// Sends requests to one server, keeping connections in a pool of libcurl handles. Thread-safe.
class HttpTransport {
public:
    static util::Result<std::unique_ptr<HttpTransport>> create(const RestConfig& config);

    // Sends `request` once with `credentials`; never retries.
    Exchange perform(const Request& request, const RequestAuth& credentials);

    // The user-facing error and the retry class of a failed exchange (code != CURLE_OK).
    [[nodiscard]] std::pair<TransportFailure, util::Error> failure(const Request& request,
                                                                   const Exchange& exchange) const;

    // The full URL for messages and logs: the real server, whatever name TLS verifies.
    [[nodiscard]] std::string display_url(const Request& request) const;

    // Logs a body at -v 8 (redacted; truncated below -v 9).
    void log_body(std::string_view label, std::string_view path, std::string_view body) const;

private:
    HttpTransport() = default;
    void set_tls_options(curl::Options& options, const RequestAuth& credentials) const;
    void set_proxy_options(curl::Options& options) const;

    RestConfig m_config;
    ServerUrl m_server;
    std::string m_base_url;     // what curl is given: the TLS server name replaces the host when set
    std::string m_connect_to;   // "name:port:host:port" when the TLS server name differs from the host
    SystemTrust m_system_trust; // used when the kubeconfig names no CA
    std::unique_ptr<curl::Share> m_share; // declared before the pool: handles must go first
    curl::HandlePool m_pool;
};

} // namespace meshlink::kube::detail
