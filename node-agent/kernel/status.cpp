// status: the trial record beside what the node shows now, and what a staging trial has left to do.

#include "node-agent/defaults.hpp"
#include "node-agent/kernel/prepare.hpp"

#include <algorithm>
#include <system_error>

namespace meshlink::agent::kernel {

util::Result<StatusResult> status(Host& host) {
    StatusResult result;
    auto trial = read_trial(host.files());
    if (!trial) {
        result.trial_error = trial.error().message;
    } else {
        result.trial = *trial;
    }
    auto node_read = read_node(host);
    if (!node_read) {
        return std::unexpected(node_read.error());
    }
    const NodeState& node = *node_read;
    result.running = node.running.release;
    result.boot_id = node.boot_id;
    result.default_entry = env_value(node.grubenv, "saved_entry");
    result.next_entry = env_value(node.grubenv, "next_entry");
    result.grubenv_error = node.grubenv.error;
    result.loader = node.loader.kind;
    result.entries = node.loader.entries;
    if (const BootEntry* entry = node.loader.by_id(result.default_entry)) {
        result.default_kernel = entry->kernel;
    }
    result.guard = read_guard(host.files());
    if (!result.trial) {
        return result;
    }
    const TrialRecord& record = *result.trial;
    result.rebooted_since_stage = !record.boot_id.empty() && record.boot_id != node.boot_id;
    auto installed = query_installed(host, record.packages);
    if (!installed) {
        return std::unexpected(installed.error());
    }
    for (const auto& nevra : record.packages) {
        if (installed->count(nevra) != 0) {
            result.installed.push_back(nevra);
        }
    }
    if (record.state == TrialState::staging) {
        // Exactly what an interrupted stage has not done yet, in stage's order.
        if (result.installed.size() != record.packages.size()) {
            result.pending.emplace_back("install");
        }
        const BootEntry* target = node.loader.for_kernel(record.target_release);
        if (target == nullptr) {
            result.pending.emplace_back("files");
        } else {
            const auto words = split_words(target->options);
            for (const auto& arg : split_words(defaults::k_kernel_trial_args)) {
                if (std::find(words.begin(), words.end(), arg) == words.end()) {
                    result.pending.emplace_back("trial-args");
                    break;
                }
            }
        }
        if (result.default_entry != record.previous_entry) {
            result.pending.emplace_back("saved-default");
        }
        if (!result.guard.armed() || result.guard.kernel != record.target_release) {
            result.pending.emplace_back("guard");
        }
        if (target == nullptr || result.next_entry != target->id) {
            result.pending.emplace_back("next-boot");
        }
        result.pending.emplace_back("staged");
    }
    return result;
}

} // namespace meshlink::agent::kernel
