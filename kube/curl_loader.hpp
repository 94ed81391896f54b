#pragma once
// libcurl is loaded on first use (dlopen), not at program start, when the build option
// MESHLINK_LAZY_LIBCURL is on (the default). libcurl's Debian build pulls in ~30 shared libraries (GnuTLS,
// Kerberos, LDAP, ...) costing every process ~8 MiB of resident memory, although only commands that talk
// to a cluster need it; `meshlink-agent probe` and the kubeconfig verbs never do.
// kube/curl_loader.cpp defines the few libcurl entry points kube/ calls and forwards them to the library.

#include <optional>
#include <string>

namespace meshlink::kube {

// Why libcurl could not be loaded ("libcurl.so.4: cannot open shared object file ..."), or nullopt when it
// is loaded (or linked normally). Loading is attempted at most once.
std::optional<std::string> curl_load_error();

} // namespace meshlink::kube
