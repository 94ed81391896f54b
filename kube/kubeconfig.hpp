#pragma once
// Kubeconfig files exactly as client-go reads them (tools/clientcmd; rules in README "Kubeconfig rules"):
//  - which files: --kubeconfig alone (must exist), else $KUBECONFIG (OS list separator, deduplicated,
//    missing entries skipped), else ~/.kube/config;
//  - merging: the first file to define a cluster/user/context name wins, the whole entry from that file;
//    current-context and preferences: first non-empty value in list order;
//  - relative certificate-authority, client-certificate, client-key and tokenFile paths resolve against the
//    directory of the file that defined the entry; exec.command only when it contains a '/'.
// Each file's YAML is kept verbatim so that merge/export can carry fields meshlink does not interpret
// (extensions, auth-provider, preferences, unknown keys) without changing their meaning.

#include "util/error.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::kube {

// Where kubeconfig files come from (client-go ClientConfigLoadingRules).
struct LoadingRules {
    std::optional<std::filesystem::path> explicit_path; // --kubeconfig: the only file; it must exist
    std::vector<std::filesystem::path> precedence; // $KUBECONFIG entries (deduplicated), or ~/.kube/config

    // Builds the rules from --kubeconfig (when given), $KUBECONFIG and $HOME.
    static LoadingRules from_environment(const std::optional<std::string>& explicit_path);

    // The file kubectl writes *new* entries to: the explicit file; else the only $KUBECONFIG entry; else the
    // first existing entry, or the last one when none exists; else ~/.kube/config.
    [[nodiscard]] std::filesystem::path default_write_target() const;
};

// One kubeconfig file, parsed and validated, its YAML kept verbatim.
struct KubeconfigFile {
    std::filesystem::path path; // absolute
    YAML::Node root;            // a mapping; an empty file reads as an empty mapping
};

// Reads and validates one file. Errors (ErrorKind::parse / io) read "<file>:<line>: <what>" and cover:
// invalid YAML, binary garbage, wrong types (e.g. `clusters` not a list, `server` not a string), an entry
// without a name, a duplicate name inside the file, invalid base64 in *-data fields.
util::Result<KubeconfigFile> read_kubeconfig_file(const std::filesystem::path& path);
// The same, building the document in `memory_of`'s yaml-cpp memory: for callers that combine many large
// documents into one (see yaml/yaml.hpp make_node_like).
util::Result<KubeconfigFile> read_kubeconfig_file(const std::filesystem::path& path,
                                                  const YAML::Node& memory_of);
// The same for text already in memory; `path` names it in errors and anchors relative paths.
util::Result<KubeconfigFile> parse_kubeconfig(std::string_view text, const std::filesystem::path& path);

// Validates a document built in memory (before meshlink writes it) by the same rules as
// read_kubeconfig_file; `path` names it in errors.
util::Result<> validate_kubeconfig(const YAML::Node& root, const std::filesystem::path& path);

// --- Typed views of the entries (what a client needs). Paths are absolute; *-data fields are decoded bytes.

struct ExecEnvVar {
    std::string name;
    std::string value;
};

struct ExecConfig {
    std::string command; // absolute when the file gave a relative path containing '/', else as written
    std::vector<std::string> args;
    std::vector<ExecEnvVar> env;
    std::string api_version; // client.authentication.k8s.io/v1 or v1beta1
    std::string install_hint;
    bool provide_cluster_info = false;
    std::string interactive_mode; // Never | IfAvailable | Always ("" = unset)
};

struct Cluster {
    std::string server;
    std::string tls_server_name;
    bool insecure_skip_tls_verify = false;
    std::string certificate_authority;      // path
    std::string certificate_authority_data; // PEM bytes
    std::string proxy_url;
    bool disable_compression = false;
    YAML::Node extensions; // list of {name, extension} as written, or null
};

struct AuthInfo {
    std::string client_certificate;      // path
    std::string client_certificate_data; // PEM bytes
    std::string client_key;              // path
    std::string client_key_data;         // PEM bytes
    std::string token;
    std::string token_file; // path
    std::string username;
    std::string password;
    std::string impersonate;                     // "as"
    std::vector<std::string> impersonate_groups; // "as-groups"
    std::optional<ExecConfig> exec;
    std::string auth_provider; // auth-provider.name, "" when absent (legacy, not supported for requests)
};

struct Context {
    std::string cluster;
    std::string user;
    std::string namespace_name;
};

// A named entry of the merged view: the typed value, its YAML as written, and where it came from.
template <typename T>
struct Named {
    std::string name;
    T value;
    YAML::Node raw;               // the inner mapping ("cluster:" / "user:" / "context:") as written
    std::filesystem::path origin; // the file that defined it (client-go LocationOfOrigin)
    int line = 0;                 // 1-based line of the entry in `origin`
};

// The merged view of all files in precedence order.
struct Kubeconfig {
    std::vector<KubeconfigFile> files; // the files that exist, in precedence order
    std::map<std::string, Named<Cluster>> clusters;
    std::map<std::string, Named<AuthInfo>> users;
    std::map<std::string, Named<Context>> contexts;
    std::string current_context;
};

// Loads and merges by client-go's rules. A missing explicit file is an error; missing $KUBECONFIG entries are
// skipped; no file at all yields an empty config. Read or parse errors of any file are errors.
util::Result<Kubeconfig> load_kubeconfig(const LoadingRules& rules);

// Builds the merged view from files already read (in precedence order).
util::Result<Kubeconfig> merge_kubeconfig_files(std::vector<KubeconfigFile> files);

} // namespace meshlink::kube
