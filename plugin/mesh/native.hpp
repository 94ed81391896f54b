#pragma once
// The native writes of join and their undo, each recorded in the cluster's journal before it happens:
// keys of a Secret (cilium-clustermesh, cilium-kvstoremesh) and hostAliases of a workload's pod template.

#include "plugin/mesh/model.hpp"
#include "util/error.hpp"

#include <map>
#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

// Makes data[key] == value for every entry of `values` in Secret `secret` (created, labelled as meshlink's,
// when absent). Keys already holding the value are left alone; a key holding another value is backed up in
// the journal's Secret first. Returns whether anything was written.
util::Result<bool> ensure_secret_keys(Session& session, Cluster& c, std::string_view secret,
                                      const std::map<std::string, std::string>& values,
                                      const std::string& peer);

// Makes every `ips` entry of the pod template's hostAliases name `hostname` (DaemonSet or Deployment).
// Changing a pod template restarts its pods: the caller asked already. Returns whether anything was written.
util::Result<bool> ensure_host_aliases(Session& session, Cluster& c, Kind kind, std::string_view name,
                                       const std::vector<std::string>& ips, const std::string& hostname,
                                       const std::string& peer);

// Whether ensure_host_aliases would change the template (a restart), without writing.
util::Result<bool> host_aliases_missing(Session& session, Cluster& c, Kind kind, std::string_view name,
                                        const std::vector<std::string>& ips, const std::string& hostname);

// Undoes one recorded native change (secret-key, create, host-alias, replace-secret, node-port). Safe when it
// was never applied or was undone already; leaves alone what someone changed since.
util::Result<void> undo_native(Session& session, Cluster& c, const Change& change);

} // namespace meshlink::plugin::mesh
