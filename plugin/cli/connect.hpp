#pragma once
// The one road from the global flags (global_flags.hpp, parsed once into typed values) to Kubernetes
// clients. Every verb gets its clients here: the kubeconfig is read with client-go's loading rules, the
// overrides --context/--cluster/--user/-n/--request-timeout are applied here and nowhere else, every client
// carries the same User-Agent, and a cluster gets one client for the whole invocation, so an exec credential
// plugin or a TLS handshake runs once per cluster however many capabilities read it.

#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "kube/rest_config.hpp"
#include "plugin/cli/global_flags.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace meshlink::plugin::cli {

// --kubeconfig, $KUBECONFIG and ~/.kube/config, as kubectl reads them.
kube::LoadingRules loading_rules(const GlobalFlags& flags);

// The client of the one cluster a verb talks to (version --server, agent): --context (else current-context)
// with every override, or the pod's service account when no kubeconfig defines anything (client-go's
// deferred loading). Throws util::Fatal "unable to create Kubernetes client: <cause>", or util::UsageError
// when no context is chosen (Contexts::first_context's words).
kube::Client connect(const GlobalFlags& flags);

// A kubeconfig read once for a verb that works on several contexts (preflight, join, status, leave), and
// the one client of each context it connects to.
class Contexts {
public:
    // The user's kubeconfig by the flags' loading rules. Throws util::Fatal "unable to read the kubeconfig:
    // <cause>".
    static Contexts load(const GlobalFlags& flags);
    // Another kubeconfig file (join's and leave's --peer-kubeconfig). Of the global overrides only
    // --request-timeout applies to its contexts. Throws util::Fatal when it cannot be read.
    static Contexts load_file(const GlobalFlags& flags, const std::filesystem::path& file);

    [[nodiscard]] const kube::Kubeconfig& kubeconfig() const { return m_kubeconfig; }
    [[nodiscard]] const kube::LoadingRules& rules() const { return m_rules; }
    // The file given explicitly (--kubeconfig, or load_file's), which the tools meshlink runs (kubectl,
    // cilium, helm) must be pointed at to read the same; nullopt when the loading rules decide ($KUBECONFIG,
    // ~/.kube/config), as they do for those tools.
    [[nodiscard]] std::optional<std::string> explicit_file() const;
    [[nodiscard]] bool has_context(const std::string& context) const;

    // The context the verb is about: --context, else the current-context (load_file: the file's
    // current-context). Throws util::UsageError when there is none; `alternative` is offered as well
    // (e.g. " (or --local to check only this machine)").
    [[nodiscard]] std::string first_context(std::string_view alternative = {}) const;

    // The client of `context`, built on first use and shared after that. --cluster, --user and -n change
    // the first context only, as kubectl applies them to the one context it uses; --request-timeout applies
    // to every context. A context that cannot be resolved fails with kube's message (it names the context and
    // what is missing); a client that cannot be built with "unable to create Kubernetes client for context
    // "x": <cause>".
    util::Result<std::shared_ptr<kube::Client>> client(const std::string& context);

private:
    Contexts(const GlobalFlags& flags, kube::LoadingRules rules, kube::Kubeconfig kubeconfig, bool users);
    [[nodiscard]] std::optional<std::string> chosen_context() const;

    GlobalFlags m_flags;
    kube::LoadingRules m_rules;
    kube::Kubeconfig m_kubeconfig;
    bool m_users = true; // the user's kubeconfig (the global overrides apply), not a --peer-kubeconfig file
    std::map<std::string, std::shared_ptr<kube::Client>> m_clients;
};

} // namespace meshlink::plugin::cli
