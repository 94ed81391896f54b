// The agent's own D-Bus client (node-agent/rollout/system_bus.hpp): the address syntax, the wire format
// against a real dbus-daemon (which drops a client that sends a malformed message), and a hostile bus that
// answers with lies (huge lengths, bad bytes, control characters, silence) on a unix socket of this test.

#include "node-agent/rollout/system_bus.hpp"
#include "util/subprocess.hpp"

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

namespace meshlink::agent::rollout::dbus {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct TempDir {
    fs::path path;
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "meshlink-bus-XXXXXX").string();
        BOOST_TEST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

// A reply or signal as a bus would send it (little endian): header fields REPLY_SERIAL, ERROR_NAME, SIGNATURE
// as given, and a body of one string when `text` is set.
std::string message(std::uint8_t type, std::uint32_t reply_serial, const std::string& error_name = "",
                    const std::optional<std::string>& text = std::nullopt) {
    std::string out;
    auto align = [&](std::size_t n) { out.resize((out.size() + n - 1) / n * n, '\0'); };
    auto u32 = [&](std::uint32_t v) {
        align(4);
        for (int i = 0; i < 4; ++i) {
            out += static_cast<char>(v >> (8 * i));
        }
    };
    auto str = [&](const std::string& s) {
        u32(static_cast<std::uint32_t>(s.size()));
        out += s;
        out += '\0';
    };
    out += "l";
    out += static_cast<char>(type);
    out += '\x01'; // no reply expected
    out += '\x01';
    u32(0);
    u32(1000);
    u32(0);
    const std::size_t fields = out.size();
    if (reply_serial != 0) {
        align(8);
        out += std::string("\x05\x01u\0", 4);
        u32(reply_serial);
    }
    if (!error_name.empty()) {
        align(8);
        out += std::string("\x04\x01s\0", 4);
        str(error_name);
    }
    if (text) {
        align(8);
        out += std::string("\x08\x01g\0\x01s\0", 7);
    }
    const auto fields_length = static_cast<std::uint32_t>(out.size() - fields);
    std::memcpy(out.data() + 12, &fields_length, 4);
    align(8);
    const std::size_t body = out.size();
    if (text) {
        str(*text);
    }
    const auto body_length = static_cast<std::uint32_t>(out.size() - body);
    std::memcpy(out.data() + 4, &body_length, 4);
    return out;
}

// A bus on a unix socket of its own that accepts one client: answers its authentication with `auth_answer`,
// replies to Hello, then hands the next call's serial to `answer`, whose bytes it sends back.
class HostileBus {
public:
    HostileBus(std::string auth_answer, std::function<std::string(std::uint32_t)> answer)
        : m_socket(m_dir.path / "bus") {
        m_listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, m_socket.c_str(), sizeof(address.sun_path) - 1);
        BOOST_TEST_REQUIRE(::bind(m_listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
        BOOST_TEST_REQUIRE(::listen(m_listener, 1) == 0);
        m_thread = std::thread([this, auth_answer = std::move(auth_answer), answer = std::move(answer)] {
            const int client = ::accept(m_listener, nullptr, nullptr);
            if (client < 0) {
                return;
            }
            std::string in;
            auto read_until = [&](const std::function<bool()>& done) {
                char chunk[4096];
                while (!done()) {
                    const auto got = ::recv(client, chunk, sizeof(chunk), 0);
                    if (got <= 0) {
                        return false;
                    }
                    in.append(chunk, static_cast<std::size_t>(got));
                }
                return true;
            };
            auto whole_message = [&] {
                auto size = message_size(in);
                return size && *size && in.size() >= **size;
            };
            auto take_message = [&]() -> std::optional<Message> {
                if (!read_until(whole_message)) {
                    return std::nullopt;
                }
                const std::size_t size = **message_size(in);
                auto decoded = decode(std::string_view(in).substr(0, size));
                in.erase(0, size);
                return decoded ? std::optional<Message>(*decoded) : std::nullopt;
            };
            if (read_until([&] { return in.find("\r\n") != std::string::npos; })) {
                m_auth_line = in.substr(0, in.find("\r\n"));
                in.erase(0, in.find("\r\n") + 2);
                ::send(client, auth_answer.data(), auth_answer.size(), MSG_NOSIGNAL);
                if (auth_answer.starts_with("OK") &&
                    read_until([&] { return in.find("BEGIN\r\n") != std::string::npos; })) {
                    in.erase(0, in.find("BEGIN\r\n") + 7);
                    if (auto hello = take_message()) {
                        const std::string reply = message(2, hello->serial, "", std::string(":1.1"));
                        ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
                        if (auto call = take_message()) {
                            const std::string bytes = answer(call->serial);
                            ::send(client, bytes.data(), bytes.size(), MSG_NOSIGNAL);
                        }
                    }
                }
            }
            // Keep the connection open until the client is done (a silent bus must time out, not close).
            char ignored;
            while (::recv(client, &ignored, 1, 0) > 0) {
            }
            ::close(client);
        });
    }
    ~HostileBus() {
        ::shutdown(m_listener, SHUT_RDWR);
        m_thread.join();
        ::close(m_listener);
    }
    [[nodiscard]] std::string address() const { return "unix:path=" + m_socket.string(); }
    [[nodiscard]] const std::string& auth_line() const { return m_auth_line; }

private:
    TempDir m_dir;
    fs::path m_socket;
    int m_listener = -1;
    std::string m_auth_line;
    std::thread m_thread;
};

const MethodCall k_reboot{"org.freedesktop.login1",
                          "/org/freedesktop/login1",
                          "org.freedesktop.login1.Manager",
                          "Reboot",
                          {Argument::boolean(false)}};

// Opens a connection to `bus` and makes the Reboot call; the error message, or "" on success.
std::string call_error(const HostileBus& bus, std::chrono::milliseconds timeout = 5s) {
    auto connection = Connection::open(bus.address(), timeout);
    if (!connection) {
        return connection.error().message;
    }
    auto called = connection->call(k_reboot);
    return called ? std::string() : called.error().message;
}

bool dbus_daemon_found(boost::unit_test::test_unit_id) {
    return util::find_executable("dbus-daemon").has_value();
}

} // namespace

BOOST_AUTO_TEST_SUITE(system_bus)

BOOST_AUTO_TEST_CASE(addresses_are_parsed_as_the_specification_says) {
    auto plain = parse_address("unix:path=/run/dbus/system_bus_socket");
    BOOST_TEST_REQUIRE(plain.has_value());
    BOOST_TEST_REQUIRE(plain->size() == 1U);
    BOOST_TEST((*plain)[0].path == "/run/dbus/system_bus_socket");
    BOOST_TEST(!(*plain)[0].abstract);

    // Several addresses, non-unix ones skipped, other keys ignored, values percent-decoded.
    auto several =
        parse_address("tcp:host=127.0.0.1,port=1;unix:abstract=/tmp/dbus-x,guid=0f;unix:path=/a%20b");
    BOOST_TEST_REQUIRE(several.has_value());
    BOOST_TEST_REQUIRE(several->size() == 2U);
    BOOST_TEST((*several)[0].path == "/tmp/dbus-x");
    BOOST_TEST((*several)[0].abstract);
    BOOST_TEST((*several)[1].path == "/a b");

    for (const std::string bad :
         {"nonsense", "unix:path", "unix:path=%zz", "unix:path=%4", "tcp:host=x,port=1", "", "unix:guid=1"}) {
        auto parsed = parse_address(bad);
        BOOST_TEST(!parsed.has_value(), bad);
        if (!parsed) {
            BOOST_TEST(parsed.error().message.find("D-Bus address") != std::string::npos,
                       parsed.error().message);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_method_call_decodes_to_what_was_encoded) {
    const std::string bytes = encode(k_reboot, 7);
    BOOST_TEST(bytes.size() % 4 == 0U);
    auto size = message_size(bytes);
    BOOST_TEST_REQUIRE(size.has_value());
    BOOST_TEST_REQUIRE(size->has_value());
    BOOST_TEST(**size == bytes.size());
    auto decoded = decode(bytes);
    BOOST_TEST_REQUIRE(decoded.has_value(), decoded.error().message);
    BOOST_TEST((decoded->type == Message::Type::method_call));
    BOOST_TEST(decoded->serial == 7U);
    BOOST_TEST(decoded->signature == "b");
    // The body is the boolean false: one 32-bit zero after the 8-aligned header.
    BOOST_TEST(bytes.substr(bytes.size() - 4) == std::string(4, '\0'));
    // Every truncation of a whole message is refused, never read past.
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        BOOST_TEST(!decode(std::string_view(bytes).substr(0, cut)).has_value(), cut);
    }
}

// The real dbus-daemon checks every message it is sent and disconnects a client whose bytes break the
// specification: authentication, Hello, a call that succeeds and one whose error comes back decoded.
BOOST_AUTO_TEST_CASE(a_real_dbus_daemon_accepts_the_client,
                     *boost::unit_test::precondition(dbus_daemon_found)) {
    TempDir dir;
    const std::string address = "unix:path=" + (dir.path / "bus").string();
    const pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        const int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, 1);
        ::dup2(null, 2);
        const std::string flag = "--address=" + address;
        ::execlp("dbus-daemon", "dbus-daemon", "--session", "--nofork", "--nopidfile", flag.c_str(), nullptr);
        ::_exit(127);
    }
    util::ChildProcess daemon(pid);
    for (int i = 0; i < 500 && !fs::exists(dir.path / "bus"); ++i) {
        std::this_thread::sleep_for(10ms);
    }
    BOOST_TEST_REQUIRE(fs::exists(dir.path / "bus"));

    auto bus = Connection::open(address, 10s);
    BOOST_TEST_REQUIRE(bus.has_value(), bus.error().message);
    MethodCall has_owner{"org.freedesktop.DBus",
                         "/org/freedesktop/DBus",
                         "org.freedesktop.DBus",
                         "NameHasOwner",
                         {Argument{'s', 0, "org.example.Nobody"}}};
    auto owned = bus->call(has_owner);
    BOOST_TEST(owned.has_value(), owned.error().message);
    // Nobody owns org.freedesktop.login1 on this bus: the daemon's error, decoded.
    auto refused = bus->call(k_reboot);
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(refused.error().message.starts_with("org.freedesktop.DBus.Error.ServiceUnknown: "),
               refused.error().message);
    // After an error the connection still works: it was not dropped for a malformed message.
    BOOST_TEST(bus->call(has_owner).has_value());
    daemon.kill_and_reap();
}

BOOST_AUTO_TEST_CASE(the_client_authenticates_as_its_own_uid) {
    HostileBus bus("OK 0123456789abcdef0123456789abcdef\r\n",
                   [](std::uint32_t serial) { return message(2, serial); });
    BOOST_TEST(call_error(bus) == "");
    std::string uid_hex;
    for (const char c : std::to_string(::geteuid())) {
        uid_hex += "3" + std::string(1, c);
    }
    BOOST_TEST(bus.auth_line() == std::string(1, '\0') + "AUTH EXTERNAL " + uid_hex);
}

BOOST_AUTO_TEST_CASE(signals_and_other_replies_before_ours_are_skipped) {
    HostileBus bus("OK 0123456789abcdef0123456789abcdef\r\n", [](std::uint32_t serial) {
        return message(4, 0) + message(2, serial + 100) + message(3, serial, "org.example.Error.Nope", "no");
    });
    BOOST_TEST(call_error(bus) == "org.example.Error.Nope: no");
}

BOOST_AUTO_TEST_CASE(a_hostile_bus_gets_an_error_not_a_crash_or_a_hang) {
    const std::string ok = "OK 0123456789abcdef0123456789abcdef\r\n";
    {
        HostileBus bus("REJECTED EXTERNAL\r\n", [](std::uint32_t) { return std::string(); });
        const std::string error = call_error(bus);
        BOOST_TEST(error.find("refused EXTERNAL authentication") != std::string::npos, error);
    }
    {
        HostileBus bus(std::string(600, 'x'), [](std::uint32_t) { return std::string(); });
        BOOST_TEST(call_error(bus).find("too long") != std::string::npos);
    }
    {
        // 2 GiB announced: refused from the first 16 bytes, nothing allocated for it.
        HostileBus bus(ok, [](std::uint32_t serial) {
            std::string reply = message(2, serial);
            const std::uint32_t huge = 0x80000000U;
            std::memcpy(reply.data() + 4, &huge, 4);
            return reply;
        });
        const std::string error = call_error(bus);
        BOOST_TEST(error.find("more than the 1048576 accepted") != std::string::npos, error);
    }
    {
        HostileBus bus(ok, [](std::uint32_t serial) { return "X" + message(2, serial).substr(1); });
        BOOST_TEST(call_error(bus).find("endianness byte 0x58") != std::string::npos);
    }
    {
        // An error name whose length runs past the header.
        HostileBus bus(ok, [](std::uint32_t serial) {
            std::string reply = message(3, serial, "org.example.E", "x");
            const std::size_t name_length = reply.find("org.example.E") - 4;
            const std::uint32_t lie = 5000;
            std::memcpy(reply.data() + name_length, &lie, 4);
            return reply;
        });
        BOOST_TEST(call_error(bus).find("D-Bus message") != std::string::npos);
    }
    {
        // Escape sequences in the error are shown, never sent to the terminal.
        HostileBus bus(ok, [](std::uint32_t serial) {
            return message(3, serial, "org.example.E", "\x1b]0;owned\x07\x1b[2J");
        });
        const std::string error = call_error(bus);
        BOOST_TEST(error.find('\x1b') == std::string::npos, error);
        BOOST_TEST(error.find("\\x1b]0;owned") != std::string::npos, error);
    }
    {
        // Silence: the deadline ends the wait.
        HostileBus bus(ok, [](std::uint32_t) { return std::string(); });
        const std::string error = call_error(bus, 300ms);
        BOOST_TEST(error.find("no answer in time") != std::string::npos, error);
    }
}

BOOST_AUTO_TEST_CASE(no_bus_listening_is_a_clear_error) {
    TempDir dir;
    auto bus = Connection::open("unix:path=" + (dir.path / "none").string(), 1s);
    BOOST_TEST_REQUIRE(!bus.has_value());
    BOOST_TEST(bus.error().message.find("cannot connect to unix:path=") != std::string::npos,
               bus.error().message);
    BOOST_TEST(bus.error().message.find("No such file or directory") != std::string::npos,
               bus.error().message);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace meshlink::agent::rollout::dbus
