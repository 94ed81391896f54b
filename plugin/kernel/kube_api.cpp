#include "plugin/defaults.hpp"
#include "plugin/kernel/api.hpp"

namespace meshlink::plugin::kernel {
namespace {

using nlohmann::json;

class KubeKernelApi final : public KernelApi {
public:
    explicit KubeKernelApi(kube::Client& client)
        : m_client(client), m_objects(agent::make_cluster_api(client)) {}

    agent::ClusterApi& objects() override { return *m_objects; }

    util::Result<std::vector<json>> list(const std::string& path,
                                         const std::string& label_selector) override {
        kube::ListOptions options;
        options.label_selector = label_selector;
        options.page_size = defaults::k_list_page_size;
        std::vector<json> items;
        auto listed = m_client.list_each(path, options, [&](const json& item) {
            items.push_back(item);
            return kube::Visit::next;
        });
        if (!listed) {
            return std::unexpected(listed.error());
        }
        return items;
    }

    util::Result<json> update(const std::string& path, const json& object) override {
        kube::WriteOptions options;
        options.field_manager = std::string(defaults::k_field_manager);
        return m_client.update(path, object, options);
    }

private:
    kube::Client& m_client;
    std::unique_ptr<agent::ClusterApi> m_objects;
};

} // namespace

std::unique_ptr<KernelApi> make_kernel_api(kube::Client& client) {
    return std::make_unique<KubeKernelApi>(client);
}

} // namespace meshlink::plugin::kernel
