#pragma once
// client-go credential plugins (kubeconfig `users[].user.exec`): runs the plugin with KUBERNETES_EXEC_INFO,
// reads an ExecCredential from its stdout, and caches the result until its expirationTimestamp. Protocol
// versions client.authentication.k8s.io/v1 and v1beta1. The plugin's stderr goes to ours, so prompts and
// errors reach the user; stdin is passed only in interactive mode.

#include "kube/kubeconfig.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace meshlink::kube {

struct RestConfig;

// What the plugin receives as spec.cluster when provideClusterInfo is true.
struct ExecClusterInfo {
    std::string server;
    std::string tls_server_name;
    bool insecure_skip_tls_verify = false;
    std::string ca_pem;
    std::string proxy_url;
    bool disable_compression = false;
    nlohmann::json config; // the cluster's client.authentication.k8s.io/exec extension, or null

    static ExecClusterInfo from(const RestConfig& config);
};

// Credentials a plugin returned: a bearer token, a client certificate and key, or both.
struct Credential {
    std::string token;
    std::string client_certificate_pem;
    std::string client_key_pem;
    std::optional<std::chrono::system_clock::time_point> expiry; // nullopt = does not expire
};

struct ExecOptions {
    std::string user_name;                                      // the kubeconfig user, for messages
    std::function<bool()> stdin_is_terminal;                    // default: isatty(0)
    std::function<std::chrono::system_clock::time_point()> now; // default: the system clock
    int stderr_fd = 2;                                          // where the plugin's stderr goes
    std::chrono::milliseconds timeout{std::chrono::minutes(2)}; // non-interactive runs
    std::chrono::milliseconds interactive_timeout{std::chrono::minutes(10)}; // a human may be typing
};

class ExecCredentialProvider {
public:
    // Validates the stanza (apiVersion v1/v1beta1, interactiveMode required for v1 and one of
    // Never|IfAvailable|Always) and fails with a message naming the user.
    static util::Result<std::unique_ptr<ExecCredentialProvider>>
    create(ExecConfig config, std::optional<ExecClusterInfo> cluster, ExecOptions options = {});

    // The cached credential while it has not expired, else the plugin's fresh answer. Thread-safe; only one
    // plugin runs at a time.
    util::Result<std::shared_ptr<const Credential>> get();

    // After the server answered 401 to `rejected`: runs the plugin again unless another caller already did.
    util::Result<std::shared_ptr<const Credential>>
    refresh(const std::shared_ptr<const Credential>& rejected);

    // The KUBERNETES_EXEC_INFO document for a run (exposed for tests and -v 8 diagnostics).
    [[nodiscard]] nlohmann::json exec_info(bool interactive) const;

    // How many times the plugin has run.
    [[nodiscard]] int runs() const;

private:
    ExecCredentialProvider(ExecConfig config, std::optional<ExecClusterInfo> cluster, ExecOptions options);
    util::Result<std::shared_ptr<const Credential>> run_locked();
    util::Result<bool> interactive() const;
    [[nodiscard]] std::string who() const;

    ExecConfig m_config;
    std::optional<ExecClusterInfo> m_cluster;
    ExecOptions m_options;
    mutable std::mutex m_mutex;
    std::shared_ptr<const Credential> m_cached;
    int m_runs = 0;
};

} // namespace meshlink::kube
