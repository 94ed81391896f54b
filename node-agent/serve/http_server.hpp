#pragma once
// The agent's HTTP endpoints (/healthz, /readyz, /metrics) on cpp-httplib, served by a small worker pool
// on its own threads so a slow probe or a hung API request never delays a kubelet probe or a scrape.

#include "kube/error.hpp"
#include "node-agent/serve/status.hpp"

#include <memory>
#include <string>

namespace meshlink::agent::serve {

class HttpServer {
public:
    // Binds `address`:`port` (0 = any free port) and starts serving `board`. Errors name the address.
    static kube::Result<HttpServer> start(const std::string& address, int port, const StatusBoard& board);

    HttpServer(HttpServer&&) noexcept;
    HttpServer& operator=(HttpServer&&) noexcept;
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;
    ~HttpServer(); // stops

    [[nodiscard]] int port() const;

    // Stops accepting, finishes the requests in progress and joins the threads. Idempotent.
    void stop();

private:
    struct Impl;
    explicit HttpServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace meshlink::agent::serve
