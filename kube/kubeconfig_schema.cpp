#include "kube/kubeconfig_schema.hpp"

#include "util/base64.hpp"
#include "yaml/yaml.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace meshlink::kube::detail {
namespace fs = std::filesystem;
namespace {

std::string in_quotes(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

// What a value is, never what it says: the value may be a credential typed as a number (`token: 12345`),
// and a message names the field and line, which is enough to find it.
std::string describe(const YAML::Node& node) {
    if (yaml::is_null(node)) {
        return "null";
    }
    switch (node.Type()) {
    case YAML::NodeType::Sequence:
        return "a list";
    case YAML::NodeType::Map:
        return "a mapping";
    case YAML::NodeType::Scalar:
        switch (node.Tag() == "?" ? yaml::resolve_plain_scalar(node.Scalar())
                                  : yaml::PlainScalarType::string) {
        case yaml::PlainScalarType::boolean:
            return "a boolean";
        case yaml::PlainScalarType::integer:
        case yaml::PlainScalarType::floating:
            return "a number";
        default:
            return "a string";
        }
    default:
        return "nothing";
    }
}

int line_of(const YAML::Node& node) {
    const YAML::Mark mark = node.Mark();
    return mark.is_null() ? 1 : mark.line + 1;
}

// Validates a kubeconfig's structure and extracts typed values in one pass. Records the first error
// ("<file>:<line>: <where>: <what>") and keeps returning defaults, so callers read straight through and check
// ok() once at the end.
class Checker {
public:
    // `decode`: keep decoded *-data (typed views); otherwise only check it.
    explicit Checker(std::string file, bool decode = true) : m_file(std::move(file)), m_decode(decode) {}

    [[nodiscard]] bool ok() const { return !m_error.has_value(); }
    [[nodiscard]] util::Error error() const { return *m_error; }

    void fail_at(int line, std::string_view where, std::string_view what) {
        if (m_error) {
            return;
        }
        std::string message = m_file + ":" + std::to_string(line) + ": ";
        if (!where.empty()) {
            message += std::string(where) + ": ";
        }
        message += what;
        m_error = util::Error{util::ErrorKind::parse, std::move(message)};
    }

    // Each field accessor takes the key's node for the line (value nodes of `key:` with no value have no
    // reliable mark) and the value.
    std::string string(const YAML::Node& key, const YAML::Node& value, std::string_view where) {
        if (yaml::is_null(value)) {
            return {};
        }
        if (!yaml::is_string(value)) {
            fail_at(line_of(key), where, key.Scalar() + ": expected a string, got " + describe(value));
            return {};
        }
        return value.Scalar();
    }

    bool boolean(const YAML::Node& key, const YAML::Node& value, std::string_view where) {
        if (yaml::is_null(value)) {
            return false;
        }
        if (value.IsScalar() && value.Tag() == "?" &&
            yaml::resolve_plain_scalar(value.Scalar()) == yaml::PlainScalarType::boolean) {
            static const std::set<std::string> k_true{"y",    "Y",    "yes", "Yes", "YES", "true",
                                                      "True", "TRUE", "on",  "On",  "ON"};
            return k_true.contains(value.Scalar());
        }
        fail_at(line_of(key), where, key.Scalar() + ": expected a boolean, got " + describe(value));
        return false;
    }

    std::string base64(const YAML::Node& key, const YAML::Node& value, std::string_view where) {
        if (!m_decode) {
            // Checked in place: certificates and keys are the bulk of a large kubeconfig.
            if (yaml::is_null(value)) {
                return {};
            }
            if (!yaml::is_string(value)) {
                string(key, value, where); // records the type error
                return {};
            }
            if (auto valid = util::base64_validate(value.Scalar(), util::Base64Offsets::without_line_breaks);
                !valid) {
                fail_at(line_of(key), where, key.Scalar() + ": invalid base64: " + valid.error().message);
            }
            return {};
        }
        const std::string text = string(key, value, where);
        if (text.empty()) {
            return {};
        }
        auto decoded = util::base64_decode(text, util::Base64Offsets::without_line_breaks);
        if (!decoded) {
            fail_at(line_of(key), where, key.Scalar() + ": invalid base64: " + decoded.error().message);
            return {};
        }
        return std::move(*decoded);
    }

    std::vector<std::string> strings(const YAML::Node& key, const YAML::Node& value, std::string_view where) {
        std::vector<std::string> out;
        if (yaml::is_null(value)) {
            return out;
        }
        if (!value.IsSequence()) {
            fail_at(line_of(key), where,
                    key.Scalar() + ": expected a list of strings, got " + describe(value));
            return out;
        }
        for (const auto& item : value) {
            if (!yaml::is_string(item) && !yaml::is_null(item)) {
                fail_at(line_of(item), where,
                        key.Scalar() + ": expected a list of strings, got an item that is " + describe(item));
                return out;
            }
            out.push_back(yaml::is_null(item) ? std::string() : item.Scalar());
        }
        return out;
    }

    // A mapping (or null) value; returns false (and records an error) for anything else.
    bool mapping(const YAML::Node& key, const YAML::Node& value, std::string_view where) {
        if (yaml::is_null(value) || value.IsMap()) {
            return true;
        }
        fail_at(line_of(key), where, key.Scalar() + ": expected a mapping, got " + describe(value));
        return false;
    }

    // Map of string to string (auth-provider config).
    void string_map(const YAML::Node& key, const YAML::Node& value, std::string_view where) {
        if (!mapping(key, value, where) || yaml::is_null(value)) {
            return;
        }
        for (const auto& item : value) {
            const std::string inner = std::string(where) + ": " + key.Scalar();
            string(item.first, item.second, inner);
        }
    }

    // `extensions:` lists of {name, extension} (client-go NamedExtension); names unique within the list.
    void extensions(const YAML::Node& key, const YAML::Node& value, std::string_view where) {
        if (yaml::is_null(value)) {
            return;
        }
        if (!value.IsSequence()) {
            fail_at(line_of(key), where, "extensions: expected a list, got " + describe(value));
            return;
        }
        std::unordered_map<std::string, int> seen;
        for (const auto& item : value) {
            if (!item.IsMap()) {
                fail_at(line_of(item), where,
                        "extensions: expected a mapping with name and extension, got " + describe(item));
                return;
            }
            std::string name;
            for (const auto& field : item) {
                if (field.first.Scalar() == "name") {
                    name = string(field.first, field.second, where);
                }
            }
            if (name.empty()) {
                fail_at(line_of(item), where, "extensions: an entry has no name");
                return;
            }
            if (auto [it, inserted] = seen.emplace(name, line_of(item)); !inserted) {
                fail_at(line_of(item), where,
                        "duplicate extension name " + in_quotes(name) + " (first at line " +
                            std::to_string(it->second) + ")");
                return;
            }
        }
    }

private:
    std::string m_file;
    bool m_decode = true;
    std::optional<util::Error> m_error;
};

std::string resolve_path(const std::string& value, const fs::path& dir) {
    if (value.empty() || fs::path(value).is_absolute()) {
        return value;
    }
    return (dir / value).lexically_normal().string();
}

Cluster read_cluster(const YAML::Node& inner, Checker& check, std::string_view where, const fs::path& dir) {
    Cluster cluster;
    if (!inner.IsMap()) {
        return cluster;
    }
    for (const auto& field : inner) {
        const std::string& key = field.first.Scalar();
        const YAML::Node& value = field.second;
        if (key == "server") {
            cluster.server = check.string(field.first, value, where);
        } else if (key == "tls-server-name") {
            cluster.tls_server_name = check.string(field.first, value, where);
        } else if (key == "insecure-skip-tls-verify") {
            cluster.insecure_skip_tls_verify = check.boolean(field.first, value, where);
        } else if (key == "certificate-authority") {
            cluster.certificate_authority = resolve_path(check.string(field.first, value, where), dir);
        } else if (key == "certificate-authority-data") {
            cluster.certificate_authority_data = check.base64(field.first, value, where);
        } else if (key == "proxy-url") {
            cluster.proxy_url = check.string(field.first, value, where);
        } else if (key == "disable-compression") {
            cluster.disable_compression = check.boolean(field.first, value, where);
        } else if (key == "extensions") {
            check.extensions(field.first, value, where);
            cluster.extensions = value;
        }
    }
    return cluster;
}

ExecConfig read_exec(const YAML::Node& key, const YAML::Node& inner, Checker& check, const std::string& where,
                     const fs::path& dir) {
    ExecConfig exec;
    if (!check.mapping(key, inner, where) || !inner.IsMap()) {
        return exec;
    }
    const std::string in = where + ": exec";
    for (const auto& field : inner) {
        const std::string& name = field.first.Scalar();
        const YAML::Node& value = field.second;
        if (name == "command") {
            exec.command = check.string(field.first, value, in);
            if (exec.command.find('/') != std::string::npos) {
                exec.command = resolve_path(exec.command, dir);
            }
        } else if (name == "args") {
            exec.args = check.strings(field.first, value, in);
        } else if (name == "env") {
            if (yaml::is_null(value)) {
                continue;
            }
            if (!value.IsSequence()) {
                check.fail_at(line_of(field.first), in,
                              "env: expected a list of {name, value}, got " + describe(value));
                continue;
            }
            for (const auto& item : value) {
                if (!item.IsMap()) {
                    check.fail_at(line_of(item), in,
                                  "env: expected a mapping with name and value, got " + describe(item));
                    break;
                }
                ExecEnvVar var;
                for (const auto& env_field : item) {
                    if (env_field.first.Scalar() == "name") {
                        var.name = check.string(env_field.first, env_field.second, in + ": env");
                    } else if (env_field.first.Scalar() == "value") {
                        var.value = check.string(env_field.first, env_field.second, in + ": env");
                    }
                }
                exec.env.push_back(std::move(var));
            }
        } else if (name == "apiVersion") {
            exec.api_version = check.string(field.first, value, in);
        } else if (name == "installHint") {
            exec.install_hint = check.string(field.first, value, in);
        } else if (name == "provideClusterInfo") {
            exec.provide_cluster_info = check.boolean(field.first, value, in);
        } else if (name == "interactiveMode") {
            exec.interactive_mode = check.string(field.first, value, in);
        }
    }
    return exec;
}

AuthInfo read_user(const YAML::Node& inner, Checker& check, const std::string& where, const fs::path& dir) {
    AuthInfo user;
    if (!inner.IsMap()) {
        return user;
    }
    for (const auto& field : inner) {
        const std::string& key = field.first.Scalar();
        const YAML::Node& value = field.second;
        if (key == "client-certificate") {
            user.client_certificate = resolve_path(check.string(field.first, value, where), dir);
        } else if (key == "client-certificate-data") {
            user.client_certificate_data = check.base64(field.first, value, where);
        } else if (key == "client-key") {
            user.client_key = resolve_path(check.string(field.first, value, where), dir);
        } else if (key == "client-key-data") {
            user.client_key_data = check.base64(field.first, value, where);
        } else if (key == "token") {
            user.token = check.string(field.first, value, where);
        } else if (key == "tokenFile") {
            user.token_file = resolve_path(check.string(field.first, value, where), dir);
        } else if (key == "username") {
            user.username = check.string(field.first, value, where);
        } else if (key == "password") {
            user.password = check.string(field.first, value, where);
        } else if (key == "as") {
            user.impersonate = check.string(field.first, value, where);
        } else if (key == "as-uid") {
            check.string(field.first, value, where);
        } else if (key == "as-groups") {
            user.impersonate_groups = check.strings(field.first, value, where);
        } else if (key == "as-user-extra") {
            if (check.mapping(field.first, value, where) && value.IsMap()) {
                for (const auto& extra : value) {
                    check.strings(extra.first, extra.second, where + ": as-user-extra");
                }
            }
        } else if (key == "auth-provider") {
            if (check.mapping(field.first, value, where) && value.IsMap()) {
                for (const auto& provider : value) {
                    if (provider.first.Scalar() == "name") {
                        user.auth_provider =
                            check.string(provider.first, provider.second, where + ": auth-provider");
                    } else if (provider.first.Scalar() == "config") {
                        check.string_map(provider.first, provider.second, where + ": auth-provider");
                    }
                }
            }
        } else if (key == "exec") {
            if (!yaml::is_null(value)) {
                user.exec = read_exec(field.first, value, check, where, dir);
            }
        } else if (key == "extensions") {
            check.extensions(field.first, value, where);
        }
    }
    return user;
}

Context read_context(const YAML::Node& inner, Checker& check, std::string_view where) {
    Context context;
    if (!inner.IsMap()) {
        return context;
    }
    for (const auto& field : inner) {
        const std::string& key = field.first.Scalar();
        if (key == "cluster") {
            context.cluster = check.string(field.first, field.second, where);
        } else if (key == "user") {
            context.user = check.string(field.first, field.second, where);
        } else if (key == "namespace") {
            context.namespace_name = check.string(field.first, field.second, where);
        } else if (key == "extensions") {
            check.extensions(field.first, field.second, where);
        }
    }
    return context;
}

// One of the three named lists: its kind as kubectl names it, the top-level key and the inner key.
struct ListKind {
    std::string_view noun;  // "cluster"
    std::string_view key;   // "clusters"
    std::string_view inner; // "cluster"
};
constexpr ListKind k_clusters{"cluster", "clusters", "cluster"};
constexpr ListKind k_users{"user", "users", "user"};
constexpr ListKind k_contexts{"context", "contexts", "context"};

// Calls `visit(name, inner, line)` for each entry of a named list; checks shape, names and duplicates.
template <typename Visit>
void walk_list(const YAML::Node& root, const ListKind& kind, Checker& check, Visit&& visit) {
    YAML::Node key_node;
    YAML::Node list;
    for (const auto& item : root) {
        if (item.first.Scalar() == kind.key) {
            key_node = item.first;
            list = item.second;
        }
    }
    if (yaml::is_null(list)) {
        return;
    }
    if (!list.IsSequence()) {
        check.fail_at(line_of(key_node), "",
                      std::string(kind.key) + ": expected a list, got " + describe(list));
        return;
    }
    std::unordered_map<std::string, int> seen;
    seen.reserve(list.size());
    for (const auto& entry : list) {
        const int line = line_of(entry);
        if (!entry.IsMap()) {
            check.fail_at(line, "",
                          std::string(kind.key) + ": expected a mapping with name and " +
                              std::string(kind.inner) + ", got " + describe(entry));
            return;
        }
        YAML::Node name_key;
        YAML::Node name_value;
        YAML::Node inner_key;
        YAML::Node inner;
        for (const auto& field : entry) {
            if (field.first.Scalar() == "name") {
                name_key = field.first;
                name_value = field.second;
            } else if (field.first.Scalar() == kind.inner) {
                inner_key = field.first;
                inner = field.second;
            }
        }
        const bool has_name = name_key.IsDefined();
        const std::string name = has_name ? check.string(name_key, name_value, std::string(kind.key)) : "";
        if (inner_key.IsDefined() &&
            !check.mapping(inner_key, inner, std::string(kind.noun) + " " + in_quotes(name))) {
            return;
        }
        if (!check.ok()) {
            return;
        }
        if (!has_name || name.empty()) {
            check.fail_at(line, "", std::string(kind.key) + ": an entry has no name");
            return;
        }
        if (auto [it, inserted] = seen.emplace(name, line); !inserted) {
            // client-go refuses these too ("duplicate name ... in list").
            check.fail_at(line, "",
                          "duplicate " + std::string(kind.noun) + " name " + in_quotes(name) +
                              " (first defined at line " + std::to_string(it->second) + ")");
            return;
        }
        visit(name, inner, line);
        if (!check.ok()) {
            return;
        }
    }
}

// Rejects what yaml-cpp reads differently from go-yaml: duplicate keys (go-yaml silently keeps the last one,
// yaml-cpp the first) and merge keys (go-yaml merges, yaml-cpp keeps a "<<" key).
void check_mapping_keys(const YAML::Node& node, Checker& check, int depth = 0) {
    if (!check.ok() || depth > 200) {
        if (depth > 200) {
            check.fail_at(line_of(node), "", "nesting deeper than 200 levels");
        }
        return;
    }
    if (node.IsSequence()) {
        for (const auto& item : node) {
            check_mapping_keys(item, check, depth + 1);
        }
    } else if (node.IsMap()) {
        // Kubeconfig mappings are small: a linear scan over views beats hashing copies.
        std::vector<std::string_view> keys;
        keys.reserve(node.size());
        for (const auto& item : node) {
            if (item.first.IsScalar()) {
                if (item.first.Tag() == "?" && item.first.Scalar() == "<<") {
                    check.fail_at(line_of(item.first), "", "YAML merge keys (<<) are not supported");
                    return;
                }
                const std::string& key = item.first.Scalar(); // lives as long as the document
                if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
                    check.fail_at(line_of(item.first), "", "duplicate key " + in_quotes(key));
                    return;
                }
                keys.push_back(key);
            } else {
                check.fail_at(line_of(item.first), "",
                              "a mapping key must be a string, got " + describe(item.first));
                return;
            }
            check_mapping_keys(item.second, check, depth + 1);
        }
    }
}

// go-yaml refuses control characters and invalid UTF-8; checking first also gives binary files a clear error
// instead of whatever a YAML parser makes of them.
// True when every byte is printable ASCII, tab, CR or LF: what nearly every kubeconfig is. Written as a
// branch-free reduction so that the compiler vectorises it.
bool plain_text(std::string_view text) {
    unsigned char bad = 0;
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        bad |= static_cast<unsigned char>(((byte < 0x20) & (byte != '\t') & (byte != '\r') & (byte != '\n')) |
                                          (byte >= 0x7f));
    }
    return bad == 0;
}

std::optional<util::Error> check_text_impl(std::string_view text, const std::string& name) {
    if (plain_text(text)) {
        return std::nullopt;
    }
    int line = 1;
    std::size_t i = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\n') {
            ++line;
            ++i;
            continue;
        }
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
                return util::Error{util::ErrorKind::parse, name + ":" + std::to_string(line) +
                                                               ": binary data (control character " +
                                                               std::to_string(c) + "), not a kubeconfig"};
            }
            ++i;
            continue;
        }
        std::size_t length = 0;
        if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
            length = 2;
        } else if ((c & 0xF0) == 0xE0) {
            length = 3;
        } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
            length = 4;
        }
        bool valid = length > 0 && i + length <= text.size();
        for (std::size_t j = 1; valid && j < length; ++j) {
            valid = (static_cast<unsigned char>(text[i + j]) & 0xC0) == 0x80;
        }
        if (!valid) {
            return util::Error{util::ErrorKind::parse, name + ":" + std::to_string(line) +
                                                           ": binary data (invalid UTF-8), not a kubeconfig"};
        }
        i += length;
    }
    return std::nullopt;
}

void check_top_level(const YAML::Node& root, Checker& check) {
    for (const auto& item : root) {
        const std::string& key = item.first.Scalar();
        const YAML::Node& value = item.second;
        if (key == "apiVersion") {
            const std::string version = check.string(item.first, value, "");
            if (!version.empty() && version != "v1") {
                check.fail_at(line_of(item.first), "",
                              "apiVersion " + in_quotes(version) + " is not supported (want v1)");
            }
        } else if (key == "kind") {
            const std::string kind = check.string(item.first, value, "");
            if (!kind.empty() && kind != "Config") {
                check.fail_at(line_of(item.first), "",
                              "kind " + in_quotes(kind) + " is not a kubeconfig (want Config)");
            }
        } else if (key == "current-context") {
            check.string(item.first, value, "");
        } else if (key == "preferences") {
            if (check.mapping(item.first, value, "") && value.IsMap()) {
                for (const auto& pref : value) {
                    if (pref.first.Scalar() == "colors") {
                        check.boolean(pref.first, pref.second, "preferences");
                    } else if (pref.first.Scalar() == "extensions") {
                        check.extensions(pref.first, pref.second, "preferences");
                    }
                }
            }
        } else if (key == "extensions") {
            check.extensions(item.first, value, "");
        }
    }
}

} // namespace

std::optional<util::Error> check_text(std::string_view text, const std::string& name) {
    return check_text_impl(text, name);
}

std::optional<util::Error> check_document(const YAML::Node& root, const std::string& name,
                                          bool keys_checked) {
    Checker check(name);
    if (!root.IsMap()) {
        check.fail_at(line_of(root), "",
                      "not a kubeconfig: expected a mapping (apiVersion, kind, clusters, ...), got " +
                          describe(root));
        return check.error();
    }
    if (!keys_checked) {
        check_mapping_keys(root, check);
    }
    if (check.ok()) {
        check_top_level(root, check);
    }
    if (!check.ok()) {
        return check.error();
    }
    return std::nullopt;
}

std::optional<util::Error> walk_entries(const KubeconfigFile& file, const std::string& name,
                                        const EntryVisitors& visit) {
    // Decoded *-data is only kept for visitors; validation alone checks it in place.
    Checker check(name, visit.cluster || visit.user || visit.context);
    const fs::path dir = file.path.parent_path();
    walk_list(file.root, k_clusters, check, [&](const std::string& entry, const YAML::Node& inner, int line) {
        Cluster value = read_cluster(inner, check, "cluster " + in_quotes(entry), dir);
        if (visit.cluster && check.ok()) {
            visit.cluster(entry, std::move(value), inner, line);
        }
    });
    walk_list(file.root, k_users, check, [&](const std::string& entry, const YAML::Node& inner, int line) {
        AuthInfo value = read_user(inner, check, "user " + in_quotes(entry), dir);
        if (visit.user && check.ok()) {
            visit.user(entry, std::move(value), inner, line);
        }
    });
    walk_list(file.root, k_contexts, check, [&](const std::string& entry, const YAML::Node& inner, int line) {
        Context value = read_context(inner, check, "context " + in_quotes(entry));
        if (visit.context && check.ok()) {
            visit.context(entry, std::move(value), inner, line);
        }
    });
    if (!check.ok()) {
        return check.error();
    }
    return std::nullopt;
}

} // namespace meshlink::kube::detail
