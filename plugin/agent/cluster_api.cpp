#include "plugin/agent/cluster_api.hpp"

#include "plugin/defaults.hpp"

namespace meshlink::plugin::agent {
namespace {

using nlohmann::json;

class KubeClusterApi final : public ClusterApi {
public:
    explicit KubeClusterApi(kube::Client& client) : m_client(client) {}

    util::Result<std::optional<json>> get(const std::string& path) override {
        auto object = m_client.get(path);
        if (!object) {
            if (object.error().kind == util::ErrorKind::not_found) {
                return std::optional<json>();
            }
            return std::unexpected(object.error());
        }
        return std::optional<json>(std::move(*object));
    }

    util::Result<json> create(const std::string& collection, const json& object) override {
        return m_client.create(collection, object, write_options());
    }

    util::Result<json> merge_patch(const std::string& path, const json& patch) override {
        return m_client.patch(path, kube::PatchType::merge, patch, write_options());
    }

    util::Result<bool> remove(const std::string& path) override {
        auto removed = m_client.remove(path);
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
        kube::ListOptions options;
        options.page_size = defaults::k_list_page_size;
        return m_client.list_each(path, options, [&](const json& item) {
            visit(item);
            return kube::Visit::next;
        });
    }

    util::Result<void> list_metadata(const std::string& path, const std::string& label_selector,
                                     const std::function<void(const json& item)>& visit) override {
        kube::ListOptions options;
        options.metadata_only = true;
        options.page_size = defaults::k_list_page_size;
        options.label_selector = label_selector;
        return m_client.list_each(path, options, [&](const json& item) {
            visit(item);
            return kube::Visit::next;
        });
    }

private:
    static kube::WriteOptions write_options() {
        kube::WriteOptions options;
        options.field_manager = std::string(defaults::k_field_manager);
        return options;
    }

    kube::Client& m_client;
};

} // namespace

std::unique_ptr<ClusterApi> make_cluster_api(kube::Client& client) {
    return std::make_unique<KubeClusterApi>(client);
}

} // namespace meshlink::plugin::agent
