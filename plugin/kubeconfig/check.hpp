#pragma once
// `kubeconfig list --check`: does each context's server answer?

#include "kube/kubeconfig.hpp"
#include "kube/rest_config.hpp"
#include "plugin/kubeconfig/list.hpp"

#include <chrono>
#include <memory>
#include <vector>

namespace meshlink::plugin::kubeconfig {

// How a server is asked; the real one goes through kube::Client, tests may count calls.
class ServerProbe {
public:
    virtual ~ServerProbe() = default;
    // Sends GET /version to `config`'s server, one attempt bounded by `timeout`. Any HTTP answer means the
    // server is reachable.
    virtual ServerCheck probe(const kube::RestConfig& config, std::chrono::milliseconds timeout) = 0;
};

// The probe on kube::Client.
std::unique_ptr<ServerProbe> make_rest_probe();

// Fills `check` of every context, asking all servers at once (up to 64 in flight). Credentials are left
// out of the request on purpose: no exec plugin runs, no token or key is sent, and an answer such as
// 401 Unauthorized still proves the server is there. A context kubeconfig cannot resolve is unreachable
// with the reason.
void check_servers(const kube::Kubeconfig& config, std::vector<ContextSummary>& contexts,
                   std::chrono::milliseconds timeout, ServerProbe& probe);
void check_servers(const kube::Kubeconfig& config, std::vector<ContextSummary>& contexts,
                   std::chrono::milliseconds timeout);

} // namespace meshlink::plugin::kubeconfig
