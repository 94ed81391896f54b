#include "plugin/kubeconfig/check.hpp"

#include "kube/client.hpp"
#include "plugin/defaults.hpp"
#include "util/json_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

namespace meshlink::plugin::kubeconfig {
namespace {

class RestProbe : public ServerProbe {
public:
    ServerCheck probe(const kube::RestConfig& config, std::chrono::milliseconds timeout) override {
        kube::ClientOptions options;
        options.retry.max_attempts = 1;
        options.retry.max_connect_attempts = 1;
        auto client = kube::Client::from_config(config, options);
        if (!client) {
            return {false, client.error().message};
        }
        kube::Request request;
        request.path = "/version";
        request.timeout = timeout;
        auto response = client->send(request);
        if (!response) {
            return {false, response.error().message};
        }
        if (response->status == 200) {
            auto body = util::parse_json(response->body).value_or(nlohmann::json());
            if (body.is_object() && body.contains("gitVersion") && body["gitVersion"].is_string()) {
                return {true, body["gitVersion"].get<std::string>()};
            }
        }
        return {true, "HTTP " + std::to_string(response->status)};
    }
};

// The connection settings without any credential.
kube::RestConfig anonymous(kube::RestConfig config) {
    config.client_certificate_pem.clear();
    config.client_key_pem.clear();
    config.bearer_token.clear();
    config.bearer_token_file.clear();
    config.username.clear();
    config.password.clear();
    config.impersonate_user.clear();
    config.impersonate_groups.clear();
    config.exec.reset();
    config.exec_cluster_config = nullptr;
    return config;
}

} // namespace

std::unique_ptr<ServerProbe> make_rest_probe() {
    return std::make_unique<RestProbe>();
}

void check_servers(const kube::Kubeconfig& config, std::vector<ContextSummary>& contexts,
                   std::chrono::milliseconds timeout, ServerProbe& probe) {
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (std::size_t i = next++; i < contexts.size(); i = next++) {
            kube::ConfigOverrides overrides;
            overrides.context = contexts[i].name;
            auto rest = kube::resolve_rest_config(config, overrides);
            if (!rest) {
                contexts[i].check = ServerCheck{false, rest.error().message};
                continue;
            }
            contexts[i].check = probe.probe(anonymous(std::move(*rest)), timeout);
        }
    };
    std::vector<std::jthread> workers;
    const std::size_t count = std::min(contexts.size(), defaults::k_kubeconfig_parallel_checks);
    workers.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        workers.emplace_back(worker);
    }
}

void check_servers(const kube::Kubeconfig& config, std::vector<ContextSummary>& contexts,
                   std::chrono::milliseconds timeout) {
    auto probe = make_rest_probe();
    check_servers(config, contexts, timeout, *probe);
}

} // namespace meshlink::plugin::kubeconfig
