#include "plugin/demo/manifests.hpp"

#include "plugin/defaults.hpp"

#include <fmt/format.h>

namespace meshlink::plugin::demo {

using nlohmann::json;

std::string response_message(const std::string& cluster) {
    return fmt::format("{{\"Galaxy\": \"Alderaan\", \"Cluster\": \"{}\"}}\n", cluster);
}

std::vector<json> render(const RenderInput& input) {
    std::vector<json> objects;
    for (const auto& document : embedded_documents()) {
        json object = json::parse(document.json);
        const std::string kind = object.value("kind", "");
        if (kind == "Namespace") {
            object["metadata"]["name"] = input.ns;
        } else {
            object["metadata"]["namespace"] = input.ns;
        }
        if (kind == "ConfigMap" &&
            object["metadata"].value("name", "") == defaults::k_demo_response_configmap) {
            object["data"][std::string(defaults::k_demo_response_key)] = response_message(input.cluster);
        }
        if (kind == "Deployment") {
            json& spec = object["spec"]["template"]["spec"];
            for (auto& container : spec["containers"]) {
                const std::string name = container.value("name", "");
                if (name == defaults::k_demo_server) {
                    container["image"] = input.images.server;
                } else if (name == defaults::k_demo_client_container) {
                    container["image"] = input.images.client;
                }
            }
            if (!input.pull_secrets.empty()) {
                json secrets = json::array();
                for (const auto& secret : input.pull_secrets) {
                    secrets.push_back({{"name", secret}});
                }
                spec["imagePullSecrets"] = secrets;
            }
        }
        objects.push_back(std::move(object));
    }
    return objects;
}

} // namespace meshlink::plugin::demo
