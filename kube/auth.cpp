#include "kube/auth.hpp"

#include "util/base64.hpp"
#include "util/file.hpp"
#include "util/log.hpp"

#include <fmt/core.h>
#include <sys/stat.h>

namespace meshlink::kube {
namespace {

std::string trim_space(std::string text) {
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    text.erase(text.begin(), std::find_if(text.begin(), text.end(), not_space));
    text.erase(std::find_if(text.rbegin(), text.rend(), not_space).base(), text.end());
    return text;
}

} // namespace

util::Result<std::unique_ptr<Authenticator>> Authenticator::create(const RestConfig& config,
                                                                   ExecOptions exec_options) {
    std::unique_ptr<Authenticator> auth(new Authenticator());
    auth->m_client_certificate_pem = config.client_certificate_pem;
    auth->m_client_key_pem = config.client_key_pem;
    auth->m_token = trim_space(config.bearer_token);
    auth->m_token_file = config.bearer_token_file;
    if (!config.username.empty() || !config.password.empty()) {
        auth->m_static_headers.emplace_back(
            "Authorization", "Basic " + util::base64_encode(config.username + ":" + config.password));
    }
    if (!config.impersonate_user.empty()) {
        auth->m_static_headers.emplace_back("Impersonate-User", config.impersonate_user);
    }
    for (const auto& group : config.impersonate_groups) {
        auth->m_static_headers.emplace_back("Impersonate-Group", group);
    }
    if (config.exec) {
        if (exec_options.user_name.empty()) {
            exec_options.user_name = config.user_name;
        }
        auto provider = ExecCredentialProvider::create(*config.exec, ExecClusterInfo::from(config),
                                                       std::move(exec_options));
        if (!provider) {
            return std::unexpected(provider.error());
        }
        auth->m_exec = std::move(*provider);
    }
    return auth;
}

std::string Authenticator::bearer_token_locked(bool force_reread) {
    if (m_token_file.empty()) {
        return m_token;
    }
    struct stat info {};
    if (::stat(m_token_file.c_str(), &info) != 0) {
        // client-go keeps using the last token it read when the file goes away for a moment.
        util::log::write(4, fmt::format("token file {} is not readable ({}); using the last token read",
                                        m_token_file.string(), std::strerror(errno)));
        return m_token;
    }
    FileStamp stamp{static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec,
                    static_cast<std::int64_t>(info.st_size), static_cast<std::uint64_t>(info.st_ino)};
    if (!force_reread && m_token_stamp && *m_token_stamp == stamp) {
        return m_token;
    }
    auto content = util::read_file(m_token_file);
    if (!content) {
        return m_token;
    }
    std::string token = trim_space(*content);
    if (!token.empty()) {
        if (m_token_stamp && token != m_token) {
            util::log::write(
                4, fmt::format("token file {} changed; using the new token", m_token_file.string()));
        }
        m_token = std::move(token);
    }
    m_token_stamp = stamp;
    return m_token;
}

util::Result<RequestAuth> Authenticator::current() {
    RequestAuth auth;
    auth.headers = m_static_headers;
    auth.client_certificate_pem = m_client_certificate_pem;
    auth.client_key_pem = m_client_key_pem;
    {
        std::lock_guard lock(m_mutex);
        auth.token_used = bearer_token_locked(false);
    }
    if (m_exec) {
        auto credential = m_exec->get();
        if (!credential) {
            return std::unexpected(credential.error().with_context("getting credentials"));
        }
        auth.exec_credential = *credential;
        if (!(*credential)->token.empty()) {
            auth.token_used = (*credential)->token;
        }
        if (!(*credential)->client_certificate_pem.empty()) {
            auth.client_certificate_pem = (*credential)->client_certificate_pem;
            auth.client_key_pem = (*credential)->client_key_pem;
        }
    }
    if (!auth.token_used.empty()) {
        auth.headers.emplace_back("Authorization", "Bearer " + auth.token_used);
    }
    return auth;
}

util::Result<bool> Authenticator::refresh_after_unauthorized(const RequestAuth& rejected) {
    if (m_exec) {
        auto fresh = m_exec->refresh(rejected.exec_credential);
        if (!fresh) {
            return std::unexpected(
                fresh.error().with_context("refreshing credentials after 401 Unauthorized"));
        }
        return *fresh != rejected.exec_credential;
    }
    if (!m_token_file.empty()) {
        std::lock_guard lock(m_mutex);
        return bearer_token_locked(true) != rejected.token_used;
    }
    return false;
}

} // namespace meshlink::kube
