#pragma once
// What plan gathers and stage then acts on (internal to node-agent/kernel/): the plan result plus the node
// as read, the verified keys, and the verified package files waiting in a scratch directory.

#include "node-agent/kernel/node.hpp"
#include "node-agent/kernel/upgrade.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace meshlink::agent::kernel::detail {

struct Prepared {
    PlanResult result;
    NodeState node;
    std::unique_ptr<Scratch> scratch;
    Repository repo;
    std::vector<KeySource> keys;                       // verified key files
    std::vector<PublicKey> trusted;                    // their keys
    std::vector<std::filesystem::path> downloads;      // the candidate's packages not installed yet, verified
    std::map<std::string, InstalledPackage> installed; // the candidate's packages already installed
    std::optional<TrialRecord> trial;
};

util::Result<Prepared> prepare(Host& host, const UpgradeOptions& options);

// The entry that boots the running kernel, or nullptr.
const BootEntry* running_entry(const NodeState& node);

// Sets GRUB environment variables on the node's grubenv (grub2-editenv FILE set k=v ...).
util::Result<> grubenv_set(Host& host, const NodeState& node, const std::vector<std::string>& assignments);
util::Result<> grubenv_unset(Host& host, const NodeState& node, const std::vector<std::string>& names);

// Rewrites the file of `entry` through `edit` (atomic write under --root); returns whether it changed.
util::Result<bool> edit_entry_file(Host& host, const BootEntry& entry,
                                   const std::function<util::Result<std::string>(const std::string&)>& edit);

} // namespace meshlink::agent::kernel::detail
