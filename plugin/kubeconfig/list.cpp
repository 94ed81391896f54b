#include "plugin/kubeconfig/list.hpp"

#include "kube/redact.hpp"
#include "util/time.hpp"

#include <ctime>

namespace meshlink::plugin::kubeconfig {
namespace {

CertificateStatus certificate_status(const std::string& data, const std::string& path,
                                     std::chrono::system_clock::time_point now) {
    CertificateStatus status;
    auto pem = certificate_pem(data, path);
    if (!pem) {
        status.error = pem.error().message;
        return status;
    }
    auto expiry = certificate_expiry(**pem, now);
    if (!expiry) {
        status.error = expiry.error().message;
    } else {
        status.expiry = *expiry;
    }
    return status;
}

nlohmann::json certificate_json(const std::optional<CertificateStatus>& status) {
    if (!status) {
        return nullptr;
    }
    if (!status->expiry) {
        return {{"error", status->error}};
    }
    return {{"notAfter", util::format_rfc3339(status->expiry->not_after)},
            {"daysRemaining", status->expiry->remaining.count()},
            {"expired", status->expiry->expired},
            {"expiringSoon", status->expiry->expiring_soon}};
}

} // namespace

std::optional<ContextSummary> summarize_context(const kube::Kubeconfig& config, const std::string& name,
                                                std::chrono::system_clock::time_point now) {
    auto found = config.contexts.find(name);
    if (found == config.contexts.end()) {
        return std::nullopt;
    }
    const kube::Context& context = found->second.value;
    ContextSummary summary;
    summary.name = name;
    summary.current = name == config.current_context;
    summary.cluster = context.cluster;
    summary.user = context.user;
    summary.namespace_name = context.namespace_name;
    if (auto cluster = config.clusters.find(summary.cluster); cluster != config.clusters.end()) {
        const kube::Cluster& c = cluster->second.value;
        summary.server = kube::redact_url(c.server); // a listing never shows user:password@
        summary.server_class = classify_server(c.server);
        if (!c.certificate_authority_data.empty() || !c.certificate_authority.empty()) {
            summary.certificate_authority =
                certificate_status(c.certificate_authority_data, c.certificate_authority, now);
        }
    } else {
        summary.problem = "cluster \"" + summary.cluster + "\" is not defined";
    }
    if (auto user = config.users.find(summary.user); user != config.users.end()) {
        const kube::AuthInfo& u = user->second.value;
        summary.auth = classify_auth(u);
        if (summary.auth.kind == AuthKind::client_cert) {
            summary.client_certificate =
                certificate_status(u.client_certificate_data, u.client_certificate, now);
        }
    } else {
        summary.auth.label = "none";
        if (!summary.user.empty() && summary.problem.empty()) {
            summary.problem = "user \"" + summary.user + "\" is not defined";
        }
    }
    return summary;
}

std::vector<ContextSummary> list_contexts(const kube::Kubeconfig& config,
                                          std::chrono::system_clock::time_point now) {
    std::vector<ContextSummary> contexts;
    for (const auto& [name, context] : config.contexts) {
        contexts.push_back(*summarize_context(config, name, now));
    }
    return contexts;
}

nlohmann::json to_json(const std::vector<ContextSummary>& contexts) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : contexts) {
        nlohmann::json item = {{"name", c.name},
                               {"current", c.current},
                               {"cluster", c.cluster},
                               {"user", c.user},
                               {"namespace", c.namespace_name},
                               {"server", c.server},
                               {"serverClass", std::string(to_string(c.server_class))},
                               {"auth", c.auth.label},
                               {"portable", c.auth.portable},
                               {"clientCertificate", certificate_json(c.client_certificate)},
                               {"certificateAuthority", certificate_json(c.certificate_authority)}};
        if (!c.problem.empty()) {
            item["problem"] = c.problem;
        }
        if (c.check) {
            item["check"] = {{"reachable", c.check->reachable}, {"detail", c.check->detail}};
        }
        list.push_back(std::move(item));
    }
    return list;
}

} // namespace meshlink::plugin::kubeconfig
