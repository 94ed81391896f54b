#include "node-agent/rollout/drain.hpp"

#include "node-agent/defaults.hpp"

#include <fmt/format.h>

namespace meshlink::agent::rollout {
namespace {

using nlohmann::json;

const json& child(const json& object, const char* key) {
    static const json empty = json::object();
    const auto it = object.find(key);
    return it != object.end() && it->is_object() ? *it : empty;
}

std::string text_of(const json& object, const char* key) {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The controlling owner's kind ("ReplicaSet", "DaemonSet", "Node" for a mirror Pod), "" when none.
std::string controller_kind(const json& pod) {
    const auto owners = child(pod, "metadata").find("ownerReferences");
    if (owners == child(pod, "metadata").end() || !owners->is_array()) {
        return {};
    }
    for (const auto& owner : *owners) {
        if (owner.is_object() && owner.value("controller", false)) {
            return text_of(owner, "kind");
        }
    }
    return {};
}

bool has_emptydir(const json& pod) {
    const auto volumes = child(pod, "spec").find("volumes");
    if (volumes == child(pod, "spec").end() || !volumes->is_array()) {
        return false;
    }
    for (const auto& volume : *volumes) {
        if (volume.is_object() && volume.contains("emptyDir")) {
            return true;
        }
    }
    return false;
}

} // namespace

DrainSelection select_pods(const std::vector<json>& pods, bool delete_emptydir_data) {
    DrainSelection selection;
    for (const auto& pod : pods) {
        const json& metadata = child(pod, "metadata");
        PodRef ref{text_of(metadata, "namespace"), text_of(metadata, "name")};
        if (ref.name.empty()) {
            continue;
        }
        const std::string kind = controller_kind(pod);
        if (kind == "DaemonSet") {
            selection.kept.push_back(ref.text() + " (DaemonSet)");
            continue;
        }
        if (child(metadata, "annotations").contains(std::string(defaults::k_mirror_pod_annotation))) {
            selection.kept.push_back(ref.text() + " (mirror Pod)");
            continue;
        }
        if (metadata.contains("deletionTimestamp")) {
            selection.terminating.push_back(ref);
            continue;
        }
        const std::string phase = text_of(child(pod, "status"), "phase");
        const bool finished = phase == "Succeeded" || phase == "Failed";
        if (!finished && has_emptydir(pod) && !delete_emptydir_data) {
            selection.refused.push_back(
                ref.text() + ": has emptyDir data, which eviction deletes (the plan was made without "
                             "--delete-emptydir-data)");
            continue;
        }
        if (!finished && kind.empty()) {
            selection.refused.push_back(ref.text() +
                                        ": no controller would recreate it (not managed by a ReplicaSet, "
                                        "StatefulSet, Job, ...): move or delete it first");
            continue;
        }
        selection.evict.push_back(ref);
    }
    return selection;
}

util::Result<DrainRound> drain_round(RolloutApi& api, const std::string& node, bool delete_emptydir_data) {
    auto pods = api.pods_on_node(node);
    if (!pods) {
        return std::unexpected(pods.error().with_context("listing the pods on node " + node));
    }
    const DrainSelection selection = select_pods(*pods, delete_emptydir_data);
    DrainRound round;
    if (!selection.refused.empty()) {
        // kubectl drain refuses before it evicts anything, and so does this.
        std::string list;
        for (std::size_t i = 0; i < selection.refused.size() && i < 5; ++i) {
            list += (i > 0 ? "; " : "") + selection.refused[i];
        }
        if (selection.refused.size() > 5) {
            list += fmt::format("; and {} more", selection.refused.size() - 5);
        }
        round.failure = "cannot drain: " + list;
        return round;
    }
    for (const auto& pod : selection.terminating) {
        round.waiting.push_back(pod.text());
    }
    for (const auto& pod : selection.evict) {
        auto evicted = api.evict(pod.namespace_name, pod.name);
        if (evicted) {
            round.evicted.push_back(pod.text());
            round.waiting.push_back(pod.text());
            continue;
        }
        const util::Error& error = evicted.error();
        if (error.kind == util::ErrorKind::not_found) {
            continue; // gone meanwhile
        }
        // 429: a budget says no. No answer at all, or a gateway's 502-504: the request may never have reached
        // the eviction logic. Both are tried again; what the eviction logic refuses (500, 403, 422) is not.
        if (error.kind == util::ErrorKind::too_many_requests || error.http_status == 0 ||
            (error.http_status >= 502 && error.http_status <= 504)) {
            round.blocked.push_back(pod.text() + ": " + error.message);
            continue;
        }
        round.failure = fmt::format("evicting {}: {}", pod.text(), error.message);
        return round;
    }
    round.drained = selection.evict.empty() && selection.terminating.empty();
    return round;
}

} // namespace meshlink::agent::rollout
