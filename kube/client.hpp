#pragma once
// The Kubernetes REST client: one per cluster, on libcurl. Connections are kept and reused (HTTP/2 when the
// server offers it through ALPN), credentials come from kube/auth.hpp, idempotent requests are retried
// per kube/retry.hpp, and error answers become typed Errors (kube/status.hpp).
//
// Capabilities should not take a Client directly: each defines a small interface of the calls it makes
// (e.g. `class SecretsApi { virtual Result<json> get_secret(ns, name) = 0; }`) with one implementation on
// top of Client and an in-memory one for its unit tests.
//
// Logging: -v 6 one line per request ("GET https://host/api/v1/pods 200 OK in 12 ms"), -v 7 also the
// request headers (credentials redacted), -v 8 also the bodies (Secret data and credentials redacted).

#include "kube/exec_credential.hpp"
#include "kube/rest_config.hpp"
#include "kube/retry.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshlink::kube {

using Headers = std::vector<std::pair<std::string, std::string>>;
using Query = std::vector<std::pair<std::string, std::string>>;

// A raw request. `path` is relative to the server URL ("/api/v1/namespaces"); query values are
// percent-encoded by the client.
struct Request {
    std::string method = "GET";
    std::string path;
    Query query;
    Headers headers; // added to Accept/Content-Type/User-Agent/credentials; same name replaces
    std::string body;
    bool retry_unsafe = false; // the caller states that repeating this POST/PATCH is harmless
    std::optional<std::chrono::milliseconds> timeout; // per attempt; default RestConfig::timeout
};

struct Response {
    int status = 0;
    Headers headers; // of the final response, names as sent
    std::string body;
    long http_version = 0; // 1 (HTTP/1.x) or 2
    bool reused_connection = false;
    int attempts = 1; // how many times it was sent (retries and a 401 rotation included)

    // The first header with this name (case-insensitive).
    [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
};

struct GetOptions {
    bool metadata_only = false; // Accept: ...;as=PartialObjectMetadata;g=meta.k8s.io;v=v1
};

struct ListOptions {
    std::string label_selector; // "app=x,tier in (a,b)"
    std::string field_selector; // "metadata.name=x"
    int page_size = 500;        // `limit` per request; 0 = one unpaginated request
    bool metadata_only = false; // PartialObjectMetadataList
};

struct WriteOptions {
    bool dry_run = false;                    // dryRun=All
    std::string field_validation = "Strict"; // Strict | Warn | Ignore | "" (server default)
    std::string field_manager;               // "" = the server derives one from the User-Agent
    bool retry_unsafe = false;               // POST/PATCH only: repeating this write is harmless
};

struct DeleteOptions {
    bool dry_run = false;
    std::string propagation_policy; // Foreground | Background | Orphan | "" (server default)
    std::optional<int> grace_period_seconds;
    std::string precondition_resource_version; // delete only this version
};

enum class PatchType {
    merge,     // application/merge-patch+json (RFC 7386)
    json,      // application/json-patch+json (RFC 6902)
    strategic, // application/strategic-merge-patch+json (built-in kinds only)
};

struct ServerVersion {
    std::string git_version; // "v1.30.2"
    std::string major;
    std::string minor;
    std::string platform;
};

// Whether list_each goes on after an item.
enum class Visit { next, stop };

struct ClientOptions {
    RetryPolicy retry;
    ExecOptions exec;               // exec plugin settings (timeouts, terminal probe)
    std::function<double()> random; // [0,1) for backoff jitter; default a per-thread PRNG
    std::function<void(std::chrono::milliseconds)> sleep; // default std::this_thread::sleep_for
};

class Client {
public:
    // Builds a client for `config`. Fails on an invalid exec stanza or unusable settings; makes no request.
    static util::Result<Client> from_config(RestConfig config, ClientOptions options = {});

    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;
    ~Client();

    [[nodiscard]] const RestConfig& config() const;
    // The namespace for namespaced calls when the caller has none: -n, else the context's, else "default".
    [[nodiscard]] const std::string& default_namespace() const;

    // Sends a request and returns whatever HTTP status came back; only transport failures (TLS, connection,
    // timeout, credentials) are errors. Retries, 401 rotation and logging apply as for the typed calls.
    util::Result<Response> send(const Request& request);

    // GET one object. Non-2xx answers are Errors (status.hpp).
    util::Result<nlohmann::json> get(std::string_view path, const GetOptions& options = {});

    // LIST all items, following `continue` tokens. Returns the list object with every page's items and
    // the last page's metadata.resourceVersion. If a continue token expires mid-way (410), lists again
    // without paging, as client-go's pager does.
    util::Result<nlohmann::json> list(std::string_view path, const ListOptions& options = {});

    // LIST page by page, calling `visit` for each item, without keeping more than one page in memory.
    util::Result<void> list_each(std::string_view path, const ListOptions& options,
                                 const std::function<Visit(const nlohmann::json& item)>& visit);

    // POST `object` to the collection at `path`. Returns the created object (or, with dry_run, what would
    // be).
    util::Result<nlohmann::json> create(std::string_view path, const nlohmann::json& object,
                                        const WriteOptions& options = {});
    // PUT `object` (with metadata.resourceVersion for optimistic concurrency) to `path`.
    util::Result<nlohmann::json> update(std::string_view path, const nlohmann::json& object,
                                        const WriteOptions& options = {});
    // PATCH `path`. `patch` is the document for `type` (an object, or an array of operations for json).
    util::Result<nlohmann::json> patch(std::string_view path, PatchType type, const nlohmann::json& patch,
                                       const WriteOptions& options = {});
    // DELETE `path`. Returns the server's answer (the object being deleted, or a Status).
    util::Result<nlohmann::json> remove(std::string_view path, const DeleteOptions& options = {});

    // GET /version.
    util::Result<ServerVersion> server_version();

private:
    struct Impl;
    explicit Client(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// Builds an API path: core ("" group) -> /api/v1/..., others -> /apis/GROUP/VERSION/...; namespace, name
// and subresource are optional. api_path("apps", "v1", "deployments", "kube-system", "cilium-operator")
// == "/apis/apps/v1/namespaces/kube-system/deployments/cilium-operator".
std::string api_path(std::string_view group, std::string_view version, std::string_view resource,
                     std::string_view namespace_name = {}, std::string_view name = {},
                     std::string_view subresource = {});

// One segment of an API path (a namespace, a name): percent-encoded except RFC 3986 unreserved characters,
// ':' and '@' (RBAC names carry them). Every segment api_path builds goes through it.
std::string path_segment(std::string_view text);

// Whether the server would read `path` as written: no segment that decodes to "." or ".." or holds "/" or
// "%" (kube-apiserver's rule for names in paths). The client refuses any other path before sending it, so
// a name read from a cluster can never climb to another object ("../../default/secrets/x").
util::Result<void> check_path(std::string_view path);

// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
std::string url_encode(std::string_view text);

} // namespace meshlink::kube
