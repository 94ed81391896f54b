#include "plugin/kubeconfig/export.hpp"

#include "kube/redact.hpp"
#include "plugin/kubeconfig/classify.hpp"
#include "plugin/kubeconfig/entries.hpp"
#include "yaml/yaml.hpp"

namespace meshlink::plugin::kubeconfig {
namespace {

std::string in_quotes(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

template <typename T>
std::string names_of(const std::map<std::string, kube::Named<T>>& entries) {
    std::string names;
    for (const auto& [name, entry] : entries) {
        names += (names.empty() ? "" : ", ") + name;
    }
    return names.empty() ? "none" : names;
}

template <typename T>
util::Result<YAML::Node> prepare(const kube::Named<T>& entry, EntryKind kind, bool flatten_files) {
    const YAML::Node absolute = absolutize(entry.raw, kind, entry.origin.parent_path());
    const YAML::Node inner = absolute.IsMap() ? absolute : YAML::Node(YAML::NodeType::Map);
    if (!flatten_files) {
        return inner;
    }
    return flatten(inner, kind,
                   entry.origin.string() + ":" + std::to_string(entry.line) + ": " + std::string(noun(kind)) +
                       " " + in_quotes(entry.name));
}

} // namespace

util::Result<ExportResult> export_context(const kube::Kubeconfig& config, const std::string& context,
                                          bool flatten) {
    auto found = config.contexts.find(context);
    if (found == config.contexts.end()) {
        return util::fail(util::ErrorKind::not_found,
                          "context " + in_quotes(context) +
                              " not found in kubeconfig (contexts: " + names_of(config.contexts) + ")");
    }
    const kube::Named<kube::Context>& ctx = found->second;
    ExportResult result;
    YAML::Node document = empty_kubeconfig();

    auto cluster = config.clusters.find(ctx.value.cluster);
    if (cluster == config.clusters.end()) {
        return util::fail(util::ErrorKind::not_found, "context " + in_quotes(context) + " uses cluster " +
                                                          in_quotes(ctx.value.cluster) +
                                                          ", which no kubeconfig file defines");
    }
    auto cluster_inner = prepare(cluster->second, EntryKind::cluster, flatten);
    if (!cluster_inner) {
        return std::unexpected(cluster_inner.error());
    }
    document["clusters"].push_back(
        make_entry_item(EntryKind::cluster, cluster->first, *cluster_inner, document));
    const kube::Cluster& c = cluster->second.value;
    const ServerClass server_class = classify_server(c.server);
    if (reachable_only_locally(server_class)) {
        result.warnings.push_back("cluster " + in_quotes(cluster->first) + ": server " +
                                  kube::redact_url(c.server) + " is " + std::string(to_string(server_class)) +
                                  ": it cannot be reached from another machine or cluster as written");
    }
    bool references_files = !c.certificate_authority.empty() && c.certificate_authority_data.empty();

    if (!ctx.value.user.empty()) {
        auto user = config.users.find(ctx.value.user);
        if (user == config.users.end()) {
            return util::fail(util::ErrorKind::not_found, "context " + in_quotes(context) + " uses user " +
                                                              in_quotes(ctx.value.user) +
                                                              ", which no kubeconfig file defines");
        }
        auto user_inner = prepare(user->second, EntryKind::user, flatten);
        if (!user_inner) {
            return std::unexpected(user_inner.error());
        }
        document["users"].push_back(make_entry_item(EntryKind::user, user->first, *user_inner, document));
        const AuthSummary auth = classify_auth(user->second.value);
        if (!auth.portable) {
            result.warnings.push_back("user " + in_quotes(user->first) + ": " + auth.why_not +
                                      "; the exported kubeconfig works only where that is available");
        }
        const kube::AuthInfo& u = user->second.value;
        references_files = references_files ||
                           (!u.client_certificate.empty() && u.client_certificate_data.empty()) ||
                           (!u.client_key.empty() && u.client_key_data.empty());
    }
    if (references_files && !flatten) {
        result.warnings.push_back(
            "certificates and keys are referenced by paths on this machine; use --flatten to "
            "include them");
    }
    YAML::Node context_inner = ctx.raw.IsMap() ? YAML::Clone(ctx.raw) : YAML::Node(YAML::NodeType::Map);
    document["contexts"].push_back(make_entry_item(EntryKind::context, context, context_inner, document));
    document["current-context"] = yaml::make_string_node(context);

    auto text = render_kubeconfig(document, "exported kubeconfig");
    if (!text) {
        return std::unexpected(text.error());
    }
    result.yaml = std::move(*text);
    return result;
}

} // namespace meshlink::plugin::kubeconfig
