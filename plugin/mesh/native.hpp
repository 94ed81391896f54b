#pragma once
// The native writes of join, each recorded in the cluster's journal before it happens: keys of a Secret
// (cilium-clustermesh, cilium-kvstoremesh) and hostAliases of a workload's pod template. Their undo is the
// journal's (changes.hpp); the object helpers below are shared with it.

#include "plugin/mesh/session.hpp"
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

// data[key] of a Secret, base64-decoded ("" when it does not decode); `present` says whether the key is
// there.
std::string decoded_value(const json& data, const std::string& key, bool& present);

// A JSON patch guarded by the object's resourceVersion; a failed guard reads as a conflict (re-check, retry).
util::Result<json> guarded_patch(const Cluster& c, Kind kind, const std::string& ns, const std::string& name,
                                 const std::string& resource_version, json operations);

// The hostAliases of a workload's pod template ([] when it has none), and whether they map `ip` to
// `hostname`.
json template_aliases(const json& object);
bool has_alias(const json& aliases, const std::string& ip, const std::string& hostname);

} // namespace meshlink::plugin::mesh
