// Build-time tool: reads manifests/kustomization.yaml and the files it lists, in order, and writes a .cpp
// holding every object as JSON (plugin/agent/manifests.hpp). It implements exactly the part of kustomize the
// manifests use, a plain list of local resource files, and fails the build on anything else, so what
// `agent install` applies can never silently differ from what `kubectl kustomize manifests/` renders.
//
//   meshlink-embed-manifests <kustomization.yaml> <output.cpp> [<function>]
//
// <function> names the generated accessor (default embedded_documents, the agent's manifests; the kernel
// rollout's workload, manifests/kernel/, is kernel_documents); plugin/agent/manifests.hpp declares each.

#include "plugin/agent/resources.hpp"
#include "util/file.hpp"
#include "yaml/yaml.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace yaml = meshlink::yaml;
using nlohmann::json;

struct BuildError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string read_file(const fs::path& path) {
    auto text = meshlink::util::read_file(path);
    if (!text) {
        throw BuildError(fmt::format("{}: cannot read it", path.string()));
    }
    return std::move(*text);
}

// A document as kubectl (sigs.k8s.io/yaml, then JSON) reads it. Plain scalars that YAML 1.1 and 1.2 read
// differently (yes/no/on/off, octal, hex) are refused: quote them in the manifest.
json to_json(const YAML::Node& node, const std::string& where) {
    auto out = yaml::to_portable_json(node, where);
    if (!out) {
        throw BuildError(out.error().message);
    }
    return std::move(*out);
}

// The documents of a YAML stream, split at "---" lines (what kustomize's reader splits at too).
std::vector<std::string> split_documents(const std::string& text) {
    std::vector<std::string> documents(1);
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.starts_with("---") && (line.size() == 3 || line[3] == ' ' || line[3] == '\t')) {
            documents.emplace_back();
            continue;
        }
        if (line == "...") {
            throw BuildError("\"...\" document end markers are not supported");
        }
        documents.back() += line + "\n";
    }
    return documents;
}

bool blank_document(const std::string& text) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        const auto first = line.find_first_not_of(" \t\r");
        if (first != std::string::npos && line[first] != '#') {
            return false;
        }
    }
    return true;
}

// Every object of one resource file, checked: a mapping with apiVersion, a kind install knows, a name.
std::vector<json> load_resource(const fs::path& path, const std::string& display) {
    std::vector<json> objects;
    int index = 0;
    for (const auto& document : split_documents(read_file(path))) {
        ++index;
        if (blank_document(document)) {
            continue;
        }
        const std::string where = fmt::format("{} (document {})", display, index);
        auto node = yaml::load(document, display);
        if (!node) {
            throw BuildError(node.error().message);
        }
        if (!node->IsMap()) {
            throw BuildError(where + ": not a mapping");
        }
        json object = to_json(*node, where);
        const auto api_version = object.value("apiVersion", std::string());
        const auto kind = object.value("kind", std::string());
        const auto resource = meshlink::plugin::agent::find_resource_kind(api_version, kind);
        if (!resource) {
            throw BuildError(
                fmt::format("{}: {} {} is not a kind `agent install` knows how to write; add it to "
                            "plugin/agent/resources.hpp",
                            where, api_version, kind));
        }
        const json& metadata = object.contains("metadata") ? object["metadata"] : json();
        if (!metadata.is_object() || !metadata.contains("name") || !metadata["name"].is_string()) {
            throw BuildError(where + ": metadata.name is missing");
        }
        if (resource->namespaced != metadata.contains("namespace")) {
            throw BuildError(
                fmt::format("{}: a {} {} metadata.namespace (kustomize would not add or drop one)", where,
                            kind, resource->namespaced ? "needs" : "must not have"));
        }
        objects.push_back(std::move(object));
    }
    return objects;
}

std::string c_string_literal(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            if (c < 0x20 || c >= 0x7f) {
                out += fmt::format("\\{:03o}", c); // octal: a hex escape would swallow following hex digits
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

void run(const fs::path& kustomization_path, const fs::path& output, const std::string& function) {
    const std::string display_root = kustomization_path.parent_path().filename().string();
    auto root = yaml::load(read_file(kustomization_path), kustomization_path.string());
    if (!root) {
        throw BuildError(root.error().message);
    }
    if (!root->IsMap()) {
        throw BuildError(kustomization_path.string() + ": not a mapping");
    }
    std::vector<std::string> resources;
    for (const auto& entry : *root) {
        const std::string key = entry.first.Scalar();
        if (key == "apiVersion") {
            if (entry.second.Scalar() != "kustomize.config.k8s.io/v1beta1") {
                throw BuildError(kustomization_path.string() +
                                 ": apiVersion must be kustomize.config.k8s.io/v1beta1");
            }
        } else if (key == "kind") {
            if (entry.second.Scalar() != "Kustomization") {
                throw BuildError(kustomization_path.string() + ": kind must be Kustomization");
            }
        } else if (key == "resources") {
            if (!entry.second.IsSequence()) {
                throw BuildError(kustomization_path.string() + ": resources must be a list");
            }
            for (const auto& item : entry.second) {
                if (!yaml::is_string(item)) {
                    throw BuildError(kustomization_path.string() + ": every resource must be a file name");
                }
                resources.push_back(item.Scalar());
            }
        } else {
            throw BuildError(fmt::format(
                "{}: \"{}\" is a kustomize feature the plugin's manifest embedding does not implement, so "
                "`kubectl meshlink agent install` would apply something other than `kubectl kustomize` "
                "renders. "
                "Implement it in plugin/agent/embed_manifests.cpp or leave it out.",
                kustomization_path.string(), key));
        }
    }
    if (resources.empty()) {
        throw BuildError(kustomization_path.string() + ": no resources listed");
    }

    std::set<std::tuple<std::string, std::string, std::string>> seen;
    std::string entries;
    for (const auto& resource : resources) {
        if (resource.find("://") != std::string::npos || resource.starts_with("github.com/") ||
            fs::path(resource).is_absolute()) {
            throw BuildError(
                fmt::format("{}: resource \"{}\": only files next to the kustomization are supported",
                            kustomization_path.string(), resource));
        }
        const fs::path path = kustomization_path.parent_path() / resource;
        std::error_code ec;
        if (fs::is_directory(path, ec)) {
            throw BuildError(
                fmt::format("{}: resource \"{}\" is a directory (a nested kustomization), which the "
                            "embedding does not implement",
                            kustomization_path.string(), resource));
        }
        const std::string display = display_root + "/" + resource;
        for (auto& object : load_resource(path, display)) {
            const auto key = std::make_tuple(object["kind"].get<std::string>(),
                                             object["metadata"].value("namespace", std::string()),
                                             object["metadata"]["name"].get<std::string>());
            if (!seen.insert(key).second) {
                throw BuildError(fmt::format("{}: {} \"{}\" is defined twice", display, std::get<0>(key),
                                             std::get<2>(key)));
            }
            entries += fmt::format("        {{{}, {}}},\n", c_string_literal(display),
                                   c_string_literal(object.dump()));
        }
    }

    const std::string text =
        fmt::format("// Generated by plugin/agent/embed_manifests.cpp from {} at build time. Do not edit.\n"
                    "#include \"plugin/agent/manifests.hpp\"\n\n"
                    "namespace meshlink::plugin::agent {{\n\n"
                    "const std::vector<EmbeddedDocument>& {}() {{\n"
                    "    static const std::vector<EmbeddedDocument> documents{{\n{}    }};\n"
                    "    return documents;\n"
                    "}}\n\n"
                    "}} // namespace meshlink::plugin::agent\n",
                    display_root + "/" + kustomization_path.filename().string(), function, entries);
    // Written to a temporary name first: an interrupted build must not leave a half file that looks current.
    const fs::path temporary = output.string() + ".tmp";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out) {
            throw BuildError(temporary.string() + ": cannot write it");
        }
    }
    fs::rename(temporary, output);
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3 && argc != 4) {
        std::cerr << "usage: meshlink-embed-manifests <kustomization.yaml> <output.cpp> [<function>]\n";
        return 2;
    }
    try {
        run(argv[1], argv[2], argc == 4 ? argv[3] : "embedded_documents");
    } catch (const std::exception& error) {
        std::cerr << "meshlink-embed-manifests: error: " << error.what() << "\n";
        return 1;
    }
    return 0;
}
