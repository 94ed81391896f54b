#include "plugin/preflight/kube_api.hpp"

#include "util/base64.hpp"

#include <fmt/format.h>

namespace meshlink::plugin::preflight {
namespace {

// A GET whose 404 means "absent", not a failure.
util::Result<std::optional<nlohmann::json>> optional_object(util::Result<nlohmann::json> result) {
    if (result) {
        return std::optional<nlohmann::json>(std::move(*result));
    }
    if (result.error().kind == util::ErrorKind::not_found) {
        return std::optional<nlohmann::json>();
    }
    return std::unexpected(result.error());
}

class KubeApi final : public PreflightApi {
public:
    explicit KubeApi(std::shared_ptr<kube::Client> client) : m_client(std::move(client)) {}

    util::Result<kube::ServerVersion> server_version() override { return m_client->server_version(); }

    util::Result<std::optional<nlohmann::json>> config_map(std::string_view ns,
                                                           std::string_view name) override {
        return optional_object(m_client->get(kube::api_path("", "v1", "configmaps", ns, name)));
    }

    util::Result<std::optional<nlohmann::json>> daemon_set(std::string_view ns,
                                                           std::string_view name) override {
        return optional_object(m_client->get(kube::api_path("apps", "v1", "daemonsets", ns, name)));
    }

    util::Result<std::optional<nlohmann::json>> service(std::string_view ns, std::string_view name) override {
        return optional_object(m_client->get(kube::api_path("", "v1", "services", ns, name)));
    }

    util::Result<std::optional<std::string>> secret_value(std::string_view ns, std::string_view name,
                                                          std::string_view key) override {
        const std::string path = kube::api_path("", "v1", "secrets", ns, name);
        auto secret = optional_object(m_client->get(path));
        if (!secret) {
            return std::unexpected(secret.error());
        }
        if (!*secret) {
            return std::optional<std::string>();
        }
        const auto& data = (**secret)["data"];
        if (!data.is_object() || !data.contains(key) || !data[std::string(key)].is_string()) {
            return std::optional<std::string>();
        }
        auto decoded = util::base64_decode(data[std::string(key)].get<std::string>());
        if (!decoded) {
            return util::fail(util::ErrorKind::parse,
                              fmt::format("GET {}: data.{}: {}", path, key, decoded.error().message));
        }
        return std::optional<std::string>(std::move(*decoded));
    }

    util::Result<std::vector<nlohmann::json>> pods(std::string_view ns,
                                                   std::string_view label_selector) override {
        kube::ListOptions options;
        options.label_selector = std::string(label_selector);
        auto list = m_client->list(kube::api_path("", "v1", "pods", ns), options);
        if (!list) {
            return std::unexpected(list.error());
        }
        std::vector<nlohmann::json> out;
        for (auto& item : (*list)["items"]) {
            out.push_back(std::move(item));
        }
        return out;
    }

    util::Result<std::optional<std::vector<nlohmann::json>>> service_cidrs() override {
        auto list = m_client->list(kube::api_path("networking.k8s.io", "v1", "servicecidrs"));
        if (!list) {
            if (list.error().kind == util::ErrorKind::not_found) {
                return std::optional<std::vector<nlohmann::json>>();
            }
            return std::unexpected(list.error());
        }
        std::vector<nlohmann::json> out;
        for (auto& item : (*list)["items"]) {
            out.push_back(std::move(item));
        }
        return std::optional<std::vector<nlohmann::json>>(std::move(out));
    }

    util::Result<void> each_node(bool metadata_only,
                                 const std::function<void(const nlohmann::json& node)>& visit) override {
        kube::ListOptions options;
        options.page_size = defaults::k_list_page_size;
        options.metadata_only = metadata_only;
        return m_client->list_each(kube::api_path("", "v1", "nodes"), options,
                                   [&](const nlohmann::json& node) {
                                       visit(node);
                                       return kube::Visit::next;
                                   });
    }

    util::Result<void> each_lease(const std::function<void(const nlohmann::json& lease)>& visit) override {
        kube::ListOptions options;
        options.page_size = defaults::k_list_page_size;
        return m_client->list_each(
            kube::api_path("coordination.k8s.io", "v1", "leases", probe::defaults::k_agent_namespace),
            options, [&](const nlohmann::json& lease) {
                visit(lease);
                return kube::Visit::next;
            });
    }

    util::Result<AccessDecision> review_access(const defaults::AccessRule& rule) override {
        nlohmann::json attributes = {{"verb", rule.verb}, {"group", rule.group}, {"resource", rule.resource}};
        if (!rule.subresource.empty()) {
            attributes["subresource"] = rule.subresource;
        }
        if (!rule.namespace_name.empty()) {
            attributes["namespace"] = rule.namespace_name;
        }
        const nlohmann::json review = {{"apiVersion", "authorization.k8s.io/v1"},
                                       {"kind", "SelfSubjectAccessReview"},
                                       {"spec", {{"resourceAttributes", attributes}}}};
        kube::WriteOptions options;
        options.retry_unsafe = true; // a review changes nothing: asking twice is harmless
        auto answer = m_client->create(
            kube::api_path("authorization.k8s.io", "v1", "selfsubjectaccessreviews"), review, options);
        if (!answer) {
            return std::unexpected(answer.error());
        }
        AccessDecision decision;
        const auto& status = (*answer)["status"];
        if (status.is_object()) {
            decision.allowed = status.value("allowed", false);
            decision.reason = status.value("reason", std::string());
            if (decision.reason.empty()) {
                decision.reason = status.value("evaluationError", std::string());
            }
        }
        return decision;
    }

private:
    std::shared_ptr<kube::Client> m_client;
};

} // namespace

std::unique_ptr<PreflightApi> make_kube_api(std::shared_ptr<kube::Client> client) {
    return std::make_unique<KubeApi>(std::move(client));
}

} // namespace meshlink::plugin::preflight
