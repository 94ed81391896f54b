#pragma once
// The agent's HTTP endpoints (/healthz, /readyz, /metrics): a small HTTP/1.1 server on POSIX sockets. One
// thread of its own multiplexes every connection with poll(), so neither a slow probe, a hung API request
// nor a slow client delays a kubelet probe or a scrape. It answers GET and HEAD, one request per connection
// (`Connection: close`), refuses request bodies, and bounds each request head's size and arrival time. Idle
// or slow clients cannot keep kubelet's probes waiting: at its connection cap the server evicts the oldest
// connection without a request in progress instead of leaving new clients in the accept queue.
// (Not cpp-httplib: Debian's build links OpenSSL and brotli into every agent process, the probe included.)

#include "node-agent/serve/status.hpp"
#include "util/error.hpp"

#include <memory>
#include <string>

namespace meshlink::agent::serve {

class HttpServer {
public:
    // Binds `address`:`port` (0 = any free port), listens, and starts serving `board`, which must outlive
    // the server. Errors name the address and the cause.
    static util::Result<HttpServer> start(const std::string& address, int port, const StatusBoard& board);

    HttpServer(HttpServer&&) noexcept;
    HttpServer& operator=(HttpServer&&) noexcept;
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;
    ~HttpServer(); // stops

    [[nodiscard]] int port() const;

    // Stops accepting (the port is closed when it returns), gives requests in progress up to a second to
    // finish, closes idle connections and joins the thread. Idempotent.
    void stop();

private:
    struct Impl;
    explicit HttpServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace meshlink::agent::serve
