#include "plugin/kubeconfig/entries.hpp"

#include "kube/redact.hpp"
#include "util/base64.hpp"
#include "util/file.hpp"
#include "yaml/yaml.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <span>
#include <unordered_set>
#include <utility>

namespace meshlink::plugin::kubeconfig {
namespace fs = std::filesystem;
namespace {

// Path fields and the *-data field that replaces each when flattened.
struct PathField {
    std::string_view path;
    std::string_view data; // "" when not inlined by --flatten
};
constexpr std::array k_cluster_paths{PathField{"certificate-authority", "certificate-authority-data"}};
constexpr std::array k_user_paths{PathField{"client-certificate", "client-certificate-data"},
                                  PathField{"client-key", "client-key-data"}, PathField{"tokenFile", ""}};

std::span<const PathField> path_fields(EntryKind kind) {
    switch (kind) {
    case EntryKind::cluster:
        return k_cluster_paths;
    case EntryKind::user:
        return k_user_paths;
    case EntryKind::context:
        return {};
    }
    return {};
}

using yaml::find;
using yaml::get;

bool has_string(const YAML::Node& map, std::string_view key) {
    // Not map[key]: yaml-cpp's const operator[] formats a missing key through a stringstream.
    const auto value = find(map, key);
    return value && yaml::is_string(*value) && !value->Scalar().empty();
}

std::string make_absolute(const std::string& value, const fs::path& dir) {
    if (value.empty() || fs::path(value).is_absolute()) {
        return value;
    }
    return (dir / value).lexically_normal().string();
}

// Replaces the value of `key` in `map` keeping its position; inserts at the end when absent.
void set_in_place(YAML::Node& map, std::string_view key, const YAML::Node& value) {
    for (auto item : map) {
        if (item.first.Scalar() == key) {
            item.second = value;
            return;
        }
    }
    map[std::string(key)] = value;
}

// A copy of `map` with `key` renamed to `new_key` and its value replaced, at the same position.
YAML::Node rename_key(const YAML::Node& map, std::string_view key, std::string_view new_key,
                      const YAML::Node& value) {
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& item : map) {
        if (item.first.Scalar() == key) {
            out.force_insert(yaml::make_string_node(new_key), value);
        } else if (item.first.Scalar() != new_key) {
            out.force_insert(item.first, item.second);
        }
    }
    return out;
}

bool secret_like(std::string_view name) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    for (std::string_view word : {"token", "secret", "password", "passwd", "key", "credential", "auth"}) {
        if (lower.find(word) != std::string::npos) {
            return true;
        }
    }
    return false;
}

YAML::Node redacted(std::string_view text) {
    return yaml::make_string_node(text);
}

void redact_user(YAML::Node& user) {
    if (!user.IsMap()) {
        return;
    }
    for (auto item : user) {
        const std::string& key = item.first.Scalar();
        if (key.ends_with("-data") && yaml::is_string(item.second)) {
            item.second = redacted("DATA+OMITTED");
        } else if ((key == "token" || key == "password") && yaml::is_string(item.second)) {
            item.second = redacted("REDACTED");
        } else if (key == "auth-provider" && item.second.IsMap() && get(item.second, "config").IsMap()) {
            for (auto setting : get(item.second, "config")) {
                if (secret_like(setting.first.Scalar())) {
                    setting.second = redacted("REDACTED");
                }
            }
        } else if (key == "exec" && item.second.IsMap()) {
            // Exec plugins take credentials as arguments (`--token=...`) and in variables of any name
            // (`AWS_PROFILE` is harmless, `VAULT_ROLE_ID` is not): every argument and every value goes.
            if (YAML::Node args = get(item.second, "args"); args.IsSequence()) {
                for (YAML::Node arg : args) {
                    arg = redacted("REDACTED");
                }
            }
            if (YAML::Node env = get(item.second, "env"); env.IsSequence()) {
                for (auto var : env) {
                    if (var.IsMap() && get(var, "value").IsDefined()) {
                        var["value"] = redacted("REDACTED");
                    }
                }
            }
        }
    }
}

void redact_cluster(YAML::Node& cluster) {
    if (!cluster.IsMap()) {
        return;
    }
    for (auto item : cluster) {
        const std::string& key = item.first.Scalar();
        if (key.ends_with("-data") && yaml::is_string(item.second)) {
            item.second = redacted("DATA+OMITTED");
        } else if ((key == "proxy-url" || key == "server") && yaml::is_string(item.second)) {
            // http://user:password@proxy:3128 keeps its shape, not its credentials.
            const std::string shown = kube::redact_url(item.second.Scalar(), "REDACTED");
            if (shown != item.second.Scalar()) {
                item.second = redacted(shown);
            }
        }
    }
}

bool is_zero(const YAML::Node& node) {
    if (yaml::is_null(node)) {
        return true;
    }
    if (node.IsMap() || node.IsSequence()) {
        return node.size() == 0;
    }
    if (!node.IsScalar()) {
        return true;
    }
    if (yaml::is_string(node)) {
        return node.Scalar().empty();
    }
    return yaml::resolve_plain_scalar(node.Scalar()) == yaml::PlainScalarType::boolean &&
           std::string_view("nNfFoO").find(node.Scalar().front()) != std::string_view::npos &&
           node.Scalar() != "on" && node.Scalar() != "On" && node.Scalar() != "ON";
}

// The known, non-zero fields of a mapping, normalised recursively where client-go knows the shape.
YAML::Node known_fields(const YAML::Node& map, std::initializer_list<std::string_view> fields) {
    YAML::Node out(YAML::NodeType::Map);
    if (!map.IsMap()) {
        return out;
    }
    for (const auto& item : map) {
        const std::string& key = item.first.Scalar();
        if (std::find(fields.begin(), fields.end(), key) == fields.end() || is_zero(item.second)) {
            continue;
        }
        if (key.ends_with("-data") && yaml::is_string(item.second)) {
            std::string data = item.second.Scalar();
            std::erase_if(data, [](char c) { return c == '\r' || c == '\n'; });
            out[key] = yaml::make_string_node(data);
        } else if (key == "exec") {
            YAML::Node exec =
                known_fields(item.second, {"command", "args", "env", "apiVersion", "installHint",
                                           "provideClusterInfo", "interactiveMode"});
            const std::string api_version =
                get(exec, "apiVersion").IsScalar() ? get(exec, "apiVersion").Scalar() : "";
            if (!get(exec, "interactiveMode").IsDefined() &&
                (api_version == "client.authentication.k8s.io/v1beta1" ||
                 api_version == "client.authentication.k8s.io/v1alpha1")) {
                exec["interactiveMode"] = yaml::make_string_node("IfAvailable"); // client-go's default
            }
            out[key] = exec;
        } else if (key == "auth-provider") {
            out[key] = known_fields(item.second, {"name", "config"});
        } else {
            out[key] = item.second;
        }
    }
    return out;
}

YAML::Node meaning(const YAML::Node& inner, EntryKind kind) {
    switch (kind) {
    case EntryKind::cluster:
        return known_fields(inner,
                            {"server", "tls-server-name", "insecure-skip-tls-verify", "certificate-authority",
                             "certificate-authority-data", "proxy-url", "disable-compression", "extensions"});
    case EntryKind::user:
        return known_fields(inner,
                            {"client-certificate", "client-certificate-data", "client-key", "client-key-data",
                             "token", "tokenFile", "as", "as-uid", "as-groups", "as-user-extra", "username",
                             "password", "auth-provider", "exec", "extensions"});
    case EntryKind::context:
        return known_fields(inner, {"cluster", "user", "namespace", "extensions"});
    }
    return {};
}

} // namespace

bool same_meaning(const YAML::Node& a, const YAML::Node& b, EntryKind kind) {
    return yaml::equal(a, b) || yaml::equal(meaning(a, kind), meaning(b, kind));
}

std::string_view noun(EntryKind kind) {
    switch (kind) {
    case EntryKind::cluster:
        return "cluster";
    case EntryKind::user:
        return "user";
    case EntryKind::context:
        return "context";
    }
    return "entry";
}

std::string_view list_key(EntryKind kind) {
    switch (kind) {
    case EntryKind::cluster:
        return "clusters";
    case EntryKind::user:
        return "users";
    case EntryKind::context:
        return "contexts";
    }
    return "";
}

std::string location(const RawEntry& entry) {
    return entry.origin.string() + ":" + std::to_string(entry.line);
}

std::vector<RawEntry> file_entries(const kube::KubeconfigFile& file, EntryKind kind) {
    std::vector<RawEntry> entries;
    const YAML::Node list = get(file.root, list_key(kind));
    if (!list.IsSequence()) {
        return entries;
    }
    entries.reserve(list.size());
    for (const auto& item : list) {
        RawEntry entry;
        entry.kind = kind;
        entry.origin = file.path;
        entry.line = item.Mark().is_null() ? 0 : item.Mark().line + 1;
        for (const auto& field : item) {
            const std::string& key = field.first.Scalar();
            if (key == "name") {
                entry.name = field.second.Scalar();
            } else if (key == noun(kind)) {
                entry.inner = field.second;
            }
        }
        entries.push_back(std::move(entry));
    }
    return entries;
}

namespace {

bool needs_absolutize(const YAML::Node& inner, EntryKind kind) {
    for (const PathField& field : path_fields(kind)) {
        if (has_string(inner, field.path) && !fs::path(get(inner, field.path).Scalar()).is_absolute()) {
            return true;
        }
    }
    if (kind != EntryKind::user) {
        return false;
    }
    const auto exec = find(inner, "exec");
    if (exec && exec->IsMap() && has_string(*exec, "command")) {
        const std::string& command = get(*exec, "command").Scalar();
        return command.find('/') != std::string::npos && !fs::path(command).is_absolute();
    }
    return false;
}

} // namespace

YAML::Node absolutize(const YAML::Node& inner, EntryKind kind, const fs::path& dir) {
    if (!inner.IsMap() || !needs_absolutize(inner, kind)) {
        return inner; // shared, not copied: large files have thousands of entries with nothing to change
    }
    YAML::Node copy = YAML::Clone(inner);
    for (const PathField& field : path_fields(kind)) {
        if (has_string(copy, field.path)) {
            const std::string value = get(copy, field.path).Scalar();
            if (!fs::path(value).is_absolute()) {
                set_in_place(copy, field.path, yaml::make_string_node(make_absolute(value, dir)));
            }
        }
    }
    if (YAML::Node exec = get(copy, "exec");
        kind == EntryKind::user && exec.IsMap() && has_string(exec, "command")) {
        const std::string command = get(exec, "command").Scalar();
        // Only a command with a '/' is a path; a bare name is looked up on PATH (client-go).
        if (command.find('/') != std::string::npos && !fs::path(command).is_absolute()) {
            set_in_place(exec, "command", yaml::make_string_node(make_absolute(command, dir)));
        }
    }
    return copy;
}

util::Result<YAML::Node> flatten(const YAML::Node& inner, EntryKind kind, const std::string& where) {
    if (!inner.IsMap()) {
        return YAML::Clone(inner);
    }
    YAML::Node out = YAML::Clone(inner);
    for (const PathField& field : path_fields(kind)) {
        if (field.data.empty() || !has_string(out, field.path)) {
            continue;
        }
        if (has_string(out, field.data)) {
            // client-go: *-data overrides the path; drop the ignored path instead of shipping it.
            YAML::Node pruned(YAML::NodeType::Map);
            for (const auto& item : out) {
                if (item.first.Scalar() != field.path) {
                    pruned.force_insert(item.first, item.second);
                }
            }
            out = pruned;
            continue;
        }
        const std::string path = get(out, field.path).Scalar();
        auto content = util::read_file(path);
        if (!content) {
            return util::fail(util::ErrorKind::io, where + ": " + std::string(field.path) + " " + path +
                                                       ": " + content.error().reason());
        }
        out = rename_key(out, field.path, field.data, yaml::make_string_node(util::base64_encode(*content)));
    }
    return out;
}

util::Result<> check_referenced_files(const YAML::Node& inner, EntryKind kind, const std::string& where) {
    if (!inner.IsMap()) {
        return {};
    }
    for (const PathField& field : path_fields(kind)) {
        if (field.data.empty() || !has_string(inner, field.path) || has_string(inner, field.data)) {
            continue;
        }
        const std::string path = get(inner, field.path).Scalar();
        if (::access(path.c_str(), R_OK) != 0) {
            const int error = errno;
            const std::string what = std::string(field.path) + " " + path + ": " + std::strerror(error);
            return util::fail(error == ENOENT ? util::ErrorKind::not_found : util::ErrorKind::io,
                              where.empty() ? what : where + ": " + what);
        }
    }
    return {};
}

YAML::Node make_entry_item(EntryKind kind, const std::string& name, const YAML::Node& inner,
                           const YAML::Node& memory_of) {
    YAML::Node item = yaml::make_node_like(memory_of, YAML::NodeType::Map);
    item.force_insert(yaml::make_string_node_like(memory_of, noun(kind)), inner);
    item.force_insert(yaml::make_string_node_like(memory_of, "name"),
                      yaml::make_string_node_like(memory_of, name));
    return item;
}

YAML::Node empty_kubeconfig(const YAML::Node* memory_of) {
    YAML::Node root = memory_of != nullptr ? yaml::make_node_like(*memory_of, YAML::NodeType::Map)
                                           : YAML::Node(YAML::NodeType::Map);
    root["apiVersion"] = yaml::make_string_node("v1");
    root["clusters"] = YAML::Node(YAML::NodeType::Sequence);
    root["contexts"] = YAML::Node(YAML::NodeType::Sequence);
    root["current-context"] = yaml::make_string_node("");
    root["kind"] = yaml::make_string_node("Config");
    root["preferences"] = YAML::Node(YAML::NodeType::Map);
    root["users"] = YAML::Node(YAML::NodeType::Sequence);
    return root;
}

namespace {

util::Result<> check_names(const YAML::Node& document, const fs::path& path) {
    if (!document.IsMap()) {
        return util::fail(util::ErrorKind::invalid, path.string() + ": not a mapping");
    }
    for (EntryKind kind : k_entry_kinds) {
        const YAML::Node list = get(document, list_key(kind));
        if (yaml::is_null(list)) {
            continue;
        }
        if (!list.IsSequence()) {
            return util::fail(util::ErrorKind::invalid,
                              path.string() + ": " + std::string(list_key(kind)) + " is not a list");
        }
        std::unordered_set<std::string_view> names;
        for (const auto& item : list) {
            const YAML::Node name = get(item, "name");
            if (!item.IsMap() || !yaml::is_string(name) || name.Scalar().empty() ||
                !names.insert(name.Scalar()).second) {
                return util::fail(util::ErrorKind::invalid, path.string() + ": " + std::string(noun(kind)) +
                                                                " without a name, or a duplicate name");
            }
        }
    }
    return {};
}

} // namespace

util::Result<std::string> render_kubeconfig(const YAML::Node& document, const fs::path& path,
                                            Validation validation) {
    // Never write what we would refuse to read, nor text that means something else than the document.
    auto valid = validation == Validation::full ? kube::validate_kubeconfig(document, path)
                                                : check_names(document, path);
    if (!valid) {
        return util::fail(util::ErrorKind::generic,
                          "internal error: the kubeconfig built for " + path.string() +
                              " is invalid (nothing was written): " + valid.error().message);
    }
    std::uint64_t digest = 0;
    std::string text = yaml::emit(document, digest);
    if (auto same = yaml::verify_digest(text, digest, path.string()); !same) {
        return util::fail(util::ErrorKind::generic,
                          "internal error: the YAML written for " + path.string() +
                              " does not read back as built (nothing was written): " + same.error().message);
    }
    return text;
}

YAML::Node redact_document(const YAML::Node& root) {
    YAML::Node copy = YAML::Clone(root);
    for (EntryKind kind : {EntryKind::cluster, EntryKind::user}) {
        YAML::Node list = get(copy, list_key(kind));
        if (!list.IsSequence()) {
            continue;
        }
        for (auto item : list) {
            YAML::Node inner = get(item, noun(kind));
            if (kind == EntryKind::user) {
                redact_user(inner);
            } else {
                redact_cluster(inner);
            }
        }
    }
    return copy;
}

} // namespace meshlink::plugin::kubeconfig
