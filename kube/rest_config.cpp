#include "kube/rest_config.hpp"

#include "kube/redact.hpp"
#include "util/duration.hpp"
#include "util/file.hpp"
#include "yaml/yaml.hpp"

#include <fmt/core.h>

#include <cstdlib>

namespace meshlink::kube {
namespace {

// The cluster extension whose `extension` value exec plugins receive as spec.cluster.config.
constexpr std::string_view k_exec_extension_name = "client.authentication.k8s.io/exec";

template <typename Map>
std::string names_of(const Map& map, std::string_view what) {
    if (map.empty()) {
        return fmt::format("no {} defined", what);
    }
    std::string list;
    for (const auto& [name, entry] : map) {
        list += list.empty() ? "" : ", ";
        list += name;
    }
    return fmt::format("{}: {}", what, list);
}

util::Result<std::string> read_whole_file(const std::filesystem::path& path, std::string_view what) {
    auto content = util::read_file(path);
    if (!content) {
        return util::fail(util::ErrorKind::io, fmt::format("cannot read {} {}: {}", what, path.string(),
                                                           content.error().reason()));
    }
    return std::move(*content);
}

std::string trim(std::string text) {
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    text.erase(text.begin(), std::find_if(text.begin(), text.end(), not_space));
    text.erase(std::find_if(text.rbegin(), text.rend(), not_space).base(), text.end());
    return text;
}

nlohmann::json exec_extension_config(const YAML::Node& extensions) {
    if (!extensions || !extensions.IsSequence()) {
        return nullptr;
    }
    for (const auto& entry : extensions) {
        if (entry.IsMap() && entry["name"] && entry["name"].IsScalar() &&
            entry["name"].Scalar() == k_exec_extension_name) {
            // kubectl reads the kubeconfig into JSON (sigs.k8s.io/yaml) before an exec plugin sees an
            // extension: plain scalars take their YAML 1.1 types, quoted ones stay strings.
            return yaml::to_json(entry["extension"]);
        }
    }
    return nullptr;
}

// client-go accepts "host:port" without a scheme and means https.
util::Result<std::string> normalize_server(std::string server, std::string_view cluster_name) {
    server = trim(std::move(server));
    if (server.empty()) {
        return util::fail(util::ErrorKind::generic,
                          fmt::format("cluster \"{}\" has no server; set clusters[].cluster.server in "
                                      "the kubeconfig",
                                      cluster_name));
    }
    if (server.find("://") == std::string::npos) {
        server = "https://" + server;
    }
    if (!server.starts_with("https://") && !server.starts_with("http://")) {
        return util::fail(util::ErrorKind::generic,
                          fmt::format("cluster \"{}\": server \"{}\" is not an http(s) URL", cluster_name,
                                      redact_url(server)));
    }
    auto authority_start = server.find("://") + 3;
    if (authority_start >= server.size() || server[authority_start] == '/') {
        return util::fail(util::ErrorKind::generic, fmt::format("cluster \"{}\": server \"{}\" has no host",
                                                                cluster_name, redact_url(server)));
    }
    while (server.size() > authority_start && server.back() == '/') {
        server.pop_back();
    }
    return server;
}

void apply_timeout(RestConfig& config, const ConfigOverrides& overrides) {
    if (overrides.request_timeout) {
        config.timeout = *overrides.request_timeout;
    }
}

util::Result<void> apply_cluster(RestConfig& config, const Named<Cluster>& named) {
    const Cluster& cluster = named.value;
    auto server = normalize_server(cluster.server, named.name);
    if (!server) {
        return std::unexpected(server.error());
    }
    config.server = std::move(*server);
    // client-go's validation (tools/clientcmd validation.go) refuses this pair for the context in use:
    // a CA that is then ignored is a mistake the user must see, not a silent downgrade to no verification.
    if (cluster.insecure_skip_tls_verify &&
        (!cluster.certificate_authority.empty() || !cluster.certificate_authority_data.empty())) {
        return util::fail(
            util::ErrorKind::invalid,
            fmt::format(
                "{}cluster \"{}\"{}: insecure-skip-tls-verify is true and {} is set: specifying a "
                "root certificates file with the insecure flag is not allowed (kubectl refuses it "
                "too); remove one of them",
                config.context_name.empty() ? "" : fmt::format("context \"{}\": ", config.context_name),
                named.name,
                named.origin.empty() ? "" : fmt::format(" ({}:{})", named.origin.string(), named.line),
                cluster.certificate_authority_data.empty() ? "certificate-authority"
                                                           : "certificate-authority-data"));
    }
    config.tls_server_name = cluster.tls_server_name;
    config.insecure_skip_tls_verify = cluster.insecure_skip_tls_verify;
    config.proxy_url = cluster.proxy_url;
    config.disable_compression = cluster.disable_compression;
    // As in client-go, inline data wins over a file when both are given.
    if (!cluster.certificate_authority_data.empty()) {
        config.ca_pem = cluster.certificate_authority_data;
        config.ca_origin = "certificate-authority-data";
    } else if (!cluster.certificate_authority.empty()) {
        auto pem = read_whole_file(cluster.certificate_authority, "certificate-authority");
        if (!pem) {
            return std::unexpected(pem.error().with_context(fmt::format("cluster \"{}\"", named.name)));
        }
        config.ca_pem = std::move(*pem);
        config.ca_origin = cluster.certificate_authority;
    }
    config.exec_cluster_config = exec_extension_config(cluster.extensions);
    return {};
}

util::Result<void> apply_user(RestConfig& config, const Named<AuthInfo>& named) {
    const AuthInfo& user = named.value;
    const std::string where = fmt::format("user \"{}\"", named.name);

    if (!user.client_certificate_data.empty()) {
        config.client_certificate_pem = user.client_certificate_data;
    } else if (!user.client_certificate.empty()) {
        auto pem = read_whole_file(user.client_certificate, "client-certificate");
        if (!pem) {
            return std::unexpected(pem.error().with_context(where));
        }
        config.client_certificate_pem = std::move(*pem);
    }
    if (!user.client_key_data.empty()) {
        config.client_key_pem = user.client_key_data;
    } else if (!user.client_key.empty()) {
        auto pem = read_whole_file(user.client_key, "client-key");
        if (!pem) {
            return std::unexpected(pem.error().with_context(where));
        }
        config.client_key_pem = std::move(*pem);
    }
    if (config.client_certificate_pem.empty() != config.client_key_pem.empty()) {
        return util::fail(
            util::ErrorKind::generic,
            fmt::format("{}: client-certificate and client-key must be given together (only the {} is set)",
                        where, config.client_certificate_pem.empty() ? "key" : "certificate"));
    }

    const bool has_token = !user.token.empty() || !user.token_file.empty();
    const bool has_basic = !user.username.empty() || !user.password.empty();
    if (has_token && has_basic) {
        return util::fail(
            util::ErrorKind::generic,
            fmt::format("{}: more than one authentication method found (token and basic auth); only one is "
                        "allowed",
                        where));
    }
    config.bearer_token = user.token;
    if (!user.token_file.empty()) {
        config.bearer_token_file = user.token_file;
        // Like client-go, an unreadable token file only fails when there is no inline token to fall back on.
        if (user.token.empty()) {
            auto token = read_whole_file(user.token_file, "tokenFile");
            if (!token) {
                return std::unexpected(token.error().with_context(where));
            }
        }
    }
    config.username = user.username;
    config.password = user.password;
    config.impersonate_user = user.impersonate;
    config.impersonate_groups = user.impersonate_groups;

    if (user.exec && !user.auth_provider.empty()) {
        return util::fail(util::ErrorKind::generic,
                          fmt::format("{}: exec and auth-provider are mutually exclusive", where));
    }
    if (!user.auth_provider.empty()) {
        return util::fail(
            util::ErrorKind::generic,
            fmt::format("{}: the legacy auth-provider \"{}\" is not supported (client-go removed it too); "
                        "use an exec credential plugin such as kubelogin or gke-gcloud-auth-plugin",
                        where, user.auth_provider));
    }
    // client-go ignores exec when the user already has a token, basic auth or a client certificate.
    if (user.exec && !has_token && !has_basic && config.client_certificate_pem.empty()) {
        config.exec = user.exec;
    }
    return {};
}

std::optional<std::string> env(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr) {
        return std::nullopt;
    }
    return std::string(value);
}

std::string join_host_port(const std::string& host, const std::string& port) {
    if (host.find(':') != std::string::npos && !host.starts_with('[')) {
        return fmt::format("[{}]:{}", host, port); // IPv6 literal
    }
    return fmt::format("{}:{}", host, port);
}

} // namespace

std::string RestConfig::describe() const {
    if (in_cluster) {
        return "in-cluster configuration";
    }
    if (!context_name.empty()) {
        return fmt::format("context \"{}\"", context_name);
    }
    return fmt::format("cluster \"{}\"", cluster_name);
}

util::Result<RestConfig> resolve_rest_config(const Kubeconfig& kubeconfig, const ConfigOverrides& overrides) {
    RestConfig config;
    std::string cluster_name;
    std::string user_name;
    std::string context_namespace;

    const bool context_from_flag = overrides.context && !overrides.context->empty();
    const std::string context_name = context_from_flag ? *overrides.context : kubeconfig.current_context;
    if (!context_name.empty()) {
        auto it = kubeconfig.contexts.find(context_name);
        if (it == kubeconfig.contexts.end()) {
            return util::fail(util::ErrorKind::not_found,
                              fmt::format("context \"{}\"{} not found in kubeconfig ({})", context_name,
                                          context_from_flag ? "" : " (the current-context)",
                                          names_of(kubeconfig.contexts, "contexts")));
        }
        config.context_name = context_name;
        cluster_name = it->second.value.cluster;
        user_name = it->second.value.user;
        context_namespace = it->second.value.namespace_name;
    }
    if (overrides.cluster && !overrides.cluster->empty()) {
        cluster_name = *overrides.cluster;
    }
    if (overrides.user && !overrides.user->empty()) {
        user_name = *overrides.user;
    }

    if (cluster_name.empty()) {
        if (context_name.empty()) {
            return util::fail(
                util::ErrorKind::generic,
                fmt::format("no current context is set in the kubeconfig; pass --context ({}) or run "
                            "'kubectl config use-context NAME'",
                            names_of(kubeconfig.contexts, "contexts")));
        }
        return util::fail(
            util::ErrorKind::generic,
            fmt::format("context \"{}\" names no cluster; set contexts[].context.cluster or pass --cluster",
                        context_name));
    }
    auto cluster = kubeconfig.clusters.find(cluster_name);
    if (cluster == kubeconfig.clusters.end()) {
        return util::fail(
            util::ErrorKind::not_found,
            fmt::format("cluster \"{}\"{} not found in kubeconfig ({})", cluster_name,
                        context_name.empty() || (overrides.cluster && !overrides.cluster->empty())
                            ? std::string()
                            : fmt::format(" (of context \"{}\")", context_name),
                        names_of(kubeconfig.clusters, "clusters")));
    }
    config.cluster_name = cluster_name;
    if (auto applied = apply_cluster(config, cluster->second); !applied) {
        return std::unexpected(applied.error());
    }

    // An empty user name is anonymous access; a named user must exist.
    if (!user_name.empty()) {
        auto user = kubeconfig.users.find(user_name);
        if (user == kubeconfig.users.end()) {
            return util::fail(util::ErrorKind::not_found,
                              fmt::format("user \"{}\"{} not found in kubeconfig ({})", user_name,
                                          context_name.empty() || (overrides.user && !overrides.user->empty())
                                              ? std::string()
                                              : fmt::format(" (of context \"{}\")", context_name),
                                          names_of(kubeconfig.users, "users")));
        }
        config.user_name = user_name;
        if (auto applied = apply_user(config, user->second); !applied) {
            return std::unexpected(applied.error());
        }
    }

    if (overrides.namespace_name && !overrides.namespace_name->empty()) {
        config.namespace_name = *overrides.namespace_name;
        config.namespace_overridden = true;
    } else if (!context_namespace.empty()) {
        config.namespace_name = context_namespace;
    }
    apply_timeout(config, overrides);
    return config;
}

InClusterEnvironment InClusterEnvironment::from_process() {
    InClusterEnvironment environment;
    environment.service_host = env("KUBERNETES_SERVICE_HOST");
    environment.service_port = env("KUBERNETES_SERVICE_PORT");
    environment.pod_namespace = env("POD_NAMESPACE");
    return environment;
}

bool InClusterEnvironment::possible() const {
    std::error_code ec;
    return service_host && !service_host->empty() && service_port && !service_port->empty() &&
           std::filesystem::exists(service_account_dir / "token", ec);
}

util::Result<RestConfig> in_cluster_config(const InClusterEnvironment& environment,
                                           const ConfigOverrides& overrides) {
    if (!environment.service_host || environment.service_host->empty() || !environment.service_port ||
        environment.service_port->empty()) {
        return util::fail(util::ErrorKind::generic,
                          "not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and "
                          "KUBERNETES_SERVICE_PORT must be set");
    }
    RestConfig config;
    config.in_cluster = true;
    config.server = "https://" + join_host_port(*environment.service_host, *environment.service_port);

    const auto token_file = environment.service_account_dir / "token";
    auto token = read_whole_file(token_file, "service account token");
    if (!token) {
        return std::unexpected(token.error().with_context("in-cluster configuration"));
    }
    config.bearer_token_file = token_file;

    const auto ca_file = environment.service_account_dir / "ca.crt";
    auto ca = read_whole_file(ca_file, "service account CA");
    if (!ca) {
        return std::unexpected(ca.error().with_context("in-cluster configuration"));
    }
    config.ca_pem = std::move(*ca);
    config.ca_origin = ca_file.string();

    if (environment.pod_namespace && !environment.pod_namespace->empty()) {
        config.namespace_name = *environment.pod_namespace;
    } else if (auto ns = read_whole_file(environment.service_account_dir / "namespace", "namespace");
               ns && !trim(*ns).empty()) {
        config.namespace_name = trim(*ns);
    }
    if ((overrides.context && !overrides.context->empty()) ||
        (overrides.cluster && !overrides.cluster->empty()) || (overrides.user && !overrides.user->empty())) {
        return util::fail(util::ErrorKind::generic,
                          "--context, --cluster and --user need a kubeconfig; the in-cluster "
                          "configuration has none");
    }
    if (overrides.namespace_name && !overrides.namespace_name->empty()) {
        config.namespace_name = *overrides.namespace_name;
        config.namespace_overridden = true;
    }
    apply_timeout(config, overrides);
    return config;
}

util::Result<RestConfig> load_rest_config(const LoadingRules& rules, const ConfigOverrides& overrides,
                                          const InClusterEnvironment& in_cluster) {
    auto kubeconfig = load_kubeconfig(rules);
    if (!kubeconfig) {
        return std::unexpected(kubeconfig.error());
    }
    return rest_config_for(*kubeconfig, rules, overrides, in_cluster);
}

util::Result<RestConfig> rest_config_for(const Kubeconfig& kubeconfig, const LoadingRules& rules,
                                         const ConfigOverrides& overrides,
                                         const InClusterEnvironment& in_cluster) {
    const bool defines_nothing =
        kubeconfig.contexts.empty() && kubeconfig.clusters.empty() && kubeconfig.current_context.empty();
    const bool asks_for_entry = (overrides.context && !overrides.context->empty()) ||
                                (overrides.cluster && !overrides.cluster->empty()) ||
                                (overrides.user && !overrides.user->empty());
    if (defines_nothing && !asks_for_entry) {
        if (!rules.explicit_path && in_cluster.possible()) {
            return in_cluster_config(in_cluster, overrides);
        }
        std::string where;
        if (rules.explicit_path) {
            where = rules.explicit_path->string() + " defines no context";
        } else if (kubeconfig.files.empty()) {
            where = "no kubeconfig file found (looked at: ";
            for (std::size_t i = 0; i < rules.precedence.size(); ++i) {
                where += (i == 0 ? "" : ", ") + rules.precedence[i].string();
            }
            where += ")";
        } else {
            where = "the kubeconfig defines no context";
        }
        return util::fail(util::ErrorKind::generic,
                          fmt::format("no Kubernetes configuration: {}; pass --kubeconfig FILE or set "
                                      "KUBECONFIG",
                                      where));
    }
    return resolve_rest_config(kubeconfig, overrides);
}

} // namespace meshlink::kube
