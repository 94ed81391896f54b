#pragma once
// Turns a RestConfig's credentials into what each request carries: Authorization and Impersonate-* headers
// and the client certificate. Token files are re-read when they change (kubelet rotates projected service
// account tokens); exec plugins run when their credential is missing or expired; a 401 rotates both.

#include "kube/exec_credential.hpp"
#include "kube/rest_config.hpp"
#include "util/error.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace meshlink::kube {

// The credentials for one request. Never log `headers` values or the key.
struct RequestAuth {
    std::vector<std::pair<std::string, std::string>> headers;
    std::string client_certificate_pem;
    std::string client_key_pem;
    std::shared_ptr<const Credential> exec_credential; // what a 401 rotates; null without exec
    std::string token_used;                            // compared after a 401 to see if the file changed
};

class Authenticator {
public:
    // Builds the authenticator; validates an exec stanza (see ExecCredentialProvider::create).
    static util::Result<std::unique_ptr<Authenticator>> create(const RestConfig& config,
                                                               ExecOptions exec_options = {});

    // Credentials for the next request. Runs the exec plugin when needed; re-reads a changed token file.
    util::Result<RequestAuth> current();

    // Called when the server answered 401 to a request sent with `rejected`. Rotates what can be rotated
    // (runs the exec plugin again, re-reads the token file) and returns true when a retry would send
    // different credentials.
    util::Result<bool> refresh_after_unauthorized(const RequestAuth& rejected);

    // True when a 401 can be cured by rotation (exec plugin or token file).
    [[nodiscard]] bool can_refresh() const { return m_exec != nullptr || !m_token_file.empty(); }

private:
    Authenticator() = default;
    std::string bearer_token_locked(bool force_reread);

    std::vector<std::pair<std::string, std::string>> m_static_headers; // basic auth, impersonation
    std::string m_client_certificate_pem;
    std::string m_client_key_pem;
    std::unique_ptr<ExecCredentialProvider> m_exec;

    std::mutex m_mutex; // guards the token file cache
    std::string m_token;
    std::filesystem::path m_token_file;
    struct FileStamp {
        std::int64_t mtime_ns = 0;
        std::int64_t size = -1;
        std::uint64_t inode = 0;
        bool operator==(const FileStamp&) const = default;
    };
    std::optional<FileStamp> m_token_stamp;
};

} // namespace meshlink::kube
