// The agent's HTTP server over real sockets on 127.0.0.1: routes, refusals, HEAD, concurrency, stop.

#include "node-agent/serve/http_message.hpp"
#include "node-agent/serve/http_server.hpp"
#include "util/fd.hpp"

#include <arpa/inet.h>
#include <boost/test/unit_test.hpp>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
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
