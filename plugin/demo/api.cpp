#include "plugin/demo/api.hpp"

#include "kube/status.hpp"
#include "plugin/defaults.hpp"

namespace meshlink::plugin::demo {
namespace {

// get, create, merge patch and metadata lists are agent install's (apply_objects runs on both); lists,
// deletes with a propagation policy and logs are the demo's own.
class KubeDemoApi final : public DemoApi {
public:
    explicit KubeDemoApi(std::shared_ptr<kube::Client> client)
        : m_client(std::move(client)), m_base(agent::make_cluster_api(*m_client)) {}

    util::Result<std::optional<json>> get(const std::string& path) override { return m_base->get(path); }

    util::Result<json> create(const std::string& collection, const json& object) override {
        return m_base->create(collection, object);
    }

    util::Result<json> merge_patch(const std::string& path, const json& patch) override {
        return m_base->merge_patch(path, patch);
    }

    util::Result<bool> remove(const std::string& path) override { return remove_propagating(path, {}); }

    util::Result<bool> remove_propagating(const std::string& path, std::string_view propagation) override {
        kube::DeleteOptions options;
        options.propagation_policy = std::string(propagation);
        auto removed = m_client->remove(path, options);
        if (!removed) {
            if (removed.error().kind == util::ErrorKind::not_found) {
                return false;
            }
            return std::unexpected(removed.error());
        }
        return true;
    }

    util::Result<void> list_each(const std::string& path,
                                 const std::function<void(const json& item)>& visit) override {
        return m_base->list_each(path, visit);
    }

    util::Result<void> list_metadata(const std::string& path, const std::string& label_selector,
                                     const std::function<void(const json& item)>& visit) override {
        return m_base->list_metadata(path, label_selector, visit);
    }

    util::Result<std::vector<json>> list(const std::string& path, const std::string& label_selector,
                                         const std::string& field_selector) override {
        kube::ListOptions options;
        options.label_selector = label_selector;
        options.field_selector = field_selector;
        auto list = m_client->list(path, options);
        if (!list) {
            return std::unexpected(list.error());
        }
        std::vector<json> items;
        if (list->contains("items") && (*list)["items"].is_array()) {
            for (auto& item : (*list)["items"]) {
                items.push_back(std::move(item));
            }
        }
        return items;
    }

    util::Result<std::string> pod_log(const std::string& ns, const std::string& pod,
                                      const std::string& container, std::size_t limit_bytes) override {
        kube::Request request;
        request.path = kube::api_path("", "v1", "pods", ns, pod, "log");
        request.query = {{"container", container}, {"limitBytes", std::to_string(limit_bytes)}};
        request.headers = {{"Accept", "text/plain, */*"}};
        auto response = m_client->send(request);
        if (!response) {
            return std::unexpected(response.error());
        }
        if (response->status < 200 || response->status > 299) {
            return std::unexpected(kube::status_error("GET", request.path, response->status, response->body));
        }
        if (response->body.size() > limit_bytes) {
            response->body.resize(limit_bytes);
        }
        return std::move(response->body);
    }

private:
    std::shared_ptr<kube::Client> m_client;
    std::unique_ptr<agent::ClusterApi> m_base; // works through *m_client
};

} // namespace

std::unique_ptr<DemoApi> make_demo_api(std::shared_ptr<kube::Client> client) {
    return std::make_unique<KubeDemoApi>(std::move(client));
}

std::string namespace_path(std::string_view name) {
    return kube::api_path("", "v1", "namespaces", {}, name);
}

std::string core_path(std::string_view plural, std::string_view ns, std::string_view name) {
    return kube::api_path("", "v1", plural, ns, name);
}

std::string apps_path(std::string_view plural, std::string_view ns, std::string_view name) {
    return kube::api_path("apps", "v1", plural, ns, name);
}

std::string jobs_path(std::string_view ns, std::string_view name) {
    return kube::api_path("batch", "v1", "jobs", ns, name);
}

} // namespace meshlink::plugin::demo
