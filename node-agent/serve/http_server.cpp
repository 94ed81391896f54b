#include "node-agent/serve/http_server.hpp"

#include "node-agent/defaults.hpp"
#include "node-agent/serve/http_message.hpp"
#include "util/fd.hpp"
#include "util/log.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

namespace meshlink::agent::serve {
namespace {

using Steady = std::chrono::steady_clock;

using Handler = http::Response (*)(const StatusBoard&);
struct Route {
    std::string_view path;
    Handler handler;
};

// /healthz: the process is alive and serving. The probe loop's health shows in /readyz and /metrics.
http::Response healthz(const StatusBoard&) {
    return http::plain(200, "ok");
}

http::Response readyz(const StatusBoard& board) {
    const AgentStatus status = board.snapshot();
    if (is_ready(status)) {
        return http::plain(200, "ok");
    }
    return http::plain(503, "not ready: " + (status.probes == 0
                                                 ? std::string("no probe has finished yet")
                                                 : "the API server cannot be reached: " + status.last_error));
}

http::Response metrics(const StatusBoard& board) {
    http::Response response;
    response.content_type = k_metrics_content_type;
    response.body = render_metrics(board.snapshot());
    return response;
}

constexpr Route k_routes[] = {{"/healthz", healthz}, {"/readyz", readyz}, {"/metrics", metrics}};

http::Response respond(const http::Request& request, const StatusBoard& board) {
    const auto* route = std::find_if(std::begin(k_routes), std::end(k_routes),
                                     [&](const Route& r) { return r.path == request.path; });
    if (route == std::end(k_routes)) {
        return http::plain(404, "not found: this agent serves /healthz, /readyz and /metrics");
    }
    if (request.method != "GET" && request.method != "HEAD") {
        http::Response response = http::plain(405, "method not allowed: use GET or HEAD");
        response.allow = "GET, HEAD";
        return response;
    }
    if (request.has_body) {
        return http::plain(413, "request bodies are not accepted");
    }
    try {
        return route->handler(board);
    } catch (const std::exception& e) {
        util::log::write(0, fmt::format("HTTP {} {}: {}", request.method, request.path, e.what()),
                         util::log::Severity::error);
        return http::plain(500, "internal error");
    }
}

struct AddrinfoDeleter {
    void operator()(addrinfo* list) const { ::freeaddrinfo(list); }
};

util::Result<util::Fd> listen_on(const std::string& address, int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    // AI_NUMERICHOST: an address, never a name. Resolving a name would go through glibc's NSS modules, which
    // the static release agent must never load (docs/release-build.md, "The NSS rule").
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(address.empty() ? nullptr : address.c_str(), std::to_string(port).c_str(),
                                 &hints, &found);
    if (rc == EAI_NONAME) {
        return util::fail(
            util::ErrorKind::usage,
            fmt::format("cannot listen on {}:{}: not an IP address; --listen-address takes an IPv4 "
                        "or IPv6 address such as 0.0.0.0, 127.0.0.1 or ::",
                        address, port));
    }
    if (rc != 0) {
        return util::fail(util::ErrorKind::io,
                          fmt::format("cannot listen on {}:{}: {}", address, port, ::gai_strerror(rc)));
    }
    const std::unique_ptr<addrinfo, AddrinfoDeleter> addresses(found);
    std::string cause = "no address";
    for (const addrinfo* candidate = addresses.get(); candidate != nullptr; candidate = candidate->ai_next) {
        util::Fd fd(::socket(candidate->ai_family, candidate->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                             candidate->ai_protocol));
        if (!fd) {
            cause = std::strerror(errno);
            continue;
        }
        // A restarted agent can bind again while the previous one's connections are in TIME_WAIT.
        const int one = 1;
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd.get(), candidate->ai_addr, candidate->ai_addrlen) != 0 ||
            ::listen(fd.get(), SOMAXCONN) != 0) {
            cause = std::strerror(errno);
            continue;
        }
        return fd;
    }
    return util::fail(util::ErrorKind::io, fmt::format("cannot listen on {}:{}: {}", address, port, cause));
}

int bound_port(int fd) {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
        return -1;
    }
    if (address.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
    }
    return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

enum class Phase {
    reading,   // the request head
    writing,   // the response
    lingering, // response sent and write side shut down: dropping what the client still sends
};

struct Connection {
    util::Fd fd;
    Phase phase = Phase::reading;
    std::string received; // the request head so far
    std::string out;      // the serialised response
    std::size_t sent = 0;
    std::size_t discarded = 0;
    Steady::time_point deadline;
    bool done = false; // to be closed
};

} // namespace

struct HttpServer::Impl {
    explicit Impl(const StatusBoard& status_board) : board(status_board) {}
    ~Impl() { stop(); }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    const StatusBoard& board;
    util::Fd listener;
    util::Fd wake_read; // stop() writes to wake_write; the loop polls wake_read
    util::Fd wake_write;
    int port = 0;
    std::thread thread;

    // Owned by the loop's thread.
    std::vector<Connection> connections;
    std::optional<Steady::time_point> stop_deadline;
    Steady::time_point accept_resume;
    bool accept_failing = false;

    void stop() {
        if (thread.joinable()) {
            const char byte = 1;
            [[maybe_unused]] const ssize_t written = ::write(wake_write.get(), &byte, 1);
            thread.join();
        }
    }

    // `now + duration`, but never past the stop deadline.
    [[nodiscard]] Steady::time_point deadline_after(Steady::time_point now, Steady::duration duration) const {
        const Steady::time_point deadline = now + duration;
        return stop_deadline ? std::min(deadline, *stop_deadline) : deadline;
    }

    void run() {
        try {
            loop();
        } catch (const std::exception& e) {
            // Without the endpoints, kubelet's liveness probe fails and restarts the pod: say why.
            util::log::write(0, fmt::format("HTTP server stopped: {}", e.what()), util::log::Severity::error);
        }
        connections.clear();
        listener.reset();
    }

    void loop() {
        std::vector<pollfd> fds;
        for (;;) {
            Steady::time_point now = Steady::now();
            // A full table still accepts while a connection can be evicted for the newcomer; when every one
            // is mid-response (each ends within its write deadline), the listener waits.
            const bool room =
                connections.size() < defaults::k_max_connections || evictable() != connections.end();
            const bool accepting = listener && room && now >= accept_resume;
            fds.clear();
            fds.push_back({stop_deadline ? -1 : wake_read.get(), POLLIN, 0}); // negative: poll skips it
            fds.push_back({accepting ? listener.get() : -1, POLLIN, 0});
            for (const Connection& connection : connections) {
                fds.push_back({connection.fd.get(),
                               static_cast<short>(connection.phase == Phase::writing ? POLLOUT : POLLIN), 0});
            }
            std::optional<Steady::time_point> wake_at;
            for (const Connection& connection : connections) {
                wake_at = std::min(wake_at.value_or(connection.deadline), connection.deadline);
            }
            if (listener && !accepting && room) {
                wake_at = std::min(wake_at.value_or(accept_resume), accept_resume);
            }
            int timeout_ms = -1;
            if (wake_at) {
                const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*wake_at - now);
                timeout_ms = static_cast<int>(std::clamp<std::int64_t>(wait.count(), 0, 60'000));
            }
            if (::poll(fds.data(), fds.size(), timeout_ms) < 0) {
                if (errno == EINTR) {
                    continue;
                }
                throw std::system_error(errno, std::generic_category(), "poll");
            }
            now = Steady::now();
            if (fds[0].revents != 0) {
                begin_stop(now);
            }
            for (std::size_t i = 0; i < connections.size(); ++i) {
                Connection& connection = connections[i];
                if (fds[i + 2].revents != 0 && !connection.done) {
                    progress(connection, now);
                }
                if (!connection.done && now >= connection.deadline) {
                    expire(connection, now);
                }
            }
            std::erase_if(connections, [](const Connection& connection) { return connection.done; });
            if (fds[1].revents != 0 && listener) {
                accept_all(now);
            }
            if (stop_deadline && connections.empty()) {
                return;
            }
        }
    }

    void begin_stop(Steady::time_point now) {
        stop_deadline = now + defaults::k_stop_grace;
        listener.reset(); // new connections are refused from here on
        for (Connection& connection : connections) {
            if (connection.phase == Phase::reading && connection.received.empty()) {
                connection.done = true; // idle: nothing in progress
            }
            connection.deadline = std::min(connection.deadline, *stop_deadline);
        }
    }

    // The oldest connection whose loss costs nobody an answer in progress: still waiting for its request head
    // (idle or slow) or lingering after its response. `connections` is in accept order.
    std::vector<Connection>::iterator evictable() {
        return std::find_if(connections.begin(), connections.end(), [](const Connection& connection) {
            return !connection.done && connection.phase != Phase::writing;
        });
    }

    bool evict_one() {
        const auto oldest = evictable();
        if (oldest == connections.end()) {
            return false;
        }
        connections.erase(oldest); // closes it: the client sees the connection end
        return true;
    }

    // Accepts up to a batch of waiting clients. When the table is full, or the process is out of descriptors,
    // the oldest evictable connection makes room: a client the kernel has queued is never starved by clients
    // that hold connections without sending a request (README "Endpoints").
    void accept_all(Steady::time_point now) {
        for (std::size_t accepted = 0; accepted < defaults::k_accept_batch;) {
            if (connections.size() >= defaults::k_max_connections && !evict_one()) {
                return;
            }
            util::Fd fd(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
            if (!fd) {
                if (errno == EINTR || errno == ECONNABORTED) {
                    continue;
                }
                if ((errno == EMFILE || errno == ENFILE) && evict_one()) {
                    continue;
                }
                if (errno != EAGAIN && errno != EWOULDBLOCK) {
                    if (!accept_failing) {
                        util::log::warn(
                            fmt::format("HTTP server: accept: {}; retrying", std::strerror(errno)));
                    }
                    accept_failing = true;
                    accept_resume = now + defaults::k_accept_pause;
                }
                return;
            }
            ++accepted;
            accept_failing = false;
            Connection& connection = connections.emplace_back();
            connection.fd = std::move(fd);
            connection.deadline = deadline_after(now, defaults::k_http_head_timeout);
            // A client usually sends its request right after connecting: answer it now rather than after a
            // poll round, in which newer connections could already have pushed it out.
            read_request(connection, now);
            if (connection.done) {
                connections.pop_back();
            }
        }
    }

    void progress(Connection& connection, Steady::time_point now) {
        switch (connection.phase) {
        case Phase::reading:
            read_request(connection, now);
            break;
        case Phase::writing:
            write_response(connection, now);
            break;
        case Phase::lingering:
            drain(connection);
            break;
        }
    }

    void read_request(Connection& connection, Steady::time_point now) {
        char buffer[4096];
        bool closed = false;
        // Never more than one byte past the limit: enough to tell that the head is too large.
        while (connection.received.size() <= defaults::k_max_head_bytes) {
            const std::size_t room =
                std::min(sizeof buffer, defaults::k_max_head_bytes + 1 - connection.received.size());
            const ssize_t n = ::recv(connection.fd.get(), buffer, room, 0);
            if (n > 0) {
                connection.received.append(buffer, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            closed = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
            break;
        }
        const std::size_t head_end = http::find_head_end(connection.received);
        if (head_end == std::string::npos || head_end > defaults::k_max_head_bytes) {
            if (connection.received.size() > defaults::k_max_head_bytes) {
                const bool line_ended = connection.received.find('\n') != std::string::npos;
                answer(connection,
                       line_ended ? http::plain(431, "request header fields too large")
                                  : http::plain(414, "request target too long"),
                       false, now);
            } else if (closed) {
                connection.done = true; // the client went away mid-head (a half-closed one that sent a
                                        // whole head is still answered above)
            }
            return;
        }
        auto request = http::parse_request_head(std::string_view(connection.received).substr(0, head_end));
        if (!request) {
            answer(connection, request.error(), false, now);
            return;
        }
        answer(connection, respond(*request, board), request->method == "HEAD", now);
    }

    void answer(Connection& connection, const http::Response& response, bool head_only,
                Steady::time_point now) {
        connection.out = http::serialize(response, head_only, std::chrono::system_clock::now());
        connection.received = std::string();
        connection.phase = Phase::writing;
        connection.deadline = deadline_after(now, defaults::k_http_write_timeout);
        write_response(connection, now); // the socket is almost always writable: save a poll round
    }

    void write_response(Connection& connection, Steady::time_point now) {
        while (connection.sent < connection.out.size()) {
            const ssize_t n = ::send(connection.fd.get(), connection.out.data() + connection.sent,
                                     connection.out.size() - connection.sent, MSG_NOSIGNAL);
            if (n > 0) {
                connection.sent += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                return; // poll for POLLOUT
            }
            connection.done = true; // the client went away
            return;
        }
        ::shutdown(connection.fd.get(), SHUT_WR);
        connection.out = std::string();
        connection.phase = Phase::lingering;
        connection.deadline = deadline_after(now, defaults::k_linger_timeout);
    }

    void drain(Connection& connection) {
        char buffer[4096];
        for (;;) {
            const ssize_t n = ::recv(connection.fd.get(), buffer, sizeof buffer, 0);
            if (n > 0) {
                connection.discarded += static_cast<std::size_t>(n);
                if (connection.discarded > defaults::k_max_linger_bytes) {
                    connection.done = true;
                    return;
                }
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                return;
            }
            connection.done = true; // the client closed its side (or reset): finished
            return;
        }
    }

    void expire(Connection& connection, Steady::time_point now) {
        if (connection.phase == Phase::reading && !connection.received.empty() && !stop_deadline) {
            answer(connection,
                   http::plain(408, fmt::format("request timeout: the request head did not arrive within {}s",
                                                defaults::k_http_head_timeout.count())),
                   false, now);
            return;
        }
        connection.done = true;
    }
};

util::Result<HttpServer> HttpServer::start(const std::string& address, int port, const StatusBoard& board) {
    auto listener = listen_on(address, port);
    if (!listener) {
        return std::unexpected(listener.error());
    }
    int wake[2] = {-1, -1};
    if (::pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        return util::fail(util::ErrorKind::io,
                          fmt::format("HTTP server on {}:{}: pipe: {}", address, port, std::strerror(errno)));
    }
    auto impl = std::make_unique<Impl>(board);
    impl->wake_read = util::Fd(wake[0]);
    impl->wake_write = util::Fd(wake[1]);
    impl->port = bound_port(listener->get());
    impl->listener = std::move(*listener);
    try {
        impl->thread = std::thread([server = impl.get()] { server->run(); });
    } catch (const std::system_error& e) {
        return util::fail(
            util::ErrorKind::io,
            fmt::format("HTTP server on {}:{}: cannot start its thread: {}", address, port, e.what()));
    }
    return HttpServer(std::move(impl));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
HttpServer::HttpServer(HttpServer&&) noexcept = default;
HttpServer& HttpServer::operator=(HttpServer&&) noexcept = default;
HttpServer::~HttpServer() = default;

int HttpServer::port() const {
    return m_impl->port;
}

void HttpServer::stop() {
    if (m_impl) {
        m_impl->stop();
    }
}

} // namespace meshlink::agent::serve
