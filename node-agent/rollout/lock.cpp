#include "node-agent/rollout/lock.hpp"

#include "probe/defaults.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshlink::agent::rollout {
namespace {

using nlohmann::json;

namespace pd = meshlink::probe::defaults;

std::string annotation(const json& lease, std::string_view key) {
    const auto metadata = lease.find("metadata");
    if (metadata == lease.end() || !metadata->is_object()) {
        return {};
    }
    const auto annotations = metadata->find("annotations");
    if (annotations == metadata->end() || !annotations->is_object()) {
        return {};
    }
    const auto value = annotations->find(std::string(key));
    return value != annotations->end() && value->is_string() ? value->get<std::string>() : std::string();
}

void set_annotation(json& lease, std::string_view key, const std::optional<std::string>& value) {
    json& annotations = lease["metadata"]["annotations"];
    if (!annotations.is_object()) {
        annotations = json::object();
    }
    if (value) {
        annotations[std::string(key)] = *value;
    } else {
        annotations.erase(std::string(key));
    }
}

json with_holders(json lease, const std::vector<std::string>& holders) {
    json& spec = lease["spec"];
    if (!spec.is_object()) {
        spec = json::object();
    }
    if (holders.empty()) {
        spec.erase("holderIdentity");
    } else {
        spec["holderIdentity"] = probe::format_holders(holders);
    }
    return lease;
}

} // namespace

bool LockView::holds(const std::string& node) const {
    return std::find(holders.begin(), holders.end(), node) != holders.end();
}

LockView read_lock(const json& lease) {
    LockView view;
    view.lease = lease;
    view.rollout = annotation(lease, pd::k_rollout_id_annotation);
    const json spec = lease.contains("spec") && lease["spec"].is_object() ? lease["spec"] : json::object();
    if (spec.contains("holderIdentity") && spec["holderIdentity"].is_string()) {
        view.holders = probe::parse_holders(spec["holderIdentity"].get<std::string>(), &view.problem);
    }
    if (spec.contains("renewTime") && spec["renewTime"].is_string()) {
        view.renew_time = spec["renewTime"].get<std::string>();
    }
    if (const auto pins = annotation(lease, pd::k_rollout_pins_annotation); !pins.empty()) {
        auto parsed = probe::pins_from_text(pins);
        if (parsed) {
            view.pins = std::move(*parsed);
        } else {
            view.pins_problem = parsed.error().message;
        }
    }
    if (const auto halt = annotation(lease, pd::k_rollout_halt_annotation); !halt.empty()) {
        auto parsed = probe::halt_from_text(halt);
        if (parsed) {
            view.halt = std::move(*parsed);
        } else {
            // Unreadable is not "no halt": a node must not start because a halt could not be parsed.
            view.halt = probe::Halt{"(unreadable)", parsed.error().message, ""};
        }
    }
    return view;
}

std::optional<json> with_hold(const LockView& lock, const std::string& node, int max_holders,
                              std::chrono::system_clock::time_point now, std::string* why) {
    std::vector<std::string> holders = lock.holders;
    const bool had = lock.holds(node);
    if (!had) {
        if (static_cast<int>(holders.size()) >= max_holders) {
            if (why != nullptr) {
                *why = fmt::format("the lock is held by {} (max-unavailable {})",
                                   probe::format_holders(holders), max_holders);
            }
            return std::nullopt;
        }
        holders.push_back(node);
    }
    json lease = with_holders(lock.lease, holders);
    const std::string time = util::format_rfc3339_micro(now);
    if (lock.holders.empty()) {
        lease["spec"]["acquireTime"] = time;
    }
    if (!had) {
        lease["spec"]["leaseTransitions"] = lease["spec"].value("leaseTransitions", 0) + 1;
    }
    lease["spec"]["renewTime"] = time;
    return lease;
}

json without_hold(const LockView& lock, const std::string& node, std::chrono::system_clock::time_point now) {
    std::vector<std::string> holders = lock.holders;
    holders.erase(std::remove(holders.begin(), holders.end(), node), holders.end());
    json lease = with_holders(lock.lease, holders);
    lease["spec"]["renewTime"] = util::format_rfc3339_micro(now);
    if (lock.halt && lock.halt->node == node) {
        set_annotation(lease, pd::k_rollout_halt_annotation, std::nullopt);
    }
    return lease;
}

json renewed(const LockView& lock, std::chrono::system_clock::time_point now) {
    json lease = lock.lease;
    lease["spec"]["renewTime"] = util::format_rfc3339_micro(now);
    return lease;
}

json with_pin(const LockView& lock, int el, const std::string& version) {
    probe::VersionPins pins = lock.pins;
    pins.emplace(el, version);
    json lease = lock.lease;
    set_annotation(lease, pd::k_rollout_pins_annotation, probe::to_json(pins).dump());
    return lease;
}

json with_halt(const LockView& lock, const std::optional<probe::Halt>& halt) {
    json lease = lock.lease;
    set_annotation(lease, pd::k_rollout_halt_annotation,
                   halt ? std::optional<std::string>(probe::to_json(*halt).dump()) : std::nullopt);
    return lease;
}

} // namespace meshlink::agent::rollout
