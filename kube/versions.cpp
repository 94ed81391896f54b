#include "kube/versions.hpp"

#include <curl/curl.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace meshlink::kube {

std::vector<std::pair<std::string, std::string>> library_versions() {
    const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
    std::string curl_version = curl != nullptr ? curl->version : "not loaded";
    if (curl != nullptr && (curl->features & CURL_VERSION_HTTP2) != 0) {
        curl_version += " (HTTP/2)";
    }
    // The TLS library as libcurl reports it ("OpenSSL/3.0.x"): the one that verifies API servers. Asking
    // OpenSSL directly would make every binary load libcrypto at start (see curl_loader.hpp).
    const std::string tls = curl != nullptr && curl->ssl_version != nullptr ? curl->ssl_version : "unknown";
    return {
        {"libcurl", curl_version},
        {"TLS", tls},
        {"yaml-cpp", MESHLINK_YAML_CPP_VERSION},
        {"nlohmann-json", fmt::format("{}.{}.{}", NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR,
                                      NLOHMANN_JSON_VERSION_PATCH)},
        {"fmt", fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100)},
    };
}

} // namespace meshlink::kube
