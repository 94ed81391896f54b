#pragma once
// Kubeconfig entries as written in files, and the transformations merge and export apply to them:
// making relative paths absolute, inlining certificates (--flatten), redacting secrets for display.

#include "kube/kubeconfig.hpp"
#include "util/error.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::plugin::kubeconfig {

enum class EntryKind { cluster, user, context };
inline constexpr EntryKind k_entry_kinds[] = {EntryKind::cluster, EntryKind::user, EntryKind::context};

std::string_view noun(EntryKind kind);     // "cluster"
std::string_view list_key(EntryKind kind); // "clusters"

// One named entry of a file: the inner mapping ("cluster:", "user:", "context:") as written.
struct RawEntry {
    EntryKind kind = EntryKind::cluster;
    std::string name;
    YAML::Node inner;             // null when the file gives none
    std::filesystem::path origin; // absolute path of the file
    int line = 0;
};

// The entries of one kind in a file that read_kubeconfig_file validated, in file order.
std::vector<RawEntry> file_entries(const kube::KubeconfigFile& file, EntryKind kind);

// `inner` with relative certificate-authority, client-certificate, client-key, tokenFile and '/'-containing
// exec.command made absolute against `dir` (client-go's ResolveLocalPaths rules): a deep copy when something
// changes, else `inner` itself (shared: callers clone before modifying).
YAML::Node absolutize(const YAML::Node& inner, EntryKind kind, const std::filesystem::path& dir);

// True when two absolutized entries mean the same to kubectl: fields client-go does not know are ignored
// (kubectl drops them when it rewrites a file), absent and zero values (null, false, "", [], {}) are the
// same (Go's omitempty), exec.interactiveMode defaults to IfAvailable for v1beta1, and line breaks inside
// *-data do not count.
bool same_meaning(const YAML::Node& a, const YAML::Node& b, EntryKind kind);

// A deep copy of an absolutized `inner` with certificate-authority, client-certificate and client-key
// inlined as *-data, like `kubectl config view --flatten` (tokenFile and exec stay references). A path
// whose *-data is already set is dropped, as client-go ignores it. `where` names the entry in errors.
util::Result<YAML::Node> flatten(const YAML::Node& inner, EntryKind kind, const std::string& where);

// Fails when a certificate or key file an absolutized `inner` relies on (no *-data given) is missing or
// unreadable: "<where>: certificate-authority /abs/ca.crt: No such file or directory" (no prefix when
// `where` is empty).
util::Result<> check_referenced_files(const YAML::Node& inner, EntryKind kind, const std::string& where);

// A deep copy of a whole kubeconfig document with secrets replaced the way `kubectl config view` shows
// them, and more: *-data as "DATA+OMITTED"; token, password, secret-looking auth-provider settings, every
// exec argument and every exec env value as "REDACTED"; user:password@ in a server or proxy-url as
// "REDACTED@".
YAML::Node redact_document(const YAML::Node& root);

// A kubeconfig document as YAML text in kubectl's shape, checked to read back (by the same validation that
// reads user files) with exactly the same meaning; `path` names it in errors.
// `names` checks only the document's shape and that every list's names are present and unique, for
// documents made of entries that were validated when read; `full` applies kube::validate_kubeconfig.
enum class Validation { full, names };
util::Result<std::string> render_kubeconfig(const YAML::Node& document, const std::filesystem::path& path,
                                            Validation validation = Validation::full);

// An empty kubeconfig as kubectl writes one: apiVersion, clusters, contexts, current-context, kind,
// preferences, users. With `memory_of`, in that node's yaml-cpp memory (see yaml::make_node_like).
YAML::Node empty_kubeconfig(const YAML::Node* memory_of = nullptr);

// One list item in kubectl's shape: the inner mapping, then the name; in `memory_of`'s memory.
YAML::Node make_entry_item(EntryKind kind, const std::string& name, const YAML::Node& inner,
                           const YAML::Node& memory_of);

// "file:line" for messages.
std::string location(const RawEntry& entry);

} // namespace meshlink::plugin::kubeconfig
