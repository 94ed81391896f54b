#pragma once
// HTTPS transport: Boost.Asio with C++20 coroutines on a small thread pool, Boost.Beast HTTP/1.1 with
// keep-alive, TLS with optional client certificates (verified against fakekube's CA), bearer tokens,
// fault injection and latency, request statistics, chunked watch streams and WebSocket exec.

#include "kube/pki.hpp"
#include "tests/fakekube/auth.hpp"
#include "tests/fakekube/faults.hpp"
#include "util/error.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace meshlink::fakekube {

class ApiServer;

struct TransportConfig {
    int threads = 4;
    std::chrono::milliseconds latency{0};
    FaultSpec faults;
    std::optional<TokenFile> tokens;
    kube::pki::KeyPair serving;
    std::string ca_pem; // client certificates must chain to it
};

class HttpsServer {
public:
    // Binds and listens on host:port (port 0 picks a free one) before anything else is set up, so the
    // kubeconfig can name the real port.
    static util::Result<std::unique_ptr<HttpsServer>> listen(const std::string& host, uint16_t port);
    ~HttpsServer();
    HttpsServer(const HttpsServer&) = delete;
    HttpsServer& operator=(const HttpsServer&) = delete;

    [[nodiscard]] uint16_t port() const;
    // Serves until SIGTERM or SIGINT. `on_ready` runs once everything accepts connections.
    util::Result<> serve(ApiServer& api, TransportConfig config, const std::function<void()>& on_ready);

    class Impl;

private:
    explicit HttpsServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace meshlink::fakekube
