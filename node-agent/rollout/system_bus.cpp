#include "node-agent/rollout/system_bus.hpp"

#include "util/terminal.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace meshlink::agent::rollout::dbus {
namespace {

constexpr std::size_t k_max_message = 1U << 20; // far above any reply logind or the bus daemon sends
constexpr std::size_t k_max_auth_line = 512;    // "OK <32 hex digits>\r\n" or "REJECTED <mechanisms>\r\n"
constexpr std::size_t k_fixed_header = 16;
constexpr std::string_view k_bus_name = "org.freedesktop.DBus";

// Header field codes (D-Bus specification, "Message Format").
enum Field : std::uint8_t {
    path = 1,
    interface = 2,
    member = 3,
    error_name = 4,
    reply_serial = 5,
    destination = 6,
    signature = 8,
};

std::size_t padded(std::size_t offset, std::size_t alignment) {
    return (offset + alignment - 1) / alignment * alignment;
}

// Little-endian marshalling into a growing buffer; alignment is relative to the message's start.
class Writer {
public:
    void align(std::size_t alignment) { m_bytes.resize(padded(m_bytes.size(), alignment), '\0'); }
    void byte(std::uint8_t value) { m_bytes.push_back(static_cast<char>(value)); }
    void uint32(std::uint32_t value) {
        align(4);
        for (int i = 0; i < 4; ++i) {
            byte(static_cast<std::uint8_t>(value >> (8 * i)));
        }
    }
    void string(std::string_view value) { // s and o
        uint32(static_cast<std::uint32_t>(value.size()));
        m_bytes.append(value);
        byte(0);
    }
    void signature(std::string_view value) { // g
        byte(static_cast<std::uint8_t>(value.size()));
        m_bytes.append(value);
        byte(0);
    }
    void set_uint32(std::size_t offset, std::uint32_t value) {
        for (int i = 0; i < 4; ++i) {
            m_bytes[offset + i] = static_cast<char>(value >> (8 * i));
        }
    }
    [[nodiscard]] std::size_t size() const { return m_bytes.size(); }
    std::string& bytes() { return m_bytes; }

private:
    std::string m_bytes;
};

void field(Writer& out, Field code, char type, std::string_view value) {
    out.align(8);
    out.byte(code);
    out.signature(std::string_view(&type, 1));
    if (type == 'g') {
        out.signature(value);
    } else {
        out.string(value);
    }
}

// Checked reads from a received message, in its own endianness; alignment is relative to the message's start.
class Reader {
public:
    Reader(std::string_view bytes, bool big_endian) : m_bytes(bytes), m_big(big_endian) {}
    [[nodiscard]] std::size_t offset() const { return m_offset; }
    void seek(std::size_t offset) { m_offset = offset; }

    util::Result<void> align(std::size_t alignment) {
        const std::size_t to = padded(m_offset, alignment);
        if (to > m_bytes.size()) {
            return truncated();
        }
        m_offset = to;
        return {};
    }
    util::Result<std::uint8_t> byte() {
        if (m_offset >= m_bytes.size()) {
            return truncated();
        }
        return static_cast<std::uint8_t>(m_bytes[m_offset++]);
    }
    util::Result<std::uint32_t> uint32() {
        if (auto aligned = align(4); !aligned) {
            return std::unexpected(aligned.error());
        }
        if (m_bytes.size() - m_offset < 4) {
            return truncated();
        }
        std::uint32_t value = 0;
        for (int i = 0; i < 4; ++i) {
            const auto b = static_cast<std::uint8_t>(m_bytes[m_offset + (m_big ? i : 3 - i)]);
            value = (value << 8) | b;
        }
        m_offset += 4;
        return value;
    }
    // s, o (a 32-bit length) or g (an 8-bit length), each followed by a nul byte.
    util::Result<std::string> text(char type) {
        std::uint32_t length = 0;
        if (type == 'g') {
            auto size = byte();
            if (!size) {
                return std::unexpected(size.error());
            }
            length = *size;
        } else {
            auto size = uint32();
            if (!size) {
                return std::unexpected(size.error());
            }
            length = *size;
        }
        if (m_bytes.size() - m_offset < std::size_t{length} + 1) {
            return truncated();
        }
        std::string value(m_bytes.substr(m_offset, length));
        if (m_bytes[m_offset + length] != '\0' || value.find('\0') != std::string::npos) {
            return util::fail(
                util::ErrorKind::parse,
                fmt::format("D-Bus message: a string at byte {} is not nul-terminated", m_offset));
        }
        m_offset += std::size_t{length} + 1;
        return value;
    }

private:
    [[nodiscard]] std::unexpected<util::Error> truncated() const {
        return util::fail(util::ErrorKind::parse,
                          fmt::format("D-Bus message: truncated at byte {} of {}", m_offset, m_bytes.size()));
    }

    std::string_view m_bytes;
    bool m_big = false;
    std::size_t m_offset = 0;
};

std::string percent_decoded(std::string_view value, bool* ok) {
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] != '%') {
            out += value[i];
            continue;
        }
        if (i + 2 >= value.size()) {
            *ok = false;
            return {};
        }
        unsigned int decoded = 0;
        for (int k = 1; k <= 2; ++k) {
            const char c = value[i + k];
            decoded <<= 4;
            if (c >= '0' && c <= '9') {
                decoded |= static_cast<unsigned>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                decoded |= static_cast<unsigned>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                decoded |= static_cast<unsigned>(c - 'A' + 10);
            } else {
                *ok = false;
                return {};
            }
        }
        out += static_cast<char>(decoded);
        i += 2;
    }
    return out;
}

std::string hex(std::string_view text) {
    std::string out;
    for (const char c : text) {
        out += fmt::format("{:02x}", static_cast<unsigned char>(c));
    }
    return out;
}

} // namespace

util::Result<std::vector<Address>> parse_address(std::string_view text) {
    std::vector<Address> found;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find(';', start), text.size());
        const std::string_view entry = text.substr(start, end - start);
        start = end + 1;
        if (entry.empty()) {
            continue;
        }
        const std::size_t colon = entry.find(':');
        if (colon == std::string_view::npos) {
            return util::fail(
                util::ErrorKind::parse,
                fmt::format("D-Bus address \"{}\": \"{}\" has no transport (transport:key=value)",
                            util::printable(text), util::printable(entry)));
        }
        if (entry.substr(0, colon) != "unix") {
            continue; // tcp:, launchd:, ... : not where a system bus listens on Linux
        }
        std::optional<Address> address;
        std::string_view keys = entry.substr(colon + 1);
        while (!keys.empty()) {
            const std::size_t comma = std::min(keys.find(','), keys.size());
            const std::string_view pair = keys.substr(0, comma);
            keys = comma < keys.size() ? keys.substr(comma + 1) : std::string_view();
            const std::size_t equals = pair.find('=');
            if (equals == std::string_view::npos) {
                return util::fail(util::ErrorKind::parse,
                                  fmt::format("D-Bus address \"{}\": \"{}\" is not key=value",
                                              util::printable(text), util::printable(pair)));
            }
            const std::string_view key = pair.substr(0, equals);
            bool ok = true;
            std::string value = percent_decoded(pair.substr(equals + 1), &ok);
            if (!ok) {
                return util::fail(util::ErrorKind::parse,
                                  fmt::format("D-Bus address \"{}\": bad %-escape in \"{}\"",
                                              util::printable(text), util::printable(pair)));
            }
            if ((key == "path" || key == "abstract") && !value.empty()) {
                address = Address{std::move(value), key == "abstract"};
            }
        }
        if (address) {
            found.push_back(std::move(*address));
        }
    }
    if (found.empty()) {
        return util::fail(
            util::ErrorKind::not_found,
            fmt::format("D-Bus address \"{}\" names no unix socket (unix:path= or unix:abstract=)",
                        util::printable(text)));
    }
    return found;
}

std::string system_bus_address() {
    const char* address = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    return address != nullptr && *address != '\0' ? std::string(address)
                                                  : std::string("unix:path=/run/dbus/system_bus_socket");
}

std::string encode(const MethodCall& call, std::uint32_t serial) {
    std::string signature;
    for (const auto& argument : call.arguments) {
        signature += argument.type;
    }
    Writer out;
    out.byte('l');
    out.byte(static_cast<std::uint8_t>(Message::Type::method_call));
    out.byte(0);   // flags: a reply is expected; the caller may be asked for nothing interactively
    out.byte(1);   // protocol version
    out.uint32(0); // body length, set below
    out.uint32(serial);
    out.uint32(0); // header fields' length in bytes, set below
    const std::size_t fields_start = out.size();
    field(out, Field::path, 'o', call.path);
    if (!call.interface.empty()) {
        field(out, Field::interface, 's', call.interface);
    }
    field(out, Field::member, 's', call.member);
    if (!call.destination.empty()) {
        field(out, Field::destination, 's', call.destination);
    }
    if (!signature.empty()) {
        field(out, Field::signature, 'g', signature);
    }
    out.set_uint32(12, static_cast<std::uint32_t>(out.size() - fields_start));
    out.align(8);
    const std::size_t body_start = out.size();
    for (const auto& argument : call.arguments) {
        if (argument.type == 's') {
            out.string(argument.text);
        } else {
            out.uint32(argument.number);
        }
    }
    out.set_uint32(4, static_cast<std::uint32_t>(out.size() - body_start));
    return std::move(out.bytes());
}

util::Result<std::optional<std::size_t>> message_size(std::string_view bytes) {
    if (bytes.size() < k_fixed_header) {
        return std::optional<std::size_t>();
    }
    if (bytes[0] != 'l' && bytes[0] != 'B') {
        return util::fail(util::ErrorKind::parse,
                          fmt::format("D-Bus message: endianness byte 0x{:02x} is neither 'l' nor 'B'",
                                      static_cast<unsigned char>(bytes[0])));
    }
    if (bytes[3] != 1) {
        return util::fail(util::ErrorKind::parse, fmt::format("D-Bus message: protocol version {} (not 1)",
                                                              static_cast<unsigned char>(bytes[3])));
    }
    Reader in(bytes.substr(0, k_fixed_header), bytes[0] == 'B');
    in.seek(4);
    const auto body = in.uint32();
    in.seek(12);
    const auto fields = in.uint32();
    const std::uint64_t size = padded(k_fixed_header + std::uint64_t{*fields}, 8) + std::uint64_t{*body};
    if (size > k_max_message) {
        return util::fail(
            util::ErrorKind::parse,
            fmt::format("D-Bus message: {} bytes announced, more than the {} accepted", size, k_max_message));
    }
    return std::optional<std::size_t>(static_cast<std::size_t>(size));
}

util::Result<Message> decode(std::string_view bytes) {
    auto size = message_size(bytes);
    if (!size) {
        return std::unexpected(size.error());
    }
    if (!*size || **size != bytes.size()) {
        return util::fail(util::ErrorKind::parse,
                          fmt::format("D-Bus message: {} bytes received for a message of {}", bytes.size(),
                                      *size ? std::to_string(**size) : std::string("at least 16")));
    }
    Reader in(bytes, bytes[0] == 'B');
    Message message;
    const auto type = static_cast<std::uint8_t>(bytes[1]);
    if (type < 1 || type > 4) {
        return util::fail(util::ErrorKind::parse,
                          fmt::format("D-Bus message: unknown message type {}", type));
    }
    message.type = static_cast<Message::Type>(type);
    in.seek(8);
    message.serial = *in.uint32();
    const std::size_t fields_end = k_fixed_header + *in.uint32();
    in.seek(k_fixed_header);
    while (in.offset() < fields_end) {
        if (auto aligned = in.align(8); !aligned) {
            return std::unexpected(aligned.error());
        }
        if (in.offset() >= fields_end) {
            break;
        }
        const auto code = in.byte();
        if (!code) {
            return std::unexpected(code.error());
        }
        const auto signature = in.text('g');
        if (!signature) {
            return std::unexpected(signature.error());
        }
        if (signature->size() != 1 ||
            std::string_view("sogu").find((*signature)[0]) == std::string_view::npos) {
            // The specification's header fields are all of these types; anything else cannot be skipped
            // safely.
            return util::fail(util::ErrorKind::parse,
                              fmt::format("D-Bus message: header field {} has type \"{}\" (not s, o, g or u)",
                                          *code, util::printable(*signature)));
        }
        const char kind = (*signature)[0];
        if (kind == 'u') {
            const auto value = in.uint32();
            if (!value) {
                return std::unexpected(value.error());
            }
            if (*code == Field::reply_serial) {
                message.reply_serial = *value;
            }
            continue;
        }
        auto value = in.text(kind);
        if (!value) {
            return std::unexpected(value.error());
        }
        if (*code == Field::error_name) {
            message.error_name = std::move(*value);
        } else if (*code == Field::signature) {
            message.signature = std::move(*value);
        }
    }
    if (in.offset() != fields_end) {
        return util::fail(util::ErrorKind::parse,
                          "D-Bus message: a header field runs past the header's length");
    }
    in.seek(padded(fields_end, 8));
    if (!message.signature.empty() && message.signature[0] == 's') {
        auto text = in.text('s');
        if (!text) {
            return std::unexpected(text.error());
        }
        message.text = std::move(*text);
    }
    return message;
}

Connection::Connection(util::Fd fd, std::chrono::steady_clock::time_point deadline)
    : m_fd(std::move(fd)), m_deadline(deadline) {}

util::Result<Connection> Connection::open(const std::string& address, std::chrono::milliseconds timeout) {
    auto addresses = parse_address(address);
    if (!addresses) {
        return std::unexpected(addresses.error());
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string failures;
    for (const auto& candidate : *addresses) {
        sockaddr_un socket_address{};
        socket_address.sun_family = AF_UNIX;
        const std::size_t offset = candidate.abstract ? 1 : 0; // an abstract name starts with a nul byte
        if (candidate.path.size() + offset >= sizeof(socket_address.sun_path)) {
            failures += fmt::format("; {}: socket path too long", util::printable(candidate.path));
            continue;
        }
        std::memcpy(socket_address.sun_path + offset, candidate.path.data(), candidate.path.size());
        const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + offset +
                                                   candidate.path.size() + (candidate.abstract ? 0 : 1));
        util::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd) {
            return util::fail(util::ErrorKind::io, fmt::format("socket(AF_UNIX): {}", std::strerror(errno)));
        }
        if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&socket_address), length) != 0) {
            failures += fmt::format("; {}{}: {}", candidate.abstract ? "@" : "",
                                    util::printable(candidate.path), std::strerror(errno));
            continue;
        }
        Connection connection(std::move(fd), deadline);
        // SASL: a nul byte, then EXTERNAL with our uid (decimal, hex-encoded); the server checks it against
        // the socket's peer credentials. BEGIN and Hello follow without waiting once OK arrived.
        const std::string auth =
            std::string(1, '\0') + "AUTH EXTERNAL " + hex(std::to_string(::geteuid())) + "\r\n";
        if (auto sent = connection.send(auth); !sent) {
            return std::unexpected(sent.error());
        }
        while (connection.m_buffer.find("\r\n") == std::string::npos) {
            if (connection.m_buffer.size() > k_max_auth_line) {
                return util::fail(util::ErrorKind::parse,
                                  "D-Bus authentication: the server's answer is too long");
            }
            if (auto more = connection.receive_more(); !more) {
                return std::unexpected(more.error().with_context("D-Bus authentication"));
            }
        }
        const std::size_t line_end = connection.m_buffer.find("\r\n");
        const std::string line = connection.m_buffer.substr(0, line_end);
        connection.m_buffer.erase(0, line_end + 2);
        if (!line.starts_with("OK ")) {
            return util::fail(util::ErrorKind::forbidden,
                              fmt::format("the bus refused EXTERNAL authentication as uid {}: {}",
                                          ::geteuid(), util::printable(line.substr(0, 200))));
        }
        if (auto begun = connection.send("BEGIN\r\n"); !begun) {
            return std::unexpected(begun.error());
        }
        auto hello = connection.call(MethodCall{
            std::string(k_bus_name), "/org/freedesktop/DBus", std::string(k_bus_name), "Hello", {}});
        if (!hello) {
            return std::unexpected(hello.error().with_context("D-Bus Hello"));
        }
        return connection;
    }
    return util::fail(util::ErrorKind::unavailable,
                      fmt::format("cannot connect to {}{}", util::printable(address), failures));
}

util::Result<void> Connection::send(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto sent = ::send(m_fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) {
                continue;
            }
            return util::fail(util::ErrorKind::io, fmt::format("D-Bus: send: {}", std::strerror(errno)));
        }
        bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return {};
}

util::Result<void> Connection::receive_more() {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(m_deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
        return util::fail(util::ErrorKind::timeout, "D-Bus: no answer in time");
    }
    pollfd waiting{m_fd.get(), POLLIN, 0};
    const int ready = ::poll(&waiting, 1, static_cast<int>(left.count()));
    if (ready < 0) {
        if (errno == EINTR) {
            return {};
        }
        return util::fail(util::ErrorKind::io, fmt::format("D-Bus: poll: {}", std::strerror(errno)));
    }
    if (ready == 0) {
        return util::fail(util::ErrorKind::timeout, "D-Bus: no answer in time");
    }
    char chunk[4096];
    const auto got = ::recv(m_fd.get(), chunk, sizeof(chunk), 0);
    if (got < 0) {
        if (errno == EINTR) {
            return {};
        }
        return util::fail(util::ErrorKind::io, fmt::format("D-Bus: recv: {}", std::strerror(errno)));
    }
    if (got == 0) {
        return util::fail(util::ErrorKind::unavailable, "D-Bus: the bus closed the connection");
    }
    m_buffer.append(chunk, static_cast<std::size_t>(got));
    return {};
}

util::Result<Message> Connection::reply_to(std::uint32_t serial) {
    for (;;) {
        auto size = message_size(m_buffer);
        if (!size) {
            return std::unexpected(size.error());
        }
        if (!*size || m_buffer.size() < **size) {
            if (auto more = receive_more(); !more) {
                return std::unexpected(more.error());
            }
            continue;
        }
        auto message = decode(std::string_view(m_buffer).substr(0, **size));
        m_buffer.erase(0, **size);
        if (!message) {
            return std::unexpected(message.error());
        }
        const bool reply =
            message->type == Message::Type::method_return || message->type == Message::Type::error;
        if (reply && message->reply_serial == serial) {
            return message;
        }
        // A signal (NameAcquired after Hello), or a call or reply meant for nobody here: not ours.
    }
}

util::Result<void> Connection::call(const MethodCall& call) {
    const std::uint32_t serial = ++m_serial;
    if (auto sent = send(encode(call, serial)); !sent) {
        return std::unexpected(sent.error());
    }
    auto reply = reply_to(serial);
    if (!reply) {
        return std::unexpected(reply.error());
    }
    if (reply->type == Message::Type::error) {
        return util::fail(util::ErrorKind::unavailable,
                          fmt::format("{}: {}", util::printable(reply->error_name.substr(0, 255)),
                                      util::printable(reply->text.substr(0, 1000))));
    }
    return {};
}

} // namespace meshlink::agent::rollout::dbus
