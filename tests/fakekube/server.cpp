#include "tests/fakekube/server.hpp"

#include "tests/fakekube/transport.hpp"
#include "tests/fakekube/util.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <openssl/ssl.h>

#include <atomic>
#include <iostream>
#include <map>
#include <thread>

// GCC 12 at -O1 and above reports Asio's coroutine frames (awaitable_frame_base's operator new/delete
// pair) as -Wmismatched-new-delete: a false positive of its coroutine lowering, not a real mismatch.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace meshlink::fakekube {

using tcp = net::ip::tcp;
namespace ssl = net::ssl;

namespace {

// Request counters for /fakekube/stats.
class Stats {
public:
    void count(const std::string& kind) {
        if (auto it = m_counters.find(kind); it != m_counters.end()) {
            it->second.fetch_add(1, std::memory_order_relaxed);
        }
    }
    json to_json() const {
        json requests = json::object();
        for (const auto& [kind, counter] : m_counters) {
            requests[kind] = counter.load(std::memory_order_relaxed);
        }
        return {{"requests", requests}};
    }
    void reset() {
        for (auto& [kind, counter] : m_counters) {
            counter.store(0, std::memory_order_relaxed);
        }
    }

private:
    std::map<std::string, std::atomic<uint64_t>> m_counters = [] {
        std::map<std::string, std::atomic<uint64_t>> counters;
        for (const char* kind : {"GET", "LIST", "WATCH", "POST", "PUT", "PATCH", "DELETE"}) {
            counters[kind] = 0;
        }
        return counters;
    }();
};

std::string percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            const std::string hex(text.substr(i + 1, 2));
            char* end = nullptr;
            const long value = std::strtol(hex.c_str(), &end, 16);
            if (end == hex.c_str() + 2) {
                out += static_cast<char>(value);
                i += 2;
                continue;
            }
        }
        out += plus_is_space && text[i] == '+' ? ' ' : text[i];
    }
    return out;
}

Request to_request(const HttpRequest& message) {
    Request request;
    request.method = std::string(message.method_string());
    const std::string_view target = message.target();
    const auto question = target.find('?');
    request.path = percent_decode(target.substr(0, question), false);
    if (question != std::string_view::npos) {
        std::string_view query = target.substr(question + 1);
        size_t start = 0;
        while (start <= query.size()) {
            size_t amp = query.find('&', start);
            std::string_view pair =
                query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
            if (!pair.empty()) {
                const auto eq = pair.find('=');
                request.query.emplace(
                    percent_decode(pair.substr(0, eq), true),
                    eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true));
            }
            if (amp == std::string_view::npos) {
                break;
            }
            start = amp + 1;
        }
    }
    request.content_type = std::string(message[http::field::content_type]);
    request.accept = std::string(message[http::field::accept]);
    request.body = message.body();
    return request;
}

// The user a verified client certificate names (CN) with its groups (O).
std::optional<Identity> certificate_identity(SSL* ssl) {
    kube::pki::X509Ptr cert(SSL_get1_peer_certificate(ssl));
    if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) {
        return std::nullopt;
    }
    auto info = kube::pki::describe(*cert);
    if (!info || info->subject_cn.empty()) {
        return std::nullopt;
    }
    Identity identity{info->subject_cn, "", info->subject_organizations, {}};
    identity.groups.push_back("system:authenticated");
    return identity;
}

} // namespace

class HttpsServer::Impl {
public:
    net::io_context ioc;
    tcp::acceptor acceptor{ioc};
    ssl::context tls{ssl::context::tls_server};
    ApiServer* api = nullptr;
    TransportConfig config;
    std::unique_ptr<FaultInjector> faults;
    Stats stats;
    // Extra acceptors on (loopback) Node IPs for NodePort Services that expose the API server, so a client
    // can reach "a node's InternalIP:nodePort" as it would in a real cluster. Tried once each.
    std::map<std::pair<std::string, uint16_t>, std::unique_ptr<tcp::acceptor>> node_acceptors;

    util::Result<> setup_tls() {
        try {
            tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
            tls.use_certificate_chain(net::buffer(config.serving.cert_pem));
            tls.use_private_key(net::buffer(config.serving.key_pem), ssl::context::pem);
            tls.add_certificate_authority(net::buffer(config.ca_pem));
            // Ask for a client certificate but let the handshake finish without one (or with a foreign
            // one): like kube-apiserver, the request is then answered 401, not a TLS alert.
            tls.set_verify_mode(ssl::verify_peer);
            tls.set_verify_callback([](bool, ssl::verify_context&) { return true; });
            auto ca = kube::pki::load_certificate(config.ca_pem);
            if (!ca || SSL_CTX_add_client_CA(tls.native_handle(), ca->get()) != 1) {
                return util::fail(util::ErrorKind::tls, "cannot announce the client CA");
            }
            // OpenSSL refuses to resume a session of a server that asks for client certificates unless
            // the server names a session-id context (it then answers "internal error"): clients that
            // resume sessions (curl, openssl s_client -sess_in) must work as against kube-apiserver.
            static constexpr unsigned char k_session_context[] = "fakekube";
            if (SSL_CTX_set_session_id_context(tls.native_handle(), k_session_context,
                                               sizeof(k_session_context) - 1) != 1) {
                return util::fail(util::ErrorKind::tls, "cannot set the TLS session id context");
            }
        } catch (const boost::system::system_error& error) {
            return util::fail(util::ErrorKind::tls, std::string("TLS setup: ") + error.what());
        }
        return {};
    }

    net::awaitable<void> accept_loop() { co_await accept_on(acceptor); }

    net::awaitable<void> accept_on(tcp::acceptor& from) {
        for (;;) {
            beast::error_code error;
            tcp::socket socket = co_await from.async_accept(net::redirect_error(net::use_awaitable, error));
            if (error) {
                if (error == net::error::operation_aborted) {
                    co_return;
                }
                continue;
            }
            net::co_spawn(ioc, session(std::move(socket)), net::detached);
        }
    }

    net::awaitable<void> controllers() {
        net::steady_timer timer(ioc);
        for (;;) {
            timer.expires_after(std::chrono::milliseconds(25));
            co_await timer.async_wait(net::use_awaitable);
            api->run_controllers();
            open_node_ports();
        }
    }

    void open_node_ports() {
        for (const auto& [ip, port] : api->apiserver_node_ports()) {
            if (node_acceptors.contains({ip, port})) {
                continue;
            }
            auto& slot = node_acceptors[{ip, port}];
            beast::error_code error;
            const auto address = net::ip::make_address(ip, error);
            if (error || !address.is_v4() || (address.to_v4().to_uint() >> 24) != 127) {
                continue; // only loopback addresses: test servers never listen elsewhere
            }
            auto next = std::make_unique<tcp::acceptor>(ioc);
            const tcp::endpoint endpoint(address, port);
            next->open(endpoint.protocol(), error);
            if (!error) {
                next->set_option(tcp::acceptor::reuse_address(true), error);
                next->bind(endpoint, error);
            }
            if (!error) {
                next->listen(net::socket_base::max_listen_connections, error);
            }
            if (error) {
                // Another process (a second fakekube seeded with the same node addresses) holds it: say so,
                // since clients dialling this address now reach that process instead of this one.
                std::cerr << "fakekube: cannot serve the exposed API server on " << ip << ":" << port << ": "
                          << error.message() << "\n";
                continue;
            }
            slot = std::move(next);
            net::co_spawn(ioc, accept_on(*slot), net::detached);
        }
    }

    net::awaitable<void> session(tcp::socket socket) {
        TlsStream stream(std::move(socket), tls);
        try {
            beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
            co_await stream.async_handshake(ssl::stream_base::server, net::use_awaitable);
            beast::get_lowest_layer(stream).expires_never();
            const std::optional<Identity> cert_user = certificate_identity(stream.native_handle());
            beast::flat_buffer buffer;
            for (;;) {
                http::request_parser<http::string_body> parser;
                parser.body_limit(64U << 20U);
                co_await http::async_read(stream, buffer, parser, net::use_awaitable);
                HttpRequest message = parser.release();
                Request request = to_request(message);
                const bool internal = request.path.rfind("/fakekube/", 0) == 0;
                if (!internal) {
                    stats.count(request_class(request));
                    const auto decision = faults->decide();
                    if (decision.action == FaultInjector::Action::reset) {
                        beast::error_code ignored;
                        auto& socket_ref = beast::get_lowest_layer(stream).socket();
                        socket_ref.set_option(tcp::socket::linger(true, 0), ignored);
                        socket_ref.close(ignored);
                        co_return;
                    }
                    if (config.latency.count() > 0) {
                        net::steady_timer delay(co_await net::this_coro::executor, config.latency);
                        co_await delay.async_wait(net::use_awaitable);
                    }
                    if (decision.action == FaultInjector::Action::fail) {
                        if (!co_await write(stream, message,
                                            faults->error_for(decision.status).to_response())) {
                            co_return;
                        }
                        continue;
                    }
                }
                Outcome outcome = internal ? Outcome(fakekube_endpoint(request))
                                           : authenticate_and_handle(request, message, cert_user);
                if (auto* response = std::get_if<Response>(&outcome)) {
                    if (!co_await write(stream, message, *response)) {
                        co_return;
                    }
                } else if (auto* watch = std::get_if<WatchPlan>(&outcome)) {
                    if (!co_await stream_watch(stream, message, *watch)) {
                        co_return;
                    }
                } else if (auto* exec = std::get_if<ExecPlan>(&outcome)) {
                    co_await run_exec(std::move(stream), std::move(message), std::move(*exec));
                    co_return;
                }
            }
        } catch (const boost::system::system_error&) {
            // The peer went away or spoke garbage: nothing to answer.
        }
    }

    Outcome authenticate_and_handle(Request& request, const HttpRequest& message,
                                    const std::optional<Identity>& cert_user) {
        if (cert_user) {
            request.identity = *cert_user;
        } else if (auto token = bearer_token(std::string(message[http::field::authorization]))) {
            // The static token file first, then the ServiceAccount tokens fakekube issued (TokenRequest),
            // which are checked against the objects they name.
            std::optional<Identity> identity = config.tokens ? config.tokens->find(*token) : std::nullopt;
            if (!identity) {
                identity = api->authenticate_token(*token);
            }
            if (!identity) {
                return unauthorized().to_response();
            }
            request.identity = std::move(*identity);
        } else {
            return unauthorized().to_response();
        }
        return api->handle(request);
    }

    Response fakekube_endpoint(const Request& request) {
        if (request.path == "/fakekube/stats") {
            if (request.method == "GET") {
                return Response::json_body(200, stats.to_json());
            }
            if (request.method == "DELETE") {
                stats.reset();
                return Response::json_body(200, stats.to_json());
            }
            return method_not_allowed().to_response();
        }
        if (request.path.rfind("/fakekube/v1/", 0) == 0) {
            return api->control(request);
        }
        return Response::text(404, "404 page not found\n");
    }

    net::awaitable<bool> write(TlsStream& stream, const HttpRequest& message, const Response& answer) {
        http::response<http::string_body> response{static_cast<http::status>(answer.status),
                                                   message.version()};
        response.set(http::field::content_type, answer.content_type);
        response.set(http::field::cache_control, "no-cache, private");
        response.set("Audit-Id", new_uid());
        for (const auto& [name, value] : answer.headers) {
            response.insert(name, value);
        }
        response.keep_alive(message.keep_alive());
        response.body() = answer.body;
        response.prepare_payload();
        co_await http::async_write(stream, response, net::use_awaitable);
        if (!response.keep_alive()) {
            beast::error_code ignored;
            co_await stream.async_shutdown(net::redirect_error(net::use_awaitable, ignored));
            co_return false;
        }
        co_return true;
    }

    net::awaitable<bool> stream_watch(TlsStream& stream, const HttpRequest& message, const WatchPlan& plan) {
        http::response<http::empty_body> response{http::status::ok, message.version()};
        response.set(http::field::content_type, "application/json");
        response.set(http::field::cache_control, "no-cache, private");
        response.set(http::field::transfer_encoding, "chunked");
        response.keep_alive(message.keep_alive());
        http::response_serializer<http::empty_body> serializer{response};
        co_await http::async_write_header(stream, serializer, net::use_awaitable);
        for (const auto& line : plan.initial) {
            co_await net::async_write(stream, http::make_chunk(net::buffer(line)), net::use_awaitable);
        }
        uint64_t revision = plan.start_revision;
        const auto deadline = std::chrono::steady_clock::now() + plan.timeout;
        net::steady_timer timer(co_await net::this_coro::executor);
        bool expired = plan.finished;
        while (!expired && std::chrono::steady_clock::now() < deadline) {
            timer.expires_after(std::chrono::milliseconds(20));
            co_await timer.async_wait(net::use_awaitable);
            WatchPoll poll = api->poll_watch(plan, revision);
            for (const auto& line : poll.lines) {
                co_await net::async_write(stream, http::make_chunk(net::buffer(line)), net::use_awaitable);
            }
            revision = poll.revision;
            expired = poll.expired;
        }
        co_await net::async_write(stream, http::make_chunk_last(), net::use_awaitable);
        co_return message.keep_alive();
    }
};

HttpsServer::HttpsServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
HttpsServer::~HttpsServer() = default;

util::Result<std::unique_ptr<HttpsServer>> HttpsServer::listen(const std::string& host, uint16_t port) {
    auto impl = std::make_unique<Impl>();
    try {
        tcp::endpoint endpoint(net::ip::make_address(host), port);
        impl->acceptor.open(endpoint.protocol());
        impl->acceptor.set_option(tcp::acceptor::reuse_address(true));
        impl->acceptor.bind(endpoint);
        impl->acceptor.listen(net::socket_base::max_listen_connections);
    } catch (const boost::system::system_error& error) {
        return util::fail(util::ErrorKind::io,
                          "listen on " + host + ":" + std::to_string(port) + ": " + error.code().message());
    }
    return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(impl)));
}

uint16_t HttpsServer::port() const {
    return m_impl->acceptor.local_endpoint().port();
}

util::Result<> HttpsServer::serve(ApiServer& api, TransportConfig config,
                                  const std::function<void()>& on_ready) {
    Impl& impl = *m_impl;
    impl.api = &api;
    impl.config = std::move(config);
    impl.faults = std::make_unique<FaultInjector>(impl.config.faults);
    if (auto tls = impl.setup_tls(); !tls) {
        return tls;
    }
    net::signal_set signals(impl.ioc, SIGINT, SIGTERM);
    signals.async_wait([&impl](const beast::error_code&, int) { impl.ioc.stop(); });
    net::co_spawn(impl.ioc, impl.accept_loop(), net::detached);
    net::co_spawn(impl.ioc, impl.controllers(), net::detached);
    on_ready();
    std::vector<std::thread> workers;
    for (int i = 1; i < std::max(1, impl.config.threads); ++i) {
        workers.emplace_back([&impl] { impl.ioc.run(); });
    }
    impl.ioc.run();
    for (auto& worker : workers) {
        worker.join();
    }
    return {};
}

} // namespace meshlink::fakekube
