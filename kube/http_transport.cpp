#include "kube/http_transport.hpp"

#include "kube/redact.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace meshlink::kube::detail {
namespace {

constexpr std::string_view k_json = "application/json";
// Go's default dialer gives up on a TCP connect after 30 s; a shorter request timeout wins.
constexpr auto k_connect_timeout = std::chrono::seconds(30);
// -v 8 shows this much of a body, -v 9 all of it (as kubectl truncates at 8).
constexpr std::size_t k_logged_body_chars = 10 * 1024;

std::string bracket(const std::string& host) {
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// "512 MiB", or "1000 bytes" for a limit that is not whole MiB.
std::string byte_size(std::size_t bytes) {
    constexpr std::size_t k_mib = std::size_t{1} << 20U;
    return bytes % k_mib == 0 ? fmt::format("{} MiB", bytes / k_mib) : fmt::format("{} bytes", bytes);
}

// Where a response body goes, and how much of it is accepted.
struct BodySink {
    std::string* body = nullptr;
    std::size_t limit = 0;
    bool exceeded = false;
};

size_t write_body(char* data, size_t size, size_t count, void* user) {
    auto* sink = static_cast<BodySink*>(user);
    if (sink->body->size() + size * count > sink->limit) {
        sink->exceeded = true;
        return 0; // libcurl stops the transfer (CURLE_WRITE_ERROR)
    }
    sink->body->append(data, size * count);
    return size * count;
}

size_t write_header(char* data, size_t size, size_t count, void* user) {
    auto* headers = static_cast<Headers*>(user);
    std::string_view line(data, size * count);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.remove_suffix(1);
    }
    if (line.starts_with("HTTP/")) {
        headers->clear(); // a new response (after 100 Continue or a proxy's CONNECT answer)
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
            value.remove_prefix(1);
        }
        headers->emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    return size * count;
}

// Go's crypto/x509 (root_linux.go) certificate files and directories, in its order.
constexpr std::string_view k_ca_files[] = {
    "/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
    "/etc/ssl/ca-bundle.pem",                            // openSUSE
    "/etc/pki/tls/cacert.pem",                           // OpenELEC
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7+
    "/etc/ssl/cert.pem",                                 // Alpine
};
constexpr std::string_view k_ca_directories[] = {"/etc/ssl/certs", "/etc/pki/tls/certs"};

bool is_file(const std::string& path) {
    std::error_code ignored;
    return !path.empty() && std::filesystem::is_regular_file(path, ignored);
}

bool is_directory(const std::string& path) {
    std::error_code ignored;
    return !path.empty() && std::filesystem::is_directory(path, ignored);
}

} // namespace

SystemTrust find_system_trust() {
    SystemTrust trust;
    if (const char* file = std::getenv("SSL_CERT_FILE"); file != nullptr && *file != '\0') {
        trust.file = is_file(file) ? file : "";
    } else {
        for (auto candidate : k_ca_files) {
            if (is_file(std::string(candidate))) {
                trust.file = candidate;
                break;
            }
        }
    }
    std::vector<std::string> directories;
    if (const char* dirs = std::getenv("SSL_CERT_DIR"); dirs != nullptr && *dirs != '\0') {
        std::string_view rest(dirs);
        while (!rest.empty()) {
            auto colon = rest.find(':');
            directories.emplace_back(rest.substr(0, colon));
            rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
        }
    } else {
        directories.assign(std::begin(k_ca_directories), std::end(k_ca_directories));
    }
    for (const auto& directory : directories) {
        if (is_directory(directory)) {
            trust.directories += (trust.directories.empty() ? "" : ":") + directory;
        }
    }
    return trust;
}

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string build_query(const Query& query) {
    std::string text;
    for (const auto& [name, value] : query) {
        text += text.empty() ? "?" : "&";
        text += url_encode(name) + "=" + url_encode(value);
    }
    return text;
}

util::Result<ServerUrl> parse_server_url(const std::string& server) {
    ServerUrl url;
    auto scheme_end = server.find("://");
    if (scheme_end == std::string::npos) {
        return util::fail(util::ErrorKind::generic,
                          fmt::format("server \"{}\" is not a URL", redact_url(server)));
    }
    url.scheme = ascii_lower(server.substr(0, scheme_end));
    url.port = url.scheme == "http" ? 80 : 443;
    auto rest = server.substr(scheme_end + 3);
    auto slash = rest.find('/');
    url.authority = rest.substr(0, slash);
    url.prefix = slash == std::string::npos ? "" : rest.substr(slash);
    while (!url.prefix.empty() && url.prefix.back() == '/') {
        url.prefix.pop_back();
    }
    std::string hostport = url.authority.substr(
        url.authority.rfind('@') == std::string::npos ? 0 : url.authority.rfind('@') + 1);
    std::string port_text;
    if (hostport.starts_with('[')) {
        auto close = hostport.find(']');
        if (close == std::string::npos) {
            return util::fail(util::ErrorKind::generic,
                              fmt::format("server \"{}\": unterminated IPv6 address", redact_url(server)));
        }
        url.host = hostport.substr(1, close - 1);
        if (close + 1 < hostport.size() && hostport[close + 1] == ':') {
            port_text = hostport.substr(close + 2);
        }
    } else {
        auto colon = hostport.rfind(':');
        url.host = hostport.substr(0, colon);
        if (colon != std::string::npos) {
            port_text = hostport.substr(colon + 1);
        }
    }
    if (!port_text.empty()) {
        try {
            url.port = std::stoi(port_text);
        } catch (const std::exception&) {
            return util::fail(util::ErrorKind::generic, fmt::format("server \"{}\": invalid port \"{}\"",
                                                                    redact_url(server), port_text));
        }
    }
    if (url.host.empty()) {
        return util::fail(util::ErrorKind::generic,
                          fmt::format("server \"{}\" has no host", redact_url(server)));
    }
    return url;
}

util::Result<std::unique_ptr<HttpTransport>> HttpTransport::create(const RestConfig& config) {
    std::unique_ptr<HttpTransport> transport(new HttpTransport());
    auto server = parse_server_url(config.server);
    if (!server) {
        return std::unexpected(server.error());
    }
    transport->m_server = *server;
    transport->m_base_url = server->scheme + "://" + server->authority + server->prefix;
    if (!config.tls_server_name.empty() && config.tls_server_name != server->host) {
        // curl takes SNI and the name it verifies from the URL host; CONNECT_TO keeps the TCP connection on
        // the real address. This is what tls-server-name means in client-go (tls.Config.ServerName).
        transport->m_base_url = fmt::format("{}://{}:{}{}", server->scheme, bracket(config.tls_server_name),
                                            server->port, server->prefix);
        transport->m_connect_to = fmt::format("{}:{}:{}:{}", bracket(config.tls_server_name), server->port,
                                              bracket(server->host), server->port);
    }
    auto share = curl::Share::create();
    if (!share) {
        return std::unexpected(share.error());
    }
    transport->m_share = std::move(*share);
    transport->m_config = config;
    if (config.ca_pem.empty()) {
        transport->m_system_trust = find_system_trust();
    }
    return transport;
}

std::string HttpTransport::display_url(const Request& request) const {
    return redact_url(m_config.server) + request.path + build_query(request.query);
}

void HttpTransport::set_tls_options(curl::Options& options, const RequestAuth& credentials) const {
    if (m_config.insecure_skip_tls_verify) {
        options.set(CURLOPT_SSL_VERIFYPEER, 0L).set(CURLOPT_SSL_VERIFYHOST, 0L);
    } else {
        options.set(CURLOPT_SSL_VERIFYPEER, 1L).set(CURLOPT_SSL_VERIFYHOST, 2L);
    }
    if (!m_config.ca_pem.empty()) {
        // The kubeconfig's CA is the only trust anchor, as in Go's tls.Config.RootCAs: the system bundle
        // and directory are switched off.
        curl_blob blob{const_cast<char*>(m_config.ca_pem.data()), m_config.ca_pem.size(), CURL_BLOB_COPY};
        options.set(CURLOPT_CAINFO_BLOB, &blob).set(CURLOPT_CAINFO, nullptr).set(CURLOPT_CAPATH, nullptr);
    } else {
        // The system's trust anchors, where Go finds them (find_system_trust); none found leaves libcurl's
        // built-in default, which a release binary does not have, so verification then fails with a message
        // naming SSL_CERT_FILE (failure()).
        if (!m_system_trust.file.empty()) {
            options.set(CURLOPT_CAINFO, m_system_trust.file.c_str());
        }
        if (!m_system_trust.directories.empty()) {
            options.set(CURLOPT_CAPATH, m_system_trust.directories.c_str());
        }
    }
    if (!credentials.client_certificate_pem.empty()) {
        curl_blob cert{const_cast<char*>(credentials.client_certificate_pem.data()),
                       credentials.client_certificate_pem.size(), CURL_BLOB_COPY};
        curl_blob key{const_cast<char*>(credentials.client_key_pem.data()), credentials.client_key_pem.size(),
                      CURL_BLOB_COPY};
        options.set(CURLOPT_SSLCERT_BLOB, &cert)
            .set(CURLOPT_SSLCERTTYPE, "PEM")
            .set(CURLOPT_SSLKEY_BLOB, &key)
            .set(CURLOPT_SSLKEYTYPE, "PEM");
    }
}

void HttpTransport::set_proxy_options(curl::Options& options) const {
    if (!m_config.proxy_url.empty()) {
        std::string proxy = m_config.proxy_url;
        // Go's socks5 dialer lets the proxy resolve names; that is curl's socks5h.
        if (ascii_lower(proxy).starts_with("socks5://")) {
            proxy = "socks5h://" + proxy.substr(9);
        }
        // libcurl copies string options: the local may go.
        options.set(CURLOPT_PROXY, proxy.c_str()).set(CURLOPT_NOPROXY, "");
        return;
    }
    // Go never proxies loopback addresses, whatever HTTPS_PROXY says; curl would. Keep NO_PROXY's
    // entries.
    std::string no_proxy = "localhost,127.0.0.0/8,::1";
    for (const char* name : {"NO_PROXY", "no_proxy"}) {
        if (const char* value = std::getenv(name); value != nullptr && *value != '\0') {
            no_proxy = std::string(value) + "," + no_proxy;
            break;
        }
    }
    options.set(CURLOPT_NOPROXY, no_proxy.c_str());
}

Exchange HttpTransport::perform(const Request& request, const RequestAuth& credentials) {
    Exchange result;
    auto lease = m_pool.acquire();
    if (!lease) {
        result.code = CURLE_OUT_OF_MEMORY;
        result.curl_detail = lease.error().message;
        return result;
    }
    CURL* h = lease->get();
    curl_easy_reset(h);
    char error_buffer[CURL_ERROR_SIZE] = {};

    const std::string url = m_base_url + request.path + build_query(request.query);
    curl::Options options(h);
    options.set(CURLOPT_URL, url.c_str())
        .set(CURLOPT_SHARE, m_share->get())
        .set(CURLOPT_ERRORBUFFER, error_buffer)
        .set(CURLOPT_NOSIGNAL, 1L)
        .set(CURLOPT_PROTOCOLS_STR, "http,https")
        .set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS))
        .set(CURLOPT_PIPEWAIT, 1L)
        .set(CURLOPT_TCP_KEEPALIVE, 1L)
        // client-go never resumes TLS sessions (no ClientSessionCache); neither do we. Connections are kept
        // alive anyway, and some servers get resumption with client certificates wrong.
        .set(CURLOPT_SSL_SESSIONID_CACHE, 0L)
        .set(CURLOPT_USERAGENT, m_config.user_agent.c_str());
    if (!m_config.disable_compression) {
        options.set(CURLOPT_ACCEPT_ENCODING, ""); // every encoding this libcurl can decode
    }

    auto timeout =
        request.timeout.value_or(std::chrono::duration_cast<std::chrono::milliseconds>(m_config.timeout));
    if (timeout.count() > 0) {
        options.set(CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    }
    auto connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(k_connect_timeout);
    if (timeout.count() > 0) {
        connect_timeout = std::min(connect_timeout, timeout);
    }
    options.set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));

    curl::Slist connect_list;
    if (!m_connect_to.empty()) {
        connect_list.append(m_connect_to);
        options.set(CURLOPT_CONNECT_TO, connect_list.get());
    }
    set_tls_options(options, credentials);
    set_proxy_options(options);

    // Method and body.
    if (request.method == "GET") {
        options.set(CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
        options.set(CURLOPT_NOBODY, 1L);
    } else {
        options.set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
        options.set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()))
            .set(CURLOPT_POSTFIELDS, request.body.data());
    }

    // Headers: defaults, then the caller's (same name replaces), then credentials.
    Headers headers{{"Accept", std::string(k_json)}};
    if (!request.body.empty()) {
        headers.emplace_back("Content-Type", std::string(k_json));
    }
    for (const auto& [name, value] : request.headers) {
        std::erase_if(headers, [&](const auto& h2) { return ascii_lower(h2.first) == ascii_lower(name); });
        headers.emplace_back(name, value);
    }
    if (!m_connect_to.empty()) {
        headers.emplace_back("Host", m_server.authority);
    }
    headers.emplace_back("Expect", ""); // no 100-continue round trip for bodies
    for (const auto& header : credentials.headers) {
        headers.push_back(header);
    }
    curl::Slist header_list;
    for (const auto& [name, value] : headers) {
        // "Name;" is curl's way to send a header with an empty value; "Name:" removes one.
        header_list.append(value.empty() ? (name == "Expect" ? name + ":" : name + ";")
                                         : name + ": " + value);
    }
    BodySink body{&result.response.body, m_config.max_response_bytes};
    options.set(CURLOPT_HTTPHEADER, header_list.get())
        .set(CURLOPT_WRITEFUNCTION, &write_body)
        .set(CURLOPT_WRITEDATA, &body)
        .set(CURLOPT_HEADERFUNCTION, &write_header)
        .set(CURLOPT_HEADERDATA, &result.response.headers);

    if (util::log::enabled(7)) {
        util::log::write(7, fmt::format("{} {}", request.method, display_url(request)));
        for (const auto& [name, value] : headers) {
            if (!value.empty()) {
                util::log::write(7, fmt::format("    {}: {}", name, redact_header_value(name, value)));
            }
        }
    }
    if (util::log::enabled(8) && !request.body.empty()) {
        log_body("Request Body", request.path, request.body);
    }

    if (!options.ok()) {
        // Nothing is sent with a setting missing (a CA, a client certificate, the protocol limit).
        result.code = options.code();
        result.curl_detail = redact_urls_in_text(options.failure());
        lease->discard();
        return result;
    }

    const auto start = std::chrono::steady_clock::now();
    result.code = curl_easy_perform(h);
    result.elapsed = std::chrono::steady_clock::now() - start;
    result.body_too_large = body.exceeded;
    // libcurl quotes a proxy setting it cannot use ("Unsupported proxy syntax in '...'"), credentials and
    // all.
    result.curl_detail = redact_urls_in_text(error_buffer[0] != '\0' ? std::string(error_buffer)
                                                                     : curl_easy_strerror(result.code));
    while (!result.curl_detail.empty() && result.curl_detail.back() == '\n') {
        result.curl_detail.pop_back();
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    long version = 0;
    curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
    long connects = 0;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    result.response.status = static_cast<int>(status);
    result.response.http_version = version == CURL_HTTP_VERSION_2_0 ? 2
                                   : version == CURL_HTTP_VERSION_3 ? 3
                                                                    : 1;
    result.response.reused_connection = result.code == CURLE_OK && connects == 0;
    // The option pointers above refer to locals: detach them before the handle goes back to the pool, or
    // close the handle if that fails.
    curl::Options detach(h);
    detach.set(CURLOPT_HTTPHEADER, nullptr)
        .set(CURLOPT_CONNECT_TO, nullptr)
        .set(CURLOPT_ERRORBUFFER, nullptr)
        .set(CURLOPT_WRITEDATA, nullptr)
        .set(CURLOPT_HEADERDATA, nullptr);
    if (!detach.ok()) {
        lease->discard();
    }
    return result;
}

void HttpTransport::log_body(std::string_view label, std::string_view path, std::string_view body) const {
    std::string shown = redact_body(path, body);
    if (!util::log::enabled(9) && shown.size() > k_logged_body_chars) {
        shown = shown.substr(0, k_logged_body_chars) + fmt::format(" [truncated {} chars]", shown.size());
    }
    util::log::write(8, fmt::format("{}: {}", label, shown));
}

// The message for a request that got no HTTP answer.
std::pair<TransportFailure, util::Error> HttpTransport::failure(const Request& request,
                                                                const Exchange& attempt) const {
    const std::string prefix = fmt::format("{} {}", request.method, display_url(request));
    const std::string where = fmt::format("server {} ({})", redact_url(m_config.server), m_config.describe());
    // A proxy-url may carry credentials (http://user:password@proxy:3128): never shown.
    const std::string proxy = redact_url(m_config.proxy_url);
    const std::string& detail = attempt.curl_detail;
    if (attempt.body_too_large) {
        return {
            TransportFailure::other,
            util::Error{util::ErrorKind::generic,
                        fmt::format("{}: the response from {} is larger than {}, the most meshlink reads "
                                    "in one response; stopped reading. An API server does not answer this "
                                    "much: check that {} is the server you mean",
                                    prefix, where, byte_size(m_config.max_response_bytes),
                                    redact_url(m_config.server))}};
    }
    switch (attempt.code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS: {
        std::string trust = fmt::format("the CA from {}", m_config.ca_origin);
        if (m_config.ca_pem.empty()) {
            const auto& system = m_system_trust;
            trust = system.file.empty() && system.directories.empty()
                        ? std::string("no system CA bundle found; set SSL_CERT_FILE to one, or "
                                      "certificate-authority in the kubeconfig")
                        : fmt::format("the system trust store {}{}{}", system.file,
                                      system.file.empty() || system.directories.empty() ? "" : " and ",
                                      system.directories);
        }
        std::string name = m_config.tls_server_name.empty()
                               ? std::string()
                               : fmt::format(", tls-server-name \"{}\"", m_config.tls_server_name);
        return {TransportFailure::tls,
                util::Error{util::ErrorKind::tls,
                            fmt::format("{}: TLS certificate verification failed for {}: {} (trusted: {}{})",
                                        prefix, where, detail, trust, name)}};
    }
    case CURLE_SSL_CONNECT_ERROR:
        // A handshake cut off by the peer or the network is a broken connection, not a TLS problem.
        if (detail.find("reset by peer") != std::string::npos ||
            detail.find("SSL_ERROR_SYSCALL") != std::string::npos ||
            detail.find("unexpected eof") != std::string::npos) {
            return {TransportFailure::reset,
                    util::Error{util::ErrorKind::unavailable,
                                fmt::format("{}: the connection to {} broke during the TLS handshake: {}",
                                            prefix, where, detail)}};
        }
        [[fallthrough]];
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
        return {TransportFailure::tls,
                util::Error{util::ErrorKind::tls,
                            fmt::format("{}: TLS handshake failed with {}: {}", prefix, where, detail)}};
    case CURLE_SSL_CERTPROBLEM:
        return {TransportFailure::tls,
                util::Error{util::ErrorKind::tls,
                            fmt::format("{}: the client certificate or key of user \"{}\" cannot be "
                                        "used with {}: {}",
                                        prefix, m_config.user_name, where, detail)}};
    case CURLE_COULDNT_CONNECT:
        if (!m_config.proxy_url.empty()) {
            return {TransportFailure::connect,
                    util::Error{
                        util::ErrorKind::unavailable,
                        fmt::format("{}: cannot reach {} through proxy {}: {}; check the cluster's proxy-url",
                                    prefix, where, proxy, detail)}};
        }
        return {
            TransportFailure::connect,
            util::Error{util::ErrorKind::unavailable,
                        fmt::format("{}: cannot connect to {}: {}; is the API server running and reachable?",
                                    prefix, where, detail)}};
    case CURLE_COULDNT_RESOLVE_HOST:
        return {TransportFailure::other,
                util::Error{util::ErrorKind::unavailable,
                            fmt::format("{}: cannot resolve the host of {}: {}", prefix, where, detail)}};
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_PROXY:
        return {TransportFailure::connect,
                util::Error{util::ErrorKind::unavailable,
                            fmt::format("{}: proxy {} failed for {}: {}", prefix, proxy, where, detail)}};
    case CURLE_OPERATION_TIMEDOUT: {
        auto timeout =
            request.timeout.value_or(std::chrono::duration_cast<std::chrono::milliseconds>(m_config.timeout));
        std::string bound = timeout.count() > 0
                                ? fmt::format("within {} (--request-timeout)", util::format_duration(timeout))
                                : std::string("in time");
        return {TransportFailure::timeout,
                util::Error{util::ErrorKind::timeout,
                            fmt::format("{}: no answer {} from {}: {}", prefix, bound, where, detail)}};
    }
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return {TransportFailure::reset,
                util::Error{util::ErrorKind::unavailable,
                            fmt::format("{}: the connection to {} broke: {}", prefix, where, detail)}};
    default:
        return {TransportFailure::other,
                util::Error{util::ErrorKind::generic,
                            fmt::format("{}: request to {} failed: {}", prefix, where, detail)}};
    }
}

} // namespace meshlink::kube::detail
