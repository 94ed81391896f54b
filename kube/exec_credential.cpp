#include "kube/exec_credential.hpp"

#include "kube/kubeconfig_yaml.hpp"
#include "kube/log.hpp"
#include "kube/rest_config.hpp"
#include "kube/subprocess.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <ctime>

namespace meshlink::kube {
namespace {

constexpr std::string_view k_api_v1 = "client.authentication.k8s.io/v1";
constexpr std::string_view k_api_v1beta1 = "client.authentication.k8s.io/v1beta1";
constexpr std::string_view k_exec_info_env = "KUBERNETES_EXEC_INFO";

bool parse_digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
    if (pos + count > text.size()) {
        return false;
    }
    int value = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
        value = value * 10 + (text[i] - '0');
    }
    out = value;
    return true;
}

} // namespace

Result<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
    auto bad = [&] { return fail(ErrorKind::parse, fmt::format("invalid RFC 3339 timestamp \"{}\"", text)); };
    std::tm tm{};
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!parse_digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' ||
        !parse_digits(text, 5, 2, month) || text[7] != '-' || !parse_digits(text, 8, 2, day) ||
        (text[10] != 'T' && text[10] != 't') || !parse_digits(text, 11, 2, hour) || text[13] != ':' ||
        !parse_digits(text, 14, 2, minute) || text[16] != ':' || !parse_digits(text, 17, 2, second)) {
        return bad();
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
        return bad();
    }
    std::size_t pos = 19;
    std::chrono::nanoseconds fraction{0};
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        std::int64_t scale = 100'000'000;
        std::size_t digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            fraction += std::chrono::nanoseconds((text[pos] - '0') * scale);
            scale /= 10;
            ++pos;
            ++digits;
        }
        if (digits == 0) {
            return bad();
        }
    }
    std::chrono::seconds offset{0};
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
        ++pos;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        int off_hour = 0, off_minute = 0;
        if (!parse_digits(text, pos + 1, 2, off_hour) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
            !parse_digits(text, pos + 4, 2, off_minute)) {
            return bad();
        }
        offset = std::chrono::hours(off_hour) + std::chrono::minutes(off_minute);
        if (text[pos] == '-') {
            offset = -offset;
        }
        pos += 6;
    } else {
        return bad();
    }
    if (pos != text.size()) {
        return bad();
    }
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    const std::time_t utc = ::timegm(&tm);
    return std::chrono::system_clock::from_time_t(utc) - offset +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(fraction);
}

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

Result<std::unique_ptr<ExecCredentialProvider>>
ExecCredentialProvider::create(ExecConfig config, std::optional<ExecClusterInfo> cluster,
                               ExecOptions options) {
    const std::string user = options.user_name;
    auto invalid = [&](const std::string& what) {
        return fail(ErrorKind::generic, fmt::format("user \"{}\": exec credential plugin: {}", user, what));
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
            cluster["certificate-authority-data"] = encode_base64(m_cluster->ca_pem); // []byte in Go: base64
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

Result<bool> ExecCredentialProvider::interactive() const {
    if (m_config.interactive_mode == "Never") {
        return false;
    }
    const bool terminal = m_options.stdin_is_terminal();
    if (m_config.interactive_mode == "Always" && !terminal) {
        return fail(
            ErrorKind::generic,
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

Result<std::shared_ptr<const Credential>> ExecCredentialProvider::get() {
    std::lock_guard lock(m_mutex);
    if (m_cached && (!m_cached->expiry || m_options.now() < *m_cached->expiry)) {
        return m_cached;
    }
    return run_locked();
}

Result<std::shared_ptr<const Credential>>
ExecCredentialProvider::refresh(const std::shared_ptr<const Credential>& rejected) {
    std::lock_guard lock(m_mutex);
    if (m_cached && m_cached != rejected) {
        return m_cached; // another request already rotated the credential
    }
    return run_locked();
}

Result<std::shared_ptr<const Credential>> ExecCredentialProvider::run_locked() {
    auto is_interactive = interactive();
    if (!is_interactive) {
        return std::unexpected(is_interactive.error());
    }
    SubprocessSpec spec;
    spec.program = m_config.command;
    spec.args = m_config.args;
    std::vector<std::string> overrides;
    for (const auto& var : m_config.env) {
        overrides.push_back(var.name + "=" + var.value);
    }
    overrides.push_back(fmt::format("{}={}", k_exec_info_env, exec_info(*is_interactive).dump()));
    spec.env = environment_with(overrides);
    spec.inherit_stdin = *is_interactive;
    spec.stderr_fd = m_options.stderr_fd;
    spec.timeout = *is_interactive ? m_options.interactive_timeout : m_options.timeout;

    log::write(4, fmt::format("running {} (interactive: {})", who(), *is_interactive));
    ++m_runs;
    auto ran = run_subprocess(spec);
    if (!ran) {
        if (ran.error().kind == ErrorKind::not_found) {
            std::string message = fmt::format(
                "{}: {}\n\nIt looks like the kubeconfig uses a client-go credential plugin that is not "
                "installed (see https://kubernetes.io/docs/reference/access-authn-authz/authentication/"
                "#client-go-credential-plugins).",
                who(), ran.error().message);
            if (!m_config.install_hint.empty()) {
                message += "\n\n" + m_config.install_hint;
            }
            return fail(ErrorKind::not_found, std::move(message));
        }
        return std::unexpected(ran.error().with_context(who()));
    }
    if (ran->term_signal != 0) {
        return fail(ErrorKind::unauthorized,
                    fmt::format("{} was killed by signal {}", who(), ran->term_signal));
    }
    if (ran->exit_code != 0) {
        return fail(ErrorKind::unauthorized,
                    fmt::format("{} failed with exit code {}", who(), ran->exit_code));
    }

    auto bad_output = [&](const std::string& what) {
        return fail(ErrorKind::parse, fmt::format("{} returned an invalid ExecCredential: {}", who(), what));
    };
    nlohmann::json doc = nlohmann::json::parse(ran->stdout_data, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
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
    auto string_field = [&](const char* name) -> Result<std::string> {
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
        auto parsed = parse_rfc3339(*expiry);
        if (!parsed) {
            return bad_output("status.expirationTimestamp: " + parsed.error().message);
        }
        credential->expiry = *parsed;
    }
    m_cached = std::move(credential);
    return m_cached;
}

} // namespace meshlink::kube
