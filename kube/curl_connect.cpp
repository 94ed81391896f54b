#include "kube/curl_connect.hpp"

#include "kube/curl.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace meshlink::kube {

util::Result<util::Fd> connect_tcp(const std::string& host, int port, std::chrono::milliseconds timeout) {
    curl::ensure_global_init();
    curl::Easy handle(curl_easy_init());
    if (!handle) {
        return util::fail(util::ErrorKind::generic,
                          fmt::format("connect {}:{}: curl_easy_init failed", host, port));
    }
    const std::string url =
        fmt::format("http://{}:{}/", host.find(':') != std::string::npos ? "[" + host + "]" : host, port);
    char error_buffer[CURL_ERROR_SIZE] = {};
    curl::Options options(handle.get());
    options.set(CURLOPT_URL, url.c_str())
        .set(CURLOPT_CONNECT_ONLY, 1L)
        .set(CURLOPT_NOPROXY, "*")
        .set(CURLOPT_NOSIGNAL, 1L)
        .set(CURLOPT_ERRORBUFFER, error_buffer)
        .set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
    if (!options.ok()) {
        return util::fail(util::ErrorKind::generic,
                          fmt::format("connect {}:{}: {}", host, port, options.failure()));
    }
    if (const CURLcode code = curl_easy_perform(handle.get()); code != CURLE_OK) {
        const std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
        return util::fail(util::ErrorKind::unavailable, fmt::format("connect {}:{}: {}", host, port, detail));
    }
    curl_socket_t socket = CURL_SOCKET_BAD;
    if (curl_easy_getinfo(handle.get(), CURLINFO_ACTIVESOCKET, &socket) != CURLE_OK ||
        socket == CURL_SOCKET_BAD) {
        return util::fail(util::ErrorKind::generic,
                          fmt::format("connect {}:{}: libcurl kept no connected socket", host, port));
    }
    // A copy of the socket outlives the handle, whose cleanup closes its own.
    util::Fd fd(::fcntl(socket, F_DUPFD_CLOEXEC, 0));
    if (!fd) {
        return util::fail(util::ErrorKind::generic,
                          fmt::format("connect {}:{}: dup: {}", host, port, std::strerror(errno)));
    }
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
    return fd;
}

} // namespace meshlink::kube
