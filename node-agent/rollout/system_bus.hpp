#pragma once
// A minimal D-Bus client for the one call the agent makes on the host's system bus (logind's Reboot): the
// address syntax, SASL EXTERNAL authentication, and marshalling of method calls whose arguments are basic
// types, following the D-Bus specification. It replaces libsystemd's sd-bus, which the static agent of the
// FROM scratch image cannot link or load, so every build of the agent speaks to the bus with this same code.
// What the bus sends back is data: every length and offset is checked against the received bytes, a message
// may be at most 1 MiB, and error names and texts are shown through util::printable.

#include "util/error.hpp"
#include "util/fd.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::agent::rollout::dbus {

// One server address of a D-Bus address string ("unix:path=/run/dbus/system_bus_socket;unix:abstract=x").
struct Address {
    std::string path;      // the socket's path, or its abstract name
    bool abstract = false; // unix:abstract=
};

// The unix addresses of `text`, in order (other transports, such as tcp:, are skipped); values are
// percent-decoded. An error names what is malformed, or says that no unix address is there.
util::Result<std::vector<Address>> parse_address(std::string_view text);

// $DBUS_SYSTEM_BUS_ADDRESS when set and not empty, else the specification's default
// unix:path=/run/dbus/system_bus_socket (where the DaemonSet mounts the host's).
std::string system_bus_address();

// An argument of a method call: a boolean ("b"), a 32-bit unsigned integer ("u") or a string ("s").
struct Argument {
    char type = 'b';
    std::uint32_t number = 0; // b (0 or 1) and u
    std::string text;         // s
    static Argument boolean(bool value) { return {'b', value ? 1U : 0U, {}}; }
};

struct MethodCall {
    std::string destination;
    std::string path;
    std::string interface;
    std::string member;
    std::vector<Argument> arguments;
};

// A message as decoded from the bus: its header fields and, for errors, the error's first string argument.
struct Message {
    enum class Type : std::uint8_t { method_call = 1, method_return = 2, error = 3, signal = 4 };
    Type type = Type::method_call;
    std::uint32_t serial = 0;
    std::optional<std::uint32_t> reply_serial;
    std::string error_name; // ERROR_NAME header field
    std::string signature;  // SIGNATURE header field ("" without a body)
    std::string text;       // the body's first argument when the signature starts with 's'
};

// The wire form of `call` with serial `serial` (little endian, protocol version 1).
std::string encode(const MethodCall& call, std::uint32_t serial);

// The size of the message starting at `bytes` once its first 16 bytes are there (nullopt before), or an error
// when those bytes cannot start a message (endianness, version, a length over 1 MiB).
util::Result<std::optional<std::size_t>> message_size(std::string_view bytes);

// Decodes one whole message (exactly message_size() bytes), either endianness.
util::Result<Message> decode(std::string_view message);

// One connection to a bus, authenticated (EXTERNAL, as this process's effective uid) and registered (Hello).
class Connection {
public:
    // Connects to the first address of `address` that accepts, within `timeout` for the whole exchange.
    static util::Result<Connection> open(const std::string& address, std::chrono::milliseconds timeout);

    // Sends `call` and waits for its reply until the connection's deadline: a method return is success, an
    // error reply becomes an error "<error name>: <message>". Signals and other replies are skipped.
    util::Result<void> call(const MethodCall& call);

private:
    Connection(util::Fd fd, std::chrono::steady_clock::time_point deadline);
    util::Result<void> send(std::string_view bytes);
    util::Result<void> receive_more();
    util::Result<Message> reply_to(std::uint32_t serial);

    util::Fd m_fd;
    std::chrono::steady_clock::time_point m_deadline;
    std::uint32_t m_serial = 0;
    std::string m_buffer; // received, not yet decoded
};

} // namespace meshlink::agent::rollout::dbus
