#pragma once
// Versions of the libraries kube/ is built on, for `version` output and bug reports.

#include <string>
#include <utility>
#include <vector>

namespace meshlink::kube {

// (library, version) pairs: libcurl (with HTTP/2 support noted), OpenSSL, yaml-cpp, nlohmann-json, fmt.
std::vector<std::pair<std::string, std::string>> library_versions();

} // namespace meshlink::kube
