// The script a `demo verify` Job runs (plugin/demo/client.sh, the very text the plugin embeds), run here as a
// process with the system's sh and curl against HTTP servers on loopback addresses that answer like
// rebel-base (nginx serving {"Galaxy": "Alderaan", "Cluster": "<name>"}), one that accepts and never answers,
// and an address where nothing listens; its output parsed by the plugin's own reader. The same for `verify`'s
// TCP probe (plugin/verify/tcp_probe.sh).
#include "plugin/demo/attempts.hpp"
#include "plugin/demo/script.hpp"
#include "plugin/verify/mesh_verify.hpp"
#include "plugin/verify/script.hpp"
#include "tests/integration/support/fakekube_process.hpp"

#include <arpa/inet.h>
#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <thread>

namespace demo = meshlink::plugin::demo;

namespace {

// A TCP server on address:port, in a thread: answers every request with `body` (HTTP/1.1, Connection:
// close), or, when `silent`, accepts and never answers.
class LoopbackServer {
public:
    LoopbackServer(const std::string& address, int port, std::string body, bool silent = false)
        : m_body(std::move(body)), m_silent(silent) {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port));
        ::inet_pton(AF_INET, address.c_str(), &addr.sin_addr);
        if (::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(m_fd, 16) != 0) {
            ::close(m_fd);
            m_fd = -1;
            return;
        }
        m_thread = std::thread([this] { serve(); });
    }
    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;
    ~LoopbackServer() {
        m_stop = true;
        if (m_thread.joinable()) {
            m_thread.join();
        }
        for (int fd : m_held) {
            ::close(fd);
        }
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    [[nodiscard]] bool listening() const { return m_fd >= 0; }
    [[nodiscard]] int served() const { return m_served; }

private:
    void serve() {
        while (!m_stop) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) {
                continue;
            }
            const int conn = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (conn < 0) {
                continue;
            }
            if (m_silent) {
                m_held.push_back(conn); // the client's --max-time ends it
                continue;
            }
            std::string request;
            char buffer[2048];
            while (request.find("\r\n\r\n") == std::string::npos) {
                const auto n = ::read(conn, buffer, sizeof buffer);
                if (n <= 0) {
                    break;
                }
                request.append(buffer, static_cast<std::size_t>(n));
            }
            const std::string response =
                fmt::format("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: "
                            "close\r\n\r\n{}",
                            m_body.size(), m_body);
            (void)!::write(conn, response.data(), response.size());
            ::close(conn);
            ++m_served;
        }
    }

    std::string m_body;
    bool m_silent;
    int m_fd = -1;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_served{0};
    std::vector<int> m_held;
    std::thread m_thread;
};

std::string rebel_base(const std::string& cluster) {
    return "{\"Galaxy\": \"Alderaan\", \"Cluster\": \"" + cluster + "\"}\n";
}

} // namespace

BOOST_AUTO_TEST_SUITE(demo_client)

BOOST_AUTO_TEST_CASE(the_jobs_script_against_loopback_rebel_bases) {
    auto curl = meshlink::test::run_command({"curl", "--version"}, meshlink::test::environment_with({}));
    if (!curl || curl->exit_code != 0) {
        BOOST_TEST_MESSAGE("skipped: no curl on this machine (the Job's image has it)");
        return;
    }
    // An unprivileged port shared by every address, as the Service port is shared by every backend.
    const int port = 18080;
    LoopbackServer service("127.0.0.2", port, rebel_base("cluster1"));
    LoopbackServer remote_a("127.0.0.3", port, rebel_base("cluster2"));
    LoopbackServer remote_b("127.0.0.4", port, rebel_base("cluster2"));
    LoopbackServer silent("127.0.0.6", port, "", true);
    BOOST_REQUIRE(service.listening() && remote_a.listening() && remote_b.listening() && silent.listening());

    const meshlink::test::TempDirectory tmp;
    const auto script = tmp.write("client.sh", std::string(demo::client_script()));
    auto run = meshlink::test::run_command(
        {"sh", script.string()},
        meshlink::test::environment_with(
            {"SERVICE=127.0.0.2", "POD_IPS=127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6",
             "PORT=" + std::to_string(port), "REQUESTS=5", "POD_REQUESTS=2", "CONNECT_TIMEOUT=1",
             "MAX_TIME=1", "PAUSE=0", "TMPDIR=" + tmp.path().string()}),
        std::chrono::seconds(60));
    BOOST_REQUIRE(run);
    BOOST_TEST(run->exit_code == 0, run->err);

    const demo::ClientRun parsed = demo::parse_client_log(run->out);
    BOOST_TEST(parsed.complete, run->out);
    BOOST_TEST(parsed.noise == 0, run->out);
    BOOST_REQUIRE_EQUAL(parsed.attempts.size(), 5U + 4U * 2U);
    std::map<std::string, std::map<std::string, int>> by_target; // target -> outcome or cluster -> count
    for (const auto& a : parsed.attempts) {
        const std::string what = a.outcome == demo::Outcome::reply ? "reply:" + a.cluster
                                                                   : std::string(demo::to_string(a.outcome));
        ++by_target[a.kind + " " + a.target][what];
    }
    BOOST_TEST(by_target["service 127.0.0.2"] == (std::map<std::string, int>{{"reply:cluster1", 5}}));
    BOOST_TEST(by_target["pod 127.0.0.3"] == (std::map<std::string, int>{{"reply:cluster2", 2}}));
    BOOST_TEST(by_target["pod 127.0.0.4"] == (std::map<std::string, int>{{"reply:cluster2", 2}}));
    BOOST_TEST(by_target["pod 127.0.0.5"] == (std::map<std::string, int>{{"refused", 2}}));
    BOOST_TEST(by_target["pod 127.0.0.6"] == (std::map<std::string, int>{{"timeout", 2}}));
    // Each request its own connection: every reply was a separate accept.
    BOOST_TEST(service.served() == 5);
    BOOST_TEST(remote_a.served() == 2);
}

// `verify`'s per-node probe (plugin/verify/tcp_probe.sh): a listener that is not even TLS still counts as
// reached (the TCP connection was made), an address where nothing listens is refused.
BOOST_AUTO_TEST_CASE(the_tcp_probe_against_loopback_listeners) {
    auto curl = meshlink::test::run_command({"curl", "--version"}, meshlink::test::environment_with({}));
    if (!curl || curl->exit_code != 0) {
        BOOST_TEST_MESSAGE("skipped: no curl on this machine (the Job's image has it)");
        return;
    }
    const int port = 18081;
    LoopbackServer listener("127.0.0.2", port, "not TLS");
    BOOST_REQUIRE(listener.listening());
    const meshlink::test::TempDirectory tmp;
    const auto script = tmp.write("tcp_probe.sh", std::string(meshlink::plugin::verify::tcp_probe_script()));
    auto run = meshlink::test::run_command(
        {"sh", script.string()},
        meshlink::test::environment_with(
            {fmt::format("TARGETS=peer/clustermesh=127.0.0.2:{} peer/apiserver=127.0.0.5:{}", port, port),
             "ATTEMPTS=2", "TIMEOUT=1", "TMPDIR=" + tmp.path().string()}),
        std::chrono::seconds(60));
    BOOST_REQUIRE(run);
    BOOST_TEST(run->exit_code == 0, run->err);
    const auto parsed = meshlink::plugin::verify::parse_probe_log(run->out);
    BOOST_TEST(parsed.complete, run->out);
    BOOST_TEST(parsed.noise == 0, run->out);
    BOOST_REQUIRE_EQUAL(parsed.attempts.size(), 4U);
    std::map<std::string, std::map<std::string, int>> outcomes;
    for (const auto& a : parsed.attempts) {
        ++outcomes[a.target + " " + a.address][meshlink::plugin::verify::probe_outcome(a)];
    }
    BOOST_TEST(outcomes[fmt::format("peer/clustermesh 127.0.0.2:{}", port)] ==
                   (std::map<std::string, int>{{"open", 2}}),
               run->out);
    BOOST_TEST(outcomes[fmt::format("peer/apiserver 127.0.0.5:{}", port)] ==
               (std::map<std::string, int>{{"refused", 2}}));
}

BOOST_AUTO_TEST_SUITE_END()
