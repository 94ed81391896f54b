#pragma once
// The tools that own a Helm-installed Cilium: the cilium CLI and helm. join runs them instead of writing
// Helm-owned objects (DESIGN "Own only what nobody else owns"); this file decides which one drives each
// cluster and runs them, printing each command (never a secret) and stopping on failure.

#include "plugin/mesh/session.hpp"
#include "util/error.hpp"

#include <optional>
#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

// Picks the driver for `cluster` from --backend and what is installed; fails with guidance when the choice
// cannot work (e.g. --backend native on a Helm release, or a Helm release and neither tool on PATH).
util::Result<Driver> choose_driver(Session& session, const Cluster& cluster);

// `cilium <args...> ` with --context (and KUBECONFIG) for `cluster`; `destination_kubeconfig` (the file of a
// --peer-kubeconfig peer a connect or disconnect names) is added to KUBECONFIG. A non-zero exit fails,
// naming the command.
util::Result<void> run_cilium(Session& session, const Cluster& cluster, const std::string& step,
                              std::vector<std::string> args,
                              const std::optional<std::string>& destination_kubeconfig = std::nullopt);

// `helm upgrade <release> cilium --repo https://helm.cilium.io --version <chart> -n <ns> --kube-context X
// --reuse-values --values -`: `values` go to helm's stdin from memory, never through a file (they may hold
// the CA key); the printed command and plan show them with secrets redacted.
util::Result<void> helm_upgrade(Session& session, const Cluster& cluster, const std::string& step,
                                const json& values, const std::string& summary);

// True when helm or cilium would be needed to change Helm values in `cluster` and helm is there.
bool helm_available(Session& session);

} // namespace meshlink::plugin::mesh
