#pragma once
// A plain TCP connection opened by libcurl, for code that speaks its own protocol over it (TLS to etcd in
// plugin/mesh/). libcurl resolves the host as every API request does: /etc/hosts, then DNS (c-ares in the
// release build, which never loads glibc's NSS modules: a static binary must not; docs/release-build.md).

#include "util/error.hpp"
#include "util/fd.hpp"

#include <chrono>
#include <string>

namespace meshlink::kube {

// Connects to host:port (a name, an IPv4 or an IPv6 address) within `timeout`, trying each address of the
// name; no proxy. The descriptor is blocking, close-on-exec, and the caller's.
util::Result<util::Fd> connect_tcp(const std::string& host, int port, std::chrono::milliseconds timeout);

} // namespace meshlink::kube
