#include "plugin/cli/connect.hpp"

#include "build_info.hpp"
#include "plugin/defaults.hpp"

#include <fmt/core.h>

namespace meshlink::plugin::cli {
namespace {

// --context --cluster --user -n --request-timeout for the context the flags are about; only the timeout for
// the others.
kube::ConfigOverrides overrides_for(const GlobalFlags& flags, bool first) {
    kube::ConfigOverrides overrides;
    overrides.request_timeout = flags.request_timeout;
    if (first) {
        overrides.context = flags.context;
        overrides.cluster = flags.cluster;
        overrides.user = flags.user;
        overrides.namespace_name = flags.namespace_name;
    }
    return overrides;
}

util::Result<kube::Client> make_client(kube::RestConfig config) {
    config.user_agent = fmt::format("{}{}/{} (linux)", defaults::k_binary_prefix, defaults::k_plugin_name,
                                    build_info::k_version);
    return kube::Client::from_config(std::move(config));
}

bool given(const std::optional<std::string>& flag) {
    return flag && !flag->empty();
}

// What a verb says when neither the flags nor the kubeconfig choose a context.
[[noreturn]] void no_current_context(std::string_view alternative) {
    throw util::UsageError(
        fmt::format("no current context is set in the kubeconfig; pass --context NAME{} or "
                    "run 'kubectl config use-context NAME'",
                    alternative));
}

} // namespace

kube::LoadingRules loading_rules(const GlobalFlags& flags) {
    return kube::LoadingRules::from_environment(flags.kubeconfig);
}

kube::Client connect(const GlobalFlags& flags) {
    const std::string prefix = "unable to create Kubernetes client";
    const auto rules = loading_rules(flags);
    auto kubeconfig = kube::load_kubeconfig(rules);
    if (!kubeconfig) {
        throw util::Fatal(kubeconfig.error().with_context(prefix));
    }
    const kube::Kubeconfig& config = *kubeconfig;
    const bool defines_nothing =
        config.contexts.empty() && config.clusters.empty() && config.current_context.empty();
    // A kubeconfig that defines nothing falls back to the in-cluster configuration (rest_config_for); one
    // that defines contexts but chooses none is the user's to fix, in the same words for every verb.
    if (!defines_nothing && !given(flags.context) && !given(flags.cluster) &&
        config.current_context.empty()) {
        no_current_context({});
    }
    auto rest = kube::rest_config_for(config, rules, overrides_for(flags, true));
    if (!rest) {
        throw util::Fatal(rest.error().with_context(prefix));
    }
    auto client = make_client(std::move(*rest));
    if (!client) {
        throw util::Fatal(client.error().with_context(prefix));
    }
    return std::move(*client);
}

Contexts::Contexts(const GlobalFlags& flags, kube::LoadingRules rules, kube::Kubeconfig kubeconfig,
                   bool users)
    : m_flags(flags), m_rules(std::move(rules)), m_kubeconfig(std::move(kubeconfig)), m_users(users) {}

Contexts Contexts::load(const GlobalFlags& flags) {
    auto rules = loading_rules(flags);
    auto kubeconfig = kube::load_kubeconfig(rules);
    if (!kubeconfig) {
        throw util::Fatal(kubeconfig.error().with_context("unable to read the kubeconfig"));
    }
    return Contexts(flags, std::move(rules), std::move(*kubeconfig), true);
}

Contexts Contexts::load_file(const GlobalFlags& flags, const std::filesystem::path& file) {
    kube::LoadingRules rules;
    rules.explicit_path = file;
    auto kubeconfig = kube::load_kubeconfig(rules);
    if (!kubeconfig) {
        throw util::Fatal(kubeconfig.error().with_context("unable to read the kubeconfig " + file.string()));
    }
    return Contexts(flags, std::move(rules), std::move(*kubeconfig), false);
}

std::optional<std::string> Contexts::explicit_file() const {
    if (!m_rules.explicit_path) {
        return std::nullopt;
    }
    return m_rules.explicit_path->string();
}

bool Contexts::has_context(const std::string& context) const {
    return m_kubeconfig.contexts.contains(context);
}

std::optional<std::string> Contexts::chosen_context() const {
    if (m_users && given(m_flags.context)) {
        return *m_flags.context;
    }
    if (!m_kubeconfig.current_context.empty()) {
        return m_kubeconfig.current_context;
    }
    return std::nullopt;
}

std::string Contexts::first_context(std::string_view alternative) const {
    if (auto chosen = chosen_context()) {
        return *chosen;
    }
    if (!m_users) {
        throw util::UsageError(fmt::format("{} sets no current-context to take the cluster from{}",
                                           m_rules.explicit_path->string(), alternative));
    }
    no_current_context(alternative);
}

util::Result<std::shared_ptr<kube::Client>> Contexts::client(const std::string& context) {
    if (auto it = m_clients.find(context); it != m_clients.end()) {
        return it->second;
    }
    const bool first = m_users && context == chosen_context();
    kube::ConfigOverrides overrides = overrides_for(m_flags, first);
    overrides.context = context;
    auto rest = kube::resolve_rest_config(m_kubeconfig, overrides);
    if (!rest) {
        return std::unexpected(rest.error());
    }
    auto client = make_client(std::move(*rest));
    if (!client) {
        return std::unexpected(client.error().with_context(
            fmt::format("unable to create Kubernetes client for context \"{}\"", context)));
    }
    auto shared = std::make_shared<kube::Client>(std::move(*client));
    m_clients.emplace(context, shared);
    return shared;
}

} // namespace meshlink::plugin::cli
