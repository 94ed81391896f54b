#include "plugin/agent/manifests.hpp"

#include "plugin/kernel/manifests.hpp"
#include "yaml/yaml.hpp"

#include <fmt/format.h>

#include <charconv>

namespace meshlink::plugin::agent {
namespace {

using nlohmann::json;

YAML::Node to_yaml_node(const json& value) {
    switch (value.type()) {
    case json::value_t::object: {
        YAML::Node node(YAML::NodeType::Map);
        for (const auto& [key, item] : value.items()) {
            node.force_insert(yaml::make_string_node(key), to_yaml_node(item));
        }
        return node;
    }
    case json::value_t::array: {
        YAML::Node node(YAML::NodeType::Sequence);
        for (const auto& item : value) {
            node.push_back(to_yaml_node(item));
        }
        return node;
    }
    case json::value_t::string:
        return yaml::make_string_node(value.get<std::string>());
    case json::value_t::boolean:
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: {
        // Plain, so the emitter writes it unquoted and a reader gets a number or a boolean back.
        YAML::Node node(value.dump());
        node.SetTag("?");
        return node;
    }
    default:
        return YAML::Node(YAML::NodeType::Null);
    }
}

// Replaces or adds "--cilium-version=X.Y" in a container's args, keeping every other argument in place.
void set_cilium_flag(json& container, const std::string& version) {
    if (!container.contains("args") || !container["args"].is_array()) {
        container["args"] = json::array();
    }
    json args = json::array();
    for (const auto& arg : container["args"]) {
        if (arg.is_string() && (arg.get<std::string>() == "--cilium-version" ||
                                arg.get<std::string>().starts_with("--cilium-version="))) {
            continue;
        }
        args.push_back(arg);
    }
    args.push_back("--cilium-version=" + version);
    container["args"] = std::move(args);
}

// Sets the values of every node affinity term that selects by metadata.name (the kernel workload has one).
void set_node_names(json& pod_spec, const std::vector<std::string>& nodes) {
    json& terms = pod_spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                          ["nodeSelectorTerms"];
    if (!terms.is_array()) {
        return;
    }
    for (auto& term : terms) {
        if (!term.contains("matchFields") || !term["matchFields"].is_array()) {
            continue;
        }
        for (auto& field : term["matchFields"]) {
            if (field.value("key", "") == "metadata.name") {
                field["values"] = nodes;
            }
        }
    }
}

// One rendering for every embedded set: what a DaemonSet runs (image, Cilium release) and where (nodes).
std::vector<json> render(const std::vector<EmbeddedDocument>& documents,
                         const std::optional<std::string>& image,
                         const std::optional<std::string>& cilium_version,
                         const std::optional<std::vector<std::string>>& nodes) {
    std::vector<json> objects;
    for (const auto& document : documents) {
        json object = json::parse(document.json);
        if (object.value("kind", "") == "DaemonSet") {
            json& pod_spec = object["spec"]["template"]["spec"];
            for (auto& container : pod_spec["containers"]) {
                if (image) {
                    container["image"] = *image;
                }
                if (cilium_version) {
                    set_cilium_flag(container, *cilium_version);
                }
            }
            if (nodes) {
                set_node_names(pod_spec, *nodes);
            }
        }
        objects.push_back(std::move(object));
    }
    return objects;
}

} // namespace

std::vector<json> render_objects(const RenderOptions& options) {
    return render(embedded_documents(), options.image, options.cilium_version, std::nullopt);
}

std::vector<json> render_kernel_objects(const KernelRenderOptions& options) {
    return render(plugin::kernel::embedded_documents(), options.image, std::nullopt, options.nodes);
}

std::string describe(const json& object) {
    const json& metadata = object.contains("metadata") ? object["metadata"] : json::object();
    const std::string name = metadata.value("name", "");
    const std::string ns = metadata.value("namespace", "");
    return fmt::format("{} {}{}", object.value("kind", "object"), ns.empty() ? "" : ns + "/", name);
}

std::string to_yaml(const std::vector<json>& objects) {
    std::string out;
    for (std::size_t i = 0; i < objects.size(); ++i) {
        if (i > 0) {
            out += "---\n";
        }
        out += yaml::emit(to_yaml_node(objects[i]));
    }
    return out;
}

bool parse_cilium_release(std::string_view text, std::string& normalized) {
    if (text.starts_with('v')) {
        text.remove_prefix(1);
    }
    int major = 0;
    int minor = 0;
    const char* end = text.data() + text.size();
    auto [after_major, ec1] = std::from_chars(text.data(), end, major);
    if (ec1 != std::errc() || after_major == end || *after_major != '.') {
        return false;
    }
    auto [after_minor, ec2] = std::from_chars(after_major + 1, end, minor);
    if (ec2 != std::errc() || after_minor == after_major + 1) {
        return false;
    }
    // A patch level and a pre-release suffix ("1.16.5", "1.17.0-rc.1") do not change the release.
    if (after_minor != end && *after_minor != '.' && *after_minor != '-') {
        return false;
    }
    if (major < 1 || minor < 0) {
        return false;
    }
    normalized = fmt::format("{}.{}", major, minor);
    return true;
}

std::optional<std::string> cilium_version_from_image(std::string_view image) {
    if (const auto at = image.find('@'); at != std::string_view::npos) {
        image = image.substr(0, at);
    }
    const auto colon = image.rfind(':');
    const auto slash = image.rfind('/');
    // A colon before the last slash belongs to a registry port ("registry:5000/cilium/cilium"): no tag.
    if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) {
        return std::nullopt;
    }
    std::string normalized;
    if (!parse_cilium_release(image.substr(colon + 1), normalized)) {
        return std::nullopt;
    }
    return normalized;
}

} // namespace meshlink::plugin::agent
