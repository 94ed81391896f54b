#pragma once
// Beast/Asio types shared by the transport's translation units (server.cpp, exec.cpp).

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
// clang-format off
#include <utility>
// clang-format on

#include "tests/fakekube/apiserver.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace meshlink::fakekube {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using HttpRequest = http::request<http::string_body>;

// Upgrades the connection to WebSocket (v5.channel.k8s.io, or v4 when that is all the client offers)
// and plays `plan` as kubelet would: stdout on channel 1, stderr on 2, the exit Status on 3, then close.
// Answers 400 without upgrading when the request offers no protocol fakekube speaks.
net::awaitable<void> run_exec(TlsStream stream, HttpRequest request, ExecPlan plan);

} // namespace meshlink::fakekube
