#include "node-agent/rollout/cluster.hpp"

#include "kube/status.hpp"
#include "node-agent/defaults.hpp"
#include "probe/defaults.hpp"
#include "util/json_text.hpp"

namespace meshlink::agent::rollout {
namespace {

using nlohmann::json;

namespace pd = meshlink::probe::defaults;

util::Result<std::optional<json>> optional_get(kube::Client& client, const std::string& path) {
    auto object = client.get(path);
    if (!object) {
        if (object.error().kind == util::ErrorKind::not_found) {
            return std::optional<json>();
        }
        return std::unexpected(object.error());
    }
    return std::optional<json>(std::move(*object));
}

util::Result<std::vector<json>> items(kube::Client& client, const std::string& path,
                                      const kube::ListOptions& options) {
    auto list = client.list(path, options);
    if (!list) {
        return std::unexpected(list.error());
    }
    std::vector<json> out;
    if (list->contains("items") && (*list)["items"].is_array()) {
        for (auto& item : (*list)["items"]) {
            if (item.is_object()) {
                out.push_back(std::move(item));
            }
        }
    }
    return out;
}

class KubeRolloutApi final : public RolloutApi {
public:
    explicit KubeRolloutApi(kube::Client& client) : m_client(client) {}

    util::Result<std::optional<json>> get_plan() override {
        return optional_get(m_client, kube::api_path("", "v1", "configmaps", pd::k_rollout_namespace,
                                                     pd::k_rollout_plan_configmap));
    }

    util::Result<std::optional<json>> get_lease() override { return optional_get(m_client, lease_path()); }

    util::Result<json> update_lease(const json& lease) override {
        return m_client.update(lease_path(), lease);
    }

    util::Result<json> get_node(std::string_view node) override {
        return m_client.get(kube::api_path("", "v1", "nodes", "", node));
    }

    util::Result<void> patch_node(std::string_view node, const json& merge_patch) override {
        auto patched =
            m_client.patch(kube::api_path("", "v1", "nodes", "", node), kube::PatchType::merge, merge_patch);
        if (!patched) {
            return std::unexpected(patched.error());
        }
        return {};
    }

    util::Result<std::vector<json>> pods_on_node(std::string_view node) override {
        kube::ListOptions options;
        options.field_selector = "spec.nodeName=" + std::string(node);
        return items(m_client, kube::api_path("", "v1", "pods"), options);
    }

    util::Result<std::vector<json>> cilium_pods(std::string_view node) override {
        kube::ListOptions options;
        options.field_selector = "spec.nodeName=" + std::string(node);
        options.label_selector = std::string(defaults::k_cilium_agent_selector);
        return items(m_client, kube::api_path("", "v1", "pods", defaults::k_cilium_namespace), options);
    }

    util::Result<void> evict(const std::string& namespace_name, const std::string& pod) override {
        const json eviction = {{"apiVersion", "policy/v1"},
                               {"kind", "Eviction"},
                               {"metadata", {{"name", pod}, {"namespace", namespace_name}}}};
        kube::Request request;
        request.method = "POST";
        request.path = kube::api_path("", "v1", "pods", namespace_name, pod, "eviction");
        request.headers = {{"Content-Type", "application/json"}};
        request.body = eviction.dump();
        auto response = m_client.send(request);
        if (!response) {
            return std::unexpected(response.error());
        }
        if (response->status >= 200 && response->status < 300) {
            return {};
        }
        util::Error error = kube::status_error("POST", request.path, response->status, response->body);
        // A disruption budget's refusal says which budget and why only in details.causes: keep it.
        const auto body = util::parse_json(response->body).value_or(json());
        if (body.is_object() && body.contains("details") && body["details"].is_object() &&
            body["details"].contains("causes") && body["details"]["causes"].is_array()) {
            for (const auto& cause : body["details"]["causes"]) {
                if (cause.is_object() && cause.contains("message") && cause["message"].is_string()) {
                    error.message += " (" + cause["message"].get<std::string>().substr(0, 256) + ")";
                }
            }
        }
        return std::unexpected(error);
    }

private:
    static std::string lease_path() {
        return kube::api_path("coordination.k8s.io", "v1", "leases", pd::k_rollout_namespace,
                              pd::k_rollout_lease);
    }

    kube::Client& m_client;
};

} // namespace

std::unique_ptr<RolloutApi> make_rollout_api(kube::Client& client) {
    return std::make_unique<KubeRolloutApi>(client);
}

} // namespace meshlink::agent::rollout
