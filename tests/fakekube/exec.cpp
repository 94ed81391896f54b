// <utility> first: Boost 1.74's awaitable.hpp uses std::exchange without including it.
// clang-format off
#include <utility>
// clang-format on

#include "tests/fakekube/transport.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <sstream>

// GCC 12 at -O1 and above reports Asio's coroutine frames (awaitable_frame_base's operator new/delete
// pair) as -Wmismatched-new-delete: a false positive of its coroutine lowering, not a real mismatch.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace meshlink::fakekube {
namespace websocket = beast::websocket;

namespace {

// The channel protocols fakekube speaks, most preferred first.
constexpr const char* k_protocols[] = {"v5.channel.k8s.io", "v4.channel.k8s.io"};

std::string choose_protocol(std::string_view offered) {
    std::vector<std::string> names;
    std::istringstream in{std::string(offered)};
    std::string name;
    while (std::getline(in, name, ',')) {
        name.erase(0, name.find_first_not_of(' '));
        name.erase(name.find_last_not_of(' ') + 1);
        names.push_back(name);
    }
    for (const char* protocol : k_protocols) {
        if (std::find(names.begin(), names.end(), protocol) != names.end()) {
            return protocol;
        }
    }
    return {};
}

// The Status kubelet reports on the error channel (remotecommand's v4 protocol).
std::string exit_status(const ExecPlan& plan) {
    if (plan.exit_code == 0) {
        return json{{"metadata", json::object()}, {"status", "Success"}}.dump();
    }
    std::string command;
    for (const auto& part : plan.command) {
        command += (command.empty() ? "" : " ") + part;
    }
    const std::string code = std::to_string(plan.exit_code);
    return json{{"metadata", json::object()},
                {"status", "Failure"},
                {"message", "command terminated with non-zero exit code: error executing command [" +
                                command + "], exit code " + code},
                {"reason", "NonZeroExitCode"},
                {"details", {{"causes", {{{"reason", "ExitCode"}, {"message", code}}}}}}}
        .dump();
}

std::string frame(char channel, const std::string& data) {
    return std::string(1, channel) + data;
}

} // namespace

net::awaitable<void> run_exec(TlsStream stream, HttpRequest request, ExecPlan plan) {
    const std::string protocol = choose_protocol(std::string(request[http::field::sec_websocket_protocol]));
    if (!websocket::is_upgrade(request) || protocol.empty()) {
        http::response<http::string_body> response{http::status::bad_request, request.version()};
        response.set(http::field::content_type, "application/json");
        response.body() =
            bad_request(websocket::is_upgrade(request) ? "unable to upgrade: no supported subprotocol "
                                                         "(supported: v5.channel.k8s.io, v4.channel.k8s.io)"
                                                       : "Upgrade request required")
                .to_status()
                .dump();
        response.keep_alive(false);
        response.prepare_payload();
        co_await http::async_write(stream, response, net::use_awaitable);
        co_return;
    }
    websocket::stream<TlsStream> ws(std::move(stream));
    ws.set_option(websocket::stream_base::decorator([protocol](websocket::response_type& response) {
        response.set(http::field::sec_websocket_protocol, protocol);
    }));
    co_await ws.async_accept(request, net::use_awaitable);
    ws.binary(true);
    if (plan.want_stdin && protocol == k_protocols[0]) {
        // v5 ends stdin with a CLOSE message (channel 255, then the stream id 0); v4 has no way to, so stdin
        // is read only on v5. Resize messages (channel 4) carry nothing the script uses.
        std::string received;
        for (;;) {
            beast::flat_buffer buffer;
            beast::error_code error;
            co_await ws.async_read(buffer, net::redirect_error(net::use_awaitable, error));
            if (error) {
                co_return;
            }
            const std::string message = beast::buffers_to_string(buffer.data());
            if (message.empty()) {
                continue;
            }
            if (message[0] == 0) {
                received += message.substr(1);
            } else if (static_cast<unsigned char>(message[0]) == 255 && message.size() > 1 &&
                       message[1] == 0) {
                break;
            }
        }
        if (plan.echo_stdin) {
            plan.stdout_text = received;
        }
    }
    if (plan.want_stdout && !plan.stdout_text.empty()) {
        co_await ws.async_write(net::buffer(frame(1, plan.stdout_text)), net::use_awaitable);
    }
    if (plan.want_stderr && !plan.stderr_text.empty()) {
        co_await ws.async_write(net::buffer(frame(2, plan.stderr_text)), net::use_awaitable);
    }
    co_await ws.async_write(net::buffer(frame(3, exit_status(plan))), net::use_awaitable);
    co_await ws.async_close(websocket::close_code::normal, net::use_awaitable);
}

} // namespace meshlink::fakekube
