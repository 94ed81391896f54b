#include "node-agent/serve/http_server.hpp"

#include "kube/log.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <thread>

namespace meshlink::agent::serve {
namespace {

// Enough for kubelet's two probes and a scraper at once; keep-alive connections each hold a worker.
constexpr std::size_t k_workers = 4;
constexpr time_t k_io_timeout_seconds = 5;

} // namespace

struct HttpServer::Impl {
    httplib::Server server;
    std::thread thread;
    int port = 0;

    ~Impl() { stop(); }

    void stop() {
        if (thread.joinable()) {
            server.stop();
            thread.join();
        }
    }
};

kube::Result<HttpServer> HttpServer::start(const std::string& address, int port, const StatusBoard& board) {
    auto impl = std::make_unique<Impl>();
    auto& server = impl->server;
    server.new_task_queue = [] { return new httplib::ThreadPool(k_workers); };
    server.set_read_timeout(k_io_timeout_seconds);
    server.set_write_timeout(k_io_timeout_seconds);
    server.set_keep_alive_timeout(k_io_timeout_seconds);
    server.set_payload_max_length(4096); // no endpoint takes a body

    // /healthz: the process is alive and serving. The probe loop's health shows in /readyz and /metrics.
    server.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
        response.set_content("ok\n", "text/plain; charset=utf-8");
    });
    server.Get("/readyz", [&board](const httplib::Request&, httplib::Response& response) {
        const AgentStatus status = board.snapshot();
        if (is_ready(status)) {
            response.set_content("ok\n", "text/plain; charset=utf-8");
            return;
        }
        response.status = 503;
        std::string why = status.probes == 0 ? "no probe has finished yet"
                                             : "the API server cannot be reached: " + status.last_error;
        response.set_content("not ready: " + why + "\n", "text/plain; charset=utf-8");
    });
    server.Get("/metrics", [&board](const httplib::Request&, httplib::Response& response) {
        response.set_content(render_metrics(board.snapshot()), k_metrics_content_type);
    });
    server.set_exception_handler(
        [](const httplib::Request& request, httplib::Response& response, std::exception_ptr error) {
            std::string what = "unknown exception";
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            kube::log::write(0, fmt::format("HTTP {} {}: {}", request.method, request.path, what),
                             kube::log::Severity::error);
            response.status = 500;
        });

    if (port == 0) {
        impl->port = server.bind_to_any_port(address);
        if (impl->port < 0) {
            return kube::fail(kube::ErrorKind::io, fmt::format("cannot listen on {}:0", address));
        }
    } else {
        if (!server.bind_to_port(address, port)) {
            return kube::fail(kube::ErrorKind::io,
                              fmt::format("cannot listen on {}:{} (in use, or not an address of this host)",
                                          address, port));
        }
        impl->port = port;
    }
    impl->thread = std::thread([&server] { server.listen_after_bind(); });
    // stop() only takes effect once the accept loop runs; wait for it, so an early SIGTERM cannot leave
    // the thread listening forever.
    for (int i = 0; i < 500 && !server.is_running(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!server.is_running()) {
        impl->stop();
        return kube::fail(kube::ErrorKind::io,
                          fmt::format("the HTTP server on {}:{} did not start", address, impl->port));
    }
    return HttpServer(std::move(impl));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
HttpServer::HttpServer(HttpServer&&) noexcept = default;
HttpServer& HttpServer::operator=(HttpServer&&) noexcept = default;
HttpServer::~HttpServer() = default;

int HttpServer::port() const {
    return m_impl->port;
}

void HttpServer::stop() {
    if (m_impl) {
        m_impl->stop();
    }
}

} // namespace meshlink::agent::serve
