// The agent's HTTP server over real sockets on 127.0.0.1: routes, refusals, HEAD, concurrency, stop, and
// kubelet's probes answered while 1,000 idle or slow clients hold connections.

#include "node-agent/serve/http_message.hpp"
#include "node-agent/serve/http_server.hpp"
#include "util/fd.hpp"
#include "util/file.hpp"
#include "yaml/yaml.hpp"

#include <arpa/inet.h>
#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using namespace meshlink;
using namespace meshlink::agent::serve;

namespace {

struct Answer {
    int status = 0;
    std::map<std::string, std::string> headers; // names in lower case
    std::string body;
    std::string raw;

    [[nodiscard]] std::string header(const std::string& name) const {
        const auto found = headers.find(name);
        return found == headers.end() ? std::string() : found->second;
    }
};

// A connection to 127.0.0.1:port, or an empty Fd with errno set.
util::Fd try_connect(int port) {
    util::Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    // A safety net against a hung server, so a broken build fails instead of hanging; not an assertion.
    timeval timeout{30, 0};
    ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        const int error = errno;
        sock.reset();
        errno = error;
    }
    return sock;
}

util::Fd connect_to(int port) {
    util::Fd sock = try_connect(port);
    BOOST_REQUIRE_MESSAGE(sock, "connect 127.0.0.1:" << port << ": " << std::strerror(errno));
    return sock;
}

void send_all(const util::Fd& sock, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(sock.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
        BOOST_REQUIRE_MESSAGE(n > 0, "send: " << std::strerror(errno));
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Reads until the server closes the connection, then splits status, header fields and body.
Answer read_answer(const util::Fd& sock) {
    Answer answer;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::recv(sock.get(), buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        BOOST_REQUIRE_MESSAGE(n >= 0,
                              "recv: " << std::strerror(errno) << " after " << answer.raw.size() << " bytes");
        if (n == 0) {
            break;
        }
        answer.raw.append(buffer, static_cast<std::size_t>(n));
    }
    const auto head_end = answer.raw.find("\r\n\r\n");
    BOOST_REQUIRE_MESSAGE(head_end != std::string::npos && answer.raw.starts_with("HTTP/1.1 "),
                          "not an HTTP/1.1 answer: " << answer.raw);
    answer.status = std::stoi(answer.raw.substr(9, 3));
    std::size_t pos = answer.raw.find("\r\n") + 2;
    while (pos < head_end) {
        const auto eol = answer.raw.find("\r\n", pos);
        const std::string line = answer.raw.substr(pos, eol - pos);
        const auto colon = line.find(':');
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        answer.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
        pos = eol + 2;
    }
    answer.body = answer.raw.substr(head_end + 4);
    return answer;
}

Answer round_trip(int port, std::string_view request) {
    const util::Fd sock = connect_to(port);
    send_all(sock, request);
    return read_answer(sock);
}

std::string get(std::string_view path, std::string_view method = "GET") {
    return std::string(method) + " " + std::string(path) +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n";
}

AgentStatus fresh_status() {
    AgentStatus status;
    status.node = "node-a";
    status.cilium_version = "1.18";
    status.agent_version = "0.0.0-test";
    return status;
}

struct Served {
    StatusBoard board{fresh_status()};
    HttpServer server = [this] {
        auto started = HttpServer::start("127.0.0.1", 0, board);
        BOOST_REQUIRE_MESSAGE(started.has_value(), started.error().message);
        return std::move(*started);
    }();
};

} // namespace

BOOST_AUTO_TEST_SUITE(serve_http_server)

BOOST_FIXTURE_TEST_CASE(healthz_answers_ok_and_closes, Served) {
    BOOST_TEST(server.port() > 0);
    const Answer answer = round_trip(server.port(), get("/healthz"));
    BOOST_TEST(answer.status == 200);
    BOOST_TEST(answer.body == "ok\n");
    BOOST_TEST(answer.header("content-length") == "3");
    BOOST_TEST(answer.header("connection") == "close");
    BOOST_TEST(answer.header("content-type").starts_with("text/plain"));
    // RFC 9110 §6.6.1: an origin server with a clock sends Date, as IMF-fixdate.
    BOOST_TEST(
        std::regex_match(
            answer.header("date"),
            std::regex(
                R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT)")),
        answer.header("date"));
}

BOOST_FIXTURE_TEST_CASE(readyz_follows_the_status_board, Served) {
    Answer answer = round_trip(server.port(), get("/readyz"));
    BOOST_TEST(answer.status == 503);
    BOOST_TEST(answer.body.find("no probe has finished yet") != std::string::npos, answer.body);

    board.update([](AgentStatus& status) {
        status.probes = 1;
        status.last_publish_ok = false;
        status.api_answered = false;
        status.last_error = "connect: connection refused";
    });
    answer = round_trip(server.port(), get("/readyz"));
    BOOST_TEST(answer.status == 503);
    BOOST_TEST(answer.body.find("connection refused") != std::string::npos, answer.body);

    board.update([](AgentStatus& status) { status.last_publish_ok = true; });
    answer = round_trip(server.port(), get("/readyz"));
    BOOST_TEST(answer.status == 200);
    BOOST_TEST(answer.body == "ok\n");
}

BOOST_FIXTURE_TEST_CASE(metrics_are_served_in_the_prometheus_text_format, Served) {
    board.update([](AgentStatus& status) { status.probes = 7; });
    const Answer answer = round_trip(server.port(), get("/metrics"));
    BOOST_TEST(answer.status == 200);
    BOOST_TEST(answer.header("content-type").starts_with("text/plain; version=0.0.4"));
    BOOST_TEST(answer.header("content-length") == std::to_string(answer.body.size()));
    BOOST_TEST(answer.body.find("\nmeshlink_node_probes_total 7\n") != std::string::npos, answer.body);
    BOOST_TEST(answer.body.find("node=\"node-a\"") != std::string::npos, answer.body);
}

BOOST_FIXTURE_TEST_CASE(query_strings_and_absolute_urls_reach_the_route, Served) {
    BOOST_TEST(round_trip(server.port(), get("/healthz?verbose=1")).status == 200);
    BOOST_TEST(round_trip(server.port(), get("http://127.0.0.1:9473/healthz")).status == 200);
}

BOOST_FIXTURE_TEST_CASE(unknown_paths_are_404, Served) {
    for (const char* path : {"/", "/healthz/", "/metricsx", "/../healthz"}) {
        const Answer answer = round_trip(server.port(), get(path));
        BOOST_TEST(answer.status == 404, path);
        BOOST_TEST(answer.header("content-length") == std::to_string(answer.body.size()));
    }
}

BOOST_FIXTURE_TEST_CASE(other_methods_are_405_with_allow, Served) {
    for (const char* method : {"DELETE", "PUT", "OPTIONS", "get"}) {
        const Answer answer = round_trip(server.port(), get("/metrics", method));
        BOOST_TEST(answer.status == 405, method);
        BOOST_TEST(answer.header("allow") == "GET, HEAD");
    }
    // A body the server never reads must not cost the client its answer (no reset before it is read).
    const std::string body(20000, 'x');
    const Answer answer =
        round_trip(server.port(), "POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                                      std::to_string(body.size()) + "\r\n\r\n" + body);
    BOOST_TEST(answer.status == 405);
}

BOOST_FIXTURE_TEST_CASE(a_get_with_a_body_is_refused, Served) {
    const Answer answer =
        round_trip(server.port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc");
    BOOST_TEST(answer.status == 413);
}

BOOST_FIXTURE_TEST_CASE(head_sends_the_get_headers_without_a_body, Served) {
    const Answer get_answer = round_trip(server.port(), get("/readyz"));
    const Answer head_answer = round_trip(server.port(), get("/readyz", "HEAD"));
    BOOST_TEST(head_answer.status == get_answer.status);
    BOOST_TEST(head_answer.body.empty());
    BOOST_TEST(head_answer.header("content-length") == std::to_string(get_answer.body.size()));
    BOOST_TEST(head_answer.header("content-type") == get_answer.header("content-type"));
}

BOOST_FIXTURE_TEST_CASE(oversized_requests_are_refused_and_the_server_goes_on, Served) {
    // A header section larger than the 8 KiB limit.
    const std::string big_field = "X-Padding: " + std::string(16 * 1024, 'a') + "\r\n";
    Answer answer =
        round_trip(server.port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + big_field + "\r\n");
    BOOST_TEST(answer.status == 431);
    // A request line that never ends.
    answer = round_trip(server.port(), "GET /" + std::string(16 * 1024, 'a'));
    BOOST_TEST(answer.status == 414);
    BOOST_TEST(round_trip(server.port(), get("/healthz")).status == 200);
}

BOOST_FIXTURE_TEST_CASE(malformed_requests_are_400_or_505, Served) {
    BOOST_TEST(round_trip(server.port(), "garbage\r\n\r\n").status == 400);
    BOOST_TEST(round_trip(server.port(), "GET /healthz HTTP/1.1\r\n\r\n").status == 400); // no Host
    BOOST_TEST(round_trip(server.port(), "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n").status == 505);
    BOOST_TEST(round_trip(server.port(), "GET /healthz HTTP/1.0\r\n\r\n").status == 200); // Host optional
    BOOST_TEST(round_trip(server.port(), "\r\nGET /healthz HTTP/1.1\nHost: x\n\n").status == 200);
}

BOOST_FIXTURE_TEST_CASE(a_half_closed_client_still_gets_its_answer, Served) {
    const util::Fd sock = connect_to(server.port());
    send_all(sock, get("/healthz"));
    ::shutdown(sock.get(), SHUT_WR);
    BOOST_TEST(read_answer(sock).status == 200);
}

BOOST_FIXTURE_TEST_CASE(an_incomplete_request_gets_408_when_the_head_timeout_passes, Served) {
    const util::Fd sock = connect_to(server.port());
    send_all(sock, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    BOOST_TEST(read_answer(sock).status == 408);
}

BOOST_FIXTURE_TEST_CASE(concurrent_clients_are_served_while_one_stalls, Served) {
    // A client that sent half a request and stopped must not hold up anybody else.
    const util::Fd stalled = connect_to(server.port());
    send_all(stalled, "GET /heal");
    constexpr int k_clients = 8;
    constexpr int k_requests = 20;
    std::atomic<int> ok{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < k_clients; ++c) {
        clients.emplace_back([&, c] {
            for (int i = 0; i < k_requests; ++i) {
                // No Boost.Test assertions off the main thread: count the successes instead.
                const util::Fd sock = try_connect(server.port());
                if (!sock) {
                    continue;
                }
                const std::string request = get(c % 2 == 0 ? "/healthz" : "/metrics");
                if (::send(sock.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
                    static_cast<ssize_t>(request.size())) {
                    continue;
                }
                std::string raw;
                char buffer[4096];
                ssize_t n = 0;
                while ((n = ::recv(sock.get(), buffer, sizeof buffer, 0)) > 0) {
                    raw.append(buffer, static_cast<std::size_t>(n));
                }
                if (raw.starts_with("HTTP/1.1 200 ")) {
                    ++ok;
                }
            }
        });
    }
    for (auto& client : clients) {
        client.join();
    }
    BOOST_TEST(ok.load() == k_clients * k_requests);
}

BOOST_AUTO_TEST_CASE(stop_closes_the_port_and_is_idempotent) {
    StatusBoard board(fresh_status());
    auto server = HttpServer::start("127.0.0.1", 0, board);
    BOOST_REQUIRE(server.has_value());
    const int port = server->port();
    BOOST_TEST(round_trip(port, get("/healthz")).status == 200);
    // An idle client (connected, nothing sent) does not hold stop() up; it sees the connection end.
    const util::Fd idle = connect_to(port);
    server->stop();
    char byte = 0;
    BOOST_TEST(::recv(idle.get(), &byte, 1, 0) <= 0);

    const util::Fd refused = try_connect(port);
    const int error = errno;
    BOOST_TEST(!refused);
    BOOST_TEST(error == ECONNREFUSED, std::strerror(error));
    server->stop(); // again: nothing to do
}

BOOST_AUTO_TEST_CASE(a_port_in_use_is_an_error_naming_the_address) {
    StatusBoard board(fresh_status());
    auto first = HttpServer::start("127.0.0.1", 0, board);
    BOOST_REQUIRE(first.has_value());
    auto second = HttpServer::start("127.0.0.1", first->port(), board);
    BOOST_REQUIRE(!second.has_value());
    BOOST_TEST(second.error().message.find("127.0.0.1:" + std::to_string(first->port())) != std::string::npos,
               second.error().message);
    BOOST_TEST(round_trip(first->port(), get("/healthz")).status == 200);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// kubelet's timeoutSeconds for the DaemonSet's probe of `path` (1 s, kubelet's default, when absent): the
// bound a probe answer must meet, or kubelet counts the probe failed.
std::chrono::seconds manifest_probe_timeout(std::string_view path) {
    const auto file = std::filesystem::path(MESHLINK_SOURCE_DIR) / "manifests/agent/daemonset.yaml";
    auto text = util::read_file(file);
    BOOST_REQUIRE_MESSAGE(text, file.string() << ": " << text.error().reason());
    auto node = yaml::load(*text, file.string());
    BOOST_REQUIRE_MESSAGE(node, node.error().message);
    const nlohmann::json daemonset = yaml::to_json(*node);
    for (const auto& container : daemonset["spec"]["template"]["spec"]["containers"]) {
        for (const char* kind : {"livenessProbe", "readinessProbe"}) {
            if (container.contains(kind) && container[kind]["httpGet"].value("path", "") == path) {
                return std::chrono::seconds(container[kind].value("timeoutSeconds", 1));
            }
        }
    }
    BOOST_FAIL(file.string() << ": no probe of " << path);
    return {};
}

// The attacks below hold 1,000 connections from this process, and the server up to its own cap.
constexpr std::size_t k_attackers = 1000;
constexpr rlim_t k_descriptors_needed = 2048;

struct EnoughDescriptors {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        rlimit limit{};
        ::getrlimit(RLIMIT_NOFILE, &limit);
        if (limit.rlim_cur < k_descriptors_needed && limit.rlim_max >= k_descriptors_needed) {
            limit.rlim_cur = k_descriptors_needed;
            ::setrlimit(RLIMIT_NOFILE, &limit);
            ::getrlimit(RLIMIT_NOFILE, &limit);
        }
        boost::test_tools::assertion_result result(limit.rlim_cur >= k_descriptors_needed);
        result.message() << "needs " << k_descriptors_needed << " file descriptors (RLIMIT_NOFILE), the hard "
                         << "limit here is " << limit.rlim_max;
        return result;
    }
};

// An attacker holding `count` connections to the server from its own thread. Idle connections send nothing;
// slow ones (slowloris) send a request head one byte at a time and never finish it. Whatever the server
// closes or answers is reconnected at once, so the server faces `count` connections for as long as the attack
// lasts.
class Attack {
public:
    enum class Mode { idle, slow };

    Attack(int port, Mode mode) : m_port(port), m_mode(mode) {
        m_sockets.resize(k_attackers);
        m_sent.resize(k_attackers);
        for (std::size_t i = 0; i < k_attackers; ++i) {
            // Blocking connects: when this constructor returns, all of them have been established.
            m_sockets[i] = connect_to(port);
            set_nonblocking(m_sockets[i]);
        }
        m_thread = std::thread([this] { run(); });
    }
    Attack(const Attack&) = delete;
    Attack& operator=(const Attack&) = delete;
    ~Attack() {
        m_stop = true;
        m_thread.join();
    }

private:
    static void set_nonblocking(const util::Fd& sock) {
        ::fcntl(sock.get(), F_SETFL, ::fcntl(sock.get(), F_GETFL) | O_NONBLOCK);
    }

    void reconnect(std::size_t i) {
        util::Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<std::uint16_t>(m_port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        // EINPROGRESS is the usual answer: the connection completes while the loop goes on.
        ::connect(sock.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
        m_sockets[i] = std::move(sock);
        m_sent[i] = 0;
    }

    void run() {
        // The never-ending head: a request line, then one header field whose value never ends.
        static constexpr std::string_view k_head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
        std::vector<pollfd> fds(k_attackers);
        auto next_byte = std::chrono::steady_clock::now();
        while (!m_stop) {
            for (std::size_t i = 0; i < k_attackers; ++i) {
                fds[i] = {m_sockets[i].get(), POLLIN, 0};
            }
            ::poll(fds.data(), fds.size(), 10);
            for (std::size_t i = 0; i < k_attackers; ++i) {
                // Readable: the server answered (408) or closed the connection. Either way, connect again.
                if (fds[i].revents != 0) {
                    reconnect(i);
                }
            }
            if (m_mode == Mode::slow && std::chrono::steady_clock::now() >= next_byte) {
                next_byte += std::chrono::milliseconds(50);
                for (std::size_t i = 0; i < k_attackers; ++i) {
                    const char byte = m_sent[i] < k_head.size() ? k_head[m_sent[i]] : 'a';
                    const ssize_t n = ::send(m_sockets[i].get(), &byte, 1, MSG_NOSIGNAL);
                    if (n == 1) {
                        ++m_sent[i];
                    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN) {
                        reconnect(i);
                    }
                }
            }
        }
    }

    int m_port;
    Mode m_mode;
    std::vector<util::Fd> m_sockets;
    std::vector<std::size_t> m_sent;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

// kubelet's view: every /healthz and /readyz probe is answered, each within the manifest's timeoutSeconds for
// it, while the attack runs.
void probes_answer_in_time(int port, int rounds) {
    using Clock = std::chrono::steady_clock;
    for (int round = 0; round < rounds; ++round) {
        for (const char* path : {"/healthz", "/readyz"}) {
            const auto timeout = manifest_probe_timeout(path);
            const auto started = Clock::now();
            const Answer answer = round_trip(port, get(path));
            const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
            BOOST_TEST(answer.status == 200, path);
            BOOST_TEST(took <= timeout, path << " answered after " << took.count()
                                             << " ms, kubelet gives up after " << timeout.count() << " s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

struct ReadyServed : Served {
    ReadyServed() {
        board.update([](AgentStatus& status) {
            status.probes = 1;
            status.last_publish_ok = true;
            status.api_answered = true;
        });
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(serve_http_server_under_attack)

BOOST_FIXTURE_TEST_CASE(probes_are_answered_while_1000_idle_clients_hold_connections, ReadyServed,
                        *boost::unit_test::precondition(EnoughDescriptors())) {
    {
        const Attack attack(server.port(), Attack::Mode::idle);
        probes_answer_in_time(server.port(), 10);
    }
    BOOST_TEST(round_trip(server.port(), get("/metrics")).status == 200);
}

BOOST_FIXTURE_TEST_CASE(probes_are_answered_while_1000_slowloris_clients_trickle_their_heads, ReadyServed,
                        *boost::unit_test::precondition(EnoughDescriptors())) {
    {
        const Attack attack(server.port(), Attack::Mode::slow);
        // Over 6 s: past the 5 s head timeout, so the 408s and the attacker's reconnects are part of it too.
        probes_answer_in_time(server.port(), 60);
    }
    BOOST_TEST(round_trip(server.port(), get("/metrics")).status == 200);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(serve_http_message)

BOOST_AUTO_TEST_CASE(the_head_ends_at_the_first_empty_line) {
    using agent::serve::http::find_head_end;
    BOOST_TEST(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n") == std::string::npos);
    BOOST_TEST(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n\r\nbody") == 27u);
    BOOST_TEST(find_head_end("GET / HTTP/1.1\nHost: x\n\n") == 24u);
    BOOST_TEST(find_head_end("\r\n\r\nGET / HTTP/1.1\r\n\r\n") == 22u); // empty lines before it are skipped
    BOOST_TEST(find_head_end("\r\n\r") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(heads_are_parsed_strictly) {
    using agent::serve::http::parse_request_head;
    auto request = parse_request_head("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    BOOST_REQUIRE(request.has_value());
    BOOST_TEST(request->method == "GET");
    BOOST_TEST(request->path == "/metrics");
    BOOST_TEST(!request->has_body);

    request =
        parse_request_head("GET https://h:1?q HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    BOOST_REQUIRE(request.has_value());
    BOOST_TEST(request->path == "/");
    BOOST_TEST(request->has_body);

    const auto status = [](std::string_view head) {
        auto parsed = parse_request_head(head);
        return parsed ? 0 : parsed.error().status;
    };
    BOOST_TEST(status("GET /  HTTP/1.1\r\nHost: a\r\n\r\n") == 400);           // two spaces
    BOOST_TEST(status("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n") == 400); // obs-fold
    BOOST_TEST(status("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == 400);           // space before the colon
    BOOST_TEST(status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400); // two Hosts
    BOOST_TEST(status("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n") == 400);         // bare CR
    BOOST_TEST(status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400);
    BOOST_TEST(status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n") == 400);
    BOOST_TEST(status("GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n") == 400); // authority-form
    BOOST_TEST(status("GET / HTTP/3.0\r\nHost: a\r\n\r\n") == 505);
    BOOST_TEST(status("GET / HTTP/1.1\r\nHost: a\r\n\r\n") == 0);
}

BOOST_AUTO_TEST_CASE(responses_carry_their_length_and_head_omits_the_body) {
    using namespace agent::serve::http;
    Response response = plain(405, "no");
    response.allow = "GET, HEAD";
    const auto epoch = std::chrono::system_clock::time_point{};
    const std::string full = serialize(response, false, epoch);
    BOOST_TEST(full == "HTTP/1.1 405 Method Not Allowed\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\nAllow: GET, HEAD\r\n"
                       "Connection: close\r\n\r\nno\n");
    const std::string head = serialize(response, true, epoch);
    BOOST_TEST(head == full.substr(0, full.size() - 3));
}

BOOST_AUTO_TEST_SUITE_END()
