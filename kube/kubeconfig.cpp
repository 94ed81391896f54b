#include "kube/kubeconfig.hpp"

#include "kube/kubeconfig_schema.hpp"
#include "util/file.hpp"
#include "yaml/yaml.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <unordered_set>

namespace meshlink::kube {
namespace fs = std::filesystem;
namespace {

fs::path home_directory() {
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        return home;
    }
    if (const passwd* entry = ::getpwuid(::getuid()); entry != nullptr && entry->pw_dir != nullptr) {
        return entry->pw_dir;
    }
    return "/";
}

std::string display_name(const fs::path& path) {
    return path.string();
}

} // namespace

// --- Loading rules

LoadingRules LoadingRules::from_environment(const std::optional<std::string>& explicit_path) {
    LoadingRules rules;
    if (explicit_path && !explicit_path->empty()) {
        rules.explicit_path = fs::path(*explicit_path);
    }
    const char* env = std::getenv("KUBECONFIG");
    if (env != nullptr && *env != '\0') {
        std::unordered_set<std::string> seen;
        std::string_view list(env);
        std::size_t start = 0;
        while (start <= list.size()) {
            const std::size_t end = std::min(list.find(':', start), list.size());
            const std::string entry(list.substr(start, end - start));
            // client-go deduplicates the strings as written and skips empty entries.
            if (!entry.empty() && seen.insert(entry).second) {
                rules.precedence.emplace_back(entry);
            }
            start = end + 1;
        }
    } else {
        rules.precedence.push_back(home_directory() / ".kube" / "config");
    }
    return rules;
}

fs::path LoadingRules::default_write_target() const {
    if (explicit_path) {
        return *explicit_path;
    }
    if (precedence.size() == 1) {
        return precedence.front();
    }
    for (const auto& path : precedence) {
        std::error_code ec;
        if (fs::exists(path, ec)) {
            return path;
        }
    }
    if (!precedence.empty()) {
        return precedence.back();
    }
    return home_directory() / ".kube" / "config";
}

// --- One file

namespace {

util::Result<KubeconfigFile> parse_in(std::string_view text, const fs::path& path,
                                      const YAML::Node* memory_of) {
    const std::string name = display_name(path);
    if (auto bad = detail::check_text(text, name)) {
        return std::unexpected(*bad);
    }
    KubeconfigFile file;
    file.path = fs::absolute(path).lexically_normal();
    auto root = yaml::load(text, name, memory_of);
    if (!root) {
        return std::unexpected(root.error());
    }
    file.root = std::move(*root);
    if (yaml::is_null(file.root)) {
        file.root = YAML::Node(YAML::NodeType::Map);
        return file;
    }
    if (auto bad = detail::check_document(file.root, name, true)) {
        return std::unexpected(*bad);
    }
    if (auto bad = detail::walk_entries(file, name, {})) {
        return std::unexpected(*bad);
    }
    return file;
}

util::Result<KubeconfigFile> read_in(const fs::path& path, const YAML::Node* memory_of);

} // namespace

util::Result<KubeconfigFile> parse_kubeconfig(std::string_view text, const fs::path& path) {
    return parse_in(text, path, nullptr);
}

util::Result<> validate_kubeconfig(const YAML::Node& root, const fs::path& path) {
    const std::string name = display_name(path);
    if (auto bad = detail::check_document(root, name)) {
        return std::unexpected(*bad);
    }
    KubeconfigFile file{fs::absolute(path).lexically_normal(), root};
    if (auto bad = detail::walk_entries(file, name, {})) {
        return std::unexpected(*bad);
    }
    return {};
}

util::Result<KubeconfigFile> read_kubeconfig_file(const fs::path& path) {
    return read_in(path, nullptr);
}

util::Result<KubeconfigFile> read_kubeconfig_file(const fs::path& path, const YAML::Node& memory_of) {
    return read_in(path, &memory_of);
}

namespace {

// "cannot open: No such file or directory", "not a regular file", "read: Input/output error".
std::string read_failure(const util::FileError& error) {
    using Step = util::FileError::Step;
    switch (error.step) {
    case Step::open:
        return "cannot open: " + error.reason();
    case Step::stat:
        return "stat: " + error.reason();
    case Step::not_regular:
        return "not a regular file";
    case Step::read:
        return "read: " + error.reason();
    case Step::too_large:
        break;
    }
    return error.reason();
}

util::Result<KubeconfigFile> read_in(const fs::path& path, const YAML::Node* memory_of) {
    auto text = util::read_file(path, {.regular_only = true});
    if (!text) {
        return util::fail(text.error().kind(), display_name(path) + ": " + read_failure(text.error()));
    }
    return parse_in(*text, path, memory_of);
}

} // namespace

// --- Merged view

util::Result<Kubeconfig> merge_kubeconfig_files(std::vector<KubeconfigFile> files) {
    Kubeconfig config;
    for (const auto& file : files) {
        auto on_cluster = [&](const std::string& name, Cluster value, const YAML::Node& raw, int line) {
            config.clusters.try_emplace(name, Named<Cluster>{name, std::move(value), raw, file.path, line});
        };
        auto on_user = [&](const std::string& name, AuthInfo value, const YAML::Node& raw, int line) {
            config.users.try_emplace(name, Named<AuthInfo>{name, std::move(value), raw, file.path, line});
        };
        auto on_context = [&](const std::string& name, Context value, const YAML::Node& raw, int line) {
            config.contexts.try_emplace(name, Named<Context>{name, std::move(value), raw, file.path, line});
        };
        if (auto bad =
                detail::walk_entries(file, display_name(file.path), {on_cluster, on_user, on_context})) {
            return std::unexpected(*bad);
        }
        if (config.current_context.empty()) {
            if (const YAML::Node current = file.root["current-context"]; yaml::is_string(current)) {
                config.current_context = current.Scalar();
            }
        }
    }
    config.files = std::move(files);
    return config;
}

util::Result<Kubeconfig> load_kubeconfig(const LoadingRules& rules) {
    std::vector<KubeconfigFile> files;
    if (rules.explicit_path) {
        auto file = read_kubeconfig_file(*rules.explicit_path);
        if (!file) {
            return std::unexpected(file.error());
        }
        files.push_back(std::move(*file));
        return merge_kubeconfig_files(std::move(files));
    }
    for (const auto& path : rules.precedence) {
        auto file = read_kubeconfig_file(path);
        if (!file) {
            if (file.error().kind == util::ErrorKind::not_found) {
                continue; // client-go skips missing entries of the list
            }
            return std::unexpected(file.error());
        }
        files.push_back(std::move(*file));
    }
    return merge_kubeconfig_files(std::move(files));
}

} // namespace meshlink::kube