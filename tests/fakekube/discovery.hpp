#pragma once
// What kubectl reads before it sends anything: /version, the classic discovery documents (APIVersions,
// APIGroupList, APIGroup, APIResourceList; aggregated discovery is declined by answering with these,
// which clients accept as the fallback) and the OpenAPI v3 index with one document per group version,
// whose PATCH operations advertise the fieldValidation parameter so kubectl leaves validation to us.

#include "tests/fakekube/http.hpp"

#include <optional>
#include <string>

namespace meshlink::fakekube::discovery {

// The server version fakekube claims: the Kubernetes release its schema describes (schema/models.lock).
json version_info();

// `server_address` is "127.0.0.1:PORT" for APIVersions.serverAddressByClientCIDRs.
std::optional<json> discovery_document(const std::string& path, const std::string& server_address);

// /openapi/v3 and /openapi/v3/<api/v1 | apis/G/V>; nullopt for unknown paths.
std::optional<json> openapi_document(const std::string& path);

} // namespace meshlink::fakekube::discovery
