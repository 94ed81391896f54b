#pragma once
// The calls join, status and leave make, and nothing else: a handful of object kinds, read and written in
// one cluster (MeshApi), and what happens outside the API (MeshHost: running kubectl, cilium and helm,
// reading a TLS server's certificate, the clock). Real implementations: kube_api.hpp; unit tests use
// in-memory ones.

#include "kube/client.hpp"
#include "plugin/defaults.hpp"
#include "util/error.hpp"
#include "util/json_path.hpp"
#include "util/subprocess.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::plugin::mesh {

using nlohmann::json;

enum class Kind { config_map, secret, service, endpoints, endpoint_slice, deployment, daemon_set, pod, node };

// "configmaps", "secrets", ... (the REST plural), for messages and paths.
std::string_view plural(Kind kind);
// "ConfigMap", "Secret", ...
std::string_view kind_name(Kind kind);
// "v1", "apps/v1", "discovery.k8s.io/v1".
std::string_view api_version(Kind kind);

class MeshApi {
public:
    virtual ~MeshApi() = default;

    // One object; nullopt when it does not exist (404). `ns` is ignored for nodes.
    virtual util::Result<std::optional<json>> get(Kind kind, std::string_view ns, std::string_view name) = 0;
    // Every object of `kind` in `ns` ("" = all namespaces, or cluster-scoped) matching `label_selector`.
    virtual util::Result<std::vector<json>> list(Kind kind, std::string_view ns,
                                                 std::string_view label_selector) = 0;
    // Writes send fieldValidation=Strict and meshlink's field manager. They are not repeated on a lost
    // answer: callers re-check and re-apply (every step is idempotent).
    virtual util::Result<json> create(Kind kind, std::string_view ns, const json& object) = 0;
    // PUT with the object's metadata.resourceVersion: a concurrent change fails with ErrorKind::conflict.
    virtual util::Result<json> update(Kind kind, std::string_view ns, const json& object) = 0;
    virtual util::Result<json> patch(Kind kind, std::string_view ns, std::string_view name,
                                     kube::PatchType type, const json& patch) = 0;
    // Deletes; a non-empty `resource_version` deletes only that version. Absent already = success.
    virtual util::Result<void> remove(Kind kind, std::string_view ns, std::string_view name,
                                      std::string_view resource_version = {}) = 0;
};

struct ToolRun {
    std::vector<std::string> argv; // argv[0] a name looked up on PATH, or a path
    std::vector<std::string> env;  // added to this process's environment ("NAME=value")
    // The program's stdin, held in memory only (util::SubprocessSpec::stdin_data); unset: /dev/null.
    std::optional<std::string> stdin_data;
    std::chrono::milliseconds timeout = defaults::k_tool_timeout;
};

class MeshHost {
public:
    virtual ~MeshHost() = default;
    // Runs a program to completion, stdout captured, stderr passed through to ours (progress of cilium/helm).
    // A non-zero exit is not an error here.
    virtual util::Result<util::SubprocessResult> run(const ToolRun& run) = 0;
    // Whether `program` can be run (on PATH, or a path).
    virtual bool available(const std::string& program) = 0;
    // The PEM certificate a TLS server presents on host:port (not verified: the caller judges it).
    virtual util::Result<std::string> server_certificate(const std::string& host, int port,
                                                         std::chrono::milliseconds timeout) = 0;
    virtual std::chrono::steady_clock::time_point now() = 0;
    virtual void sleep(std::chrono::milliseconds duration) = 0;
};

// Whether an error is worth repeating the step for: the server or the network hiccupped, or another writer
// got in between (conflict).
bool transient(const util::Error& error);

// Object helpers on JSON that may lack any level.
using util::json_path::child;
using util::json_path::text; // "" unless a string
long long integer(const json& object, std::string_view key,
                  long long fallback); // `fallback` unless an integer
std::string name_of(const json& object);
std::string label(const json& object, std::string_view key);
std::string annotation(const json& object, std::string_view key);

} // namespace meshlink::plugin::mesh
