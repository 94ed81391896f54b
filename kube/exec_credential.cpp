#include "kube/exec_credential.hpp"

#include "kube/rest_config.hpp"
#include "util/base64.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/subprocess.hpp"
#include "util/time.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <ctime>

namespace meshlink::kube {
namespace {

constexpr std::string_view k_api_v1 = "client.authentication.k8s.io/v1";
constexpr std::string_view k_api_v1beta1 = "client.authentication.k8s.io/v1beta1";
constexpr std::string_view k_exec_info_env = "KUBERNETES_EXEC_INFO";

} // namespace

ExecClusterInfo ExecClusterInfo::from(const RestConfig& config) {
    ExecClusterInfo info;
    info.server = config.server;
    info.tls_server_name = config.tls_server_name;
    info.insecure_skip_tls_verify = config.insecure_skip_tls_verify;
    info.ca_pem = config.ca_pem;
    info.proxy_url = config.proxy_url;
    info.disable_compression = config.disable_compression;
    info.config = config.exec_cluster_config;
    return info;
}

ExecCredentialProvider::ExecCredentialProvider(ExecConfig config, std::optional<ExecClusterInfo> cluster,
                                               ExecOptions options)
    : m_config(std::move(config)), m_cluster(std::move(cluster)), m_options(std::move(options)) {
    if (!m_options.stdin_is_terminal) {
        m_options.stdin_is_terminal = [] { return ::isatty(STDIN_FILENO) == 1; };
    }
    if (!m_options.now) {
        m_options.now = [] { return std::chrono::system_clock::now(); };
    }
}

util::Result<std::unique_ptr<ExecCredentialProvider>>
ExecCredentialProvider::create(ExecConfig config, std::optional<ExecClusterInfo> cluster,
                               ExecOptions options) {
    const std::string user = options.user_name;
    auto invalid = [&](const std::string& what) {
        return util::fail(util::ErrorKind::generic,
                          fmt::format("user \"{}\": exec credential plugin: {}", user, what));
    };
    if (config.command.empty()) {
        return invalid("command must be specified");
    }
    if (config.api_version != k_api_v1 && config.api_version != k_api_v1beta1) {
        return invalid(fmt::format("apiVersion \"{}\" is not supported (use {} or {})", config.api_version,
                                   k_api_v1, k_api_v1beta1));
    }
    if (config.interactive_mode.empty()) {
        if (config.api_version == k_api_v1) {
            return invalid(fmt::format(
                "interactiveMode must be specified for {} (Never, IfAvailable or Always)", k_api_v1));
        }
        config.interactive_mode = "IfAvailable"; // v1beta1's default
    }
    if (config.interactive_mode != "Never" && config.interactive_mode != "IfAvailable" &&
        config.interactive_mode != "Always") {
        return invalid(fmt::format("unknown interactiveMode \"{}\" (use Never, IfAvailable or Always)",
                                   config.interactive_mode));
    }
    if (!config.provide_cluster_info) {
        cluster.reset();
    }
    return std::unique_ptr<ExecCredentialProvider>(
        new ExecCredentialProvider(std::move(config), std::move(cluster), std::move(options)));
}

std::string ExecCredentialProvider::who() const {
    return fmt::format("exec credential plugin {} (user \"{}\")", m_config.command, m_options.user_name);
}

nlohmann::json ExecCredentialProvider::exec_info(bool interactive) const {
    nlohmann::json spec = {{"interactive", interactive}};
    if (m_cluster) {
        nlohmann::json cluster = {{"server", m_cluster->server}};
        // Optional fields are omitted when empty, as the Go encoder's omitempty does.
        if (!m_cluster->tls_server_name.empty()) {
            cluster["tls-server-name"] = m_cluster->tls_server_name;
        }
        if (m_cluster->insecure_skip_tls_verify) {
            cluster["insecure-skip-tls-verify"] = true;
        }
        if (!m_cluster->ca_pem.empty()) {
            cluster["certificate-authority-data"] =
                util::base64_encode(m_cluster->ca_pem); // []byte in Go: base64
        }
        if (!m_cluster->proxy_url.empty()) {
            cluster["proxy-url"] = m_cluster->proxy_url;
        }
        if (m_cluster->disable_compression) {
            cluster["disable-compression"] = true;
        }
        if (!m_cluster->config.is_null()) {
            cluster["config"] = m_cluster->config;
        }
        spec["cluster"] = std::move(cluster);
    }
    return {{"apiVersion", m_config.api_version}, {"kind", "ExecCredential"}, {"spec", std::move(spec)}};
}

util::Result<bool> ExecCredentialProvider::interactive() const {
    if (m_config.interactive_mode == "Never") {
        return false;
    }
    const bool terminal = m_options.stdin_is_terminal();
    if (m_config.interactive_mode == "Always" && !terminal) {
        return util::fail(
            util::ErrorKind::generic,
            fmt::format("{} needs interactive mode (interactiveMode: Always), but standard input is not a "
                        "terminal; run the command from a terminal",
                        who()));
    }
    return terminal;
}

int ExecCredentialProvider::runs() const {
    std::lock_guard lock(m_mutex);
    return m_runs;
}

util::Result<std::shared_ptr<const Credential>> ExecCredentialProvider::get() {
    std::lock_guard lock(m_mutex);
    if (m_cached && (!m_cached->expiry || m_options.now() < *m_cached->expiry)) {
        return m_cached;
    }
    return run_locked();
}

util::Result<std::shared_ptr<const Credential>>
ExecCredentialProvider::refresh(const std::shared_ptr<const Credential>& rejected) {
    std::lock_guard lock(m_mutex);
    if (m_cached && m_cached != rejected) {
        return m_cached; // another request already rotated the credential
    }
    return run_locked();
}

util::Result<std::shared_ptr<const Credential>> ExecCredentialProvider::run_locked() {
    auto is_interactive = interactive();
    if (!is_interactive) {
        return std::unexpected(is_interactive.error());
    }
    util::SubprocessSpec spec;
    spec.program = m_config.command;
    spec.args = m_config.args;
    std::vector<std::string> overrides;
    for (const auto& var : m_config.env) {
        overrides.push_back(var.name + "=" + var.value);
    }
    overrides.push_back(fmt::format("{}={}", k_exec_info_env, exec_info(*is_interactive).dump()));
    spec.env = util::environment_with(overrides);
    spec.inherit_stdin = *is_interactive;
    spec.stderr_fd = m_options.stderr_fd;
    spec.timeout = *is_interactive ? m_options.interactive_timeout : m_options.timeout;

    util::log::write(4, fmt::format("running {} (interactive: {})", who(), *is_interactive));
    ++m_runs;
    auto ran = util::run_subprocess(spec);
    if (!ran) {
        if (ran.error().kind == util::ErrorKind::not_found) {
            std::string message = fmt::format(
                "{}: {}\n\nIt looks like the kubeconfig uses a client-go credential plugin that is not "
                "installed (see https://kubernetes.io/docs/reference/access-authn-authz/authentication/"
                "#client-go-credential-plugins).",
                who(), ran.error().message);
            if (!m_config.install_hint.empty()) {
                message += "\n\n" + m_config.install_hint;
            }
            return util::fail(util::ErrorKind::not_found, std::move(message));
        }
        return std::unexpected(ran.error().with_context(who()));
    }
    if (ran->term_signal != 0) {
        return util::fail(util::ErrorKind::unauthorized,
                          fmt::format("{} was killed by signal {}", who(), ran->term_signal));
    }
    if (ran->exit_code != 0) {
        return util::fail(util::ErrorKind::unauthorized,
                          fmt::format("{} failed with exit code {}", who(), ran->exit_code));
    }

    auto bad_output = [&](const std::string& what) {
        return util::fail(util::ErrorKind::parse,
                          fmt::format("{} returned an invalid ExecCredential: {}", who(), what));
    };
    nlohmann::json doc = util::parse_json(ran->stdout_data).value_or(nlohmann::json());
    if (!doc.is_object()) {
        return bad_output("stdout is not a JSON object");
    }
    const std::string api_version = doc.value("apiVersion", std::string());
    if (api_version != m_config.api_version) {
        return bad_output(fmt::format("the kubeconfig asks for apiVersion {}, the plugin answered \"{}\"",
                                      m_config.api_version, api_version));
    }
    if (doc.value("kind", std::string()) != "ExecCredential") {
        return bad_output(
            fmt::format("kind is \"{}\", expected ExecCredential", doc.value("kind", std::string())));
    }
    auto status = doc.find("status");
    if (status == doc.end() || !status->is_object()) {
        return bad_output("no status field");
    }
    auto string_field = [&](const char* name) -> util::Result<std::string> {
        auto it = status->find(name);
        if (it == status->end() || it->is_null()) {
            return std::string();
        }
        if (!it->is_string()) {
            return bad_output(fmt::format("status.{} is not a string", name));
        }
        return it->get<std::string>();
    };
    auto credential = std::make_shared<Credential>();
    for (auto [name, target] : {std::pair{"token", &credential->token},
                                std::pair{"clientCertificateData", &credential->client_certificate_pem},
                                std::pair{"clientKeyData", &credential->client_key_pem}}) {
        auto value = string_field(name);
        if (!value) {
            return std::unexpected(value.error());
        }
        *target = std::move(*value);
    }
    if (credential->token.empty() && credential->client_certificate_pem.empty() &&
        credential->client_key_pem.empty()) {
        return bad_output("neither a token nor a client certificate and key");
    }
    if (credential->client_certificate_pem.empty() != credential->client_key_pem.empty()) {
        return bad_output("only one of clientCertificateData and clientKeyData");
    }
    auto expiry = string_field("expirationTimestamp");
    if (!expiry) {
        return std::unexpected(expiry.error());
    }
    if (!expiry->empty()) {
        auto parsed = util::parse_rfc3339(*expiry);
        if (!parsed) {
            return bad_output("status.expirationTimestamp: " + parsed.error().message);
        }
        credential->expiry = *parsed;
    }
    m_cached = std::move(credential);
    return m_cached;
}

} // namespace meshlink::kube
