#pragma once
// The rollout's lock: one coordination.k8s.io/v1 Lease whose spec.holderIdentity lists the nodes holding it
// (at most the plan's maxUnavailable). A node takes a hold before it changes anything and gives it back only
// when it is done, skipped or aborted; a failed node keeps it. Nothing here ever takes another node's hold
// away, whatever its age: unlike a TTL lock, a node that failed halts the rollout until a person decides
// (`kubectl meshlink kernel resume | abort`). Every write is conditional on the Lease's resourceVersion, so
// two nodes can never both see a free slot and take it.

#include "probe/kernel_rollout.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::agent::rollout {

// What the Lease says, read and validated.
struct LockView {
    nlohmann::json lease; // as read (the base of the next write)
    std::string rollout;  // the rollout it belongs to (annotation meshlink.io/kernel-rollout)
    std::vector<std::string> holders;
    std::optional<std::string> renew_time;
    probe::VersionPins pins;
    std::optional<probe::Halt> halt;
    // The holder list could not be read: nothing may write the Lease (a write would drop what it cannot read,
    // and with it somebody's hold) until a person repairs it.
    std::string problem;
    std::string pins_problem; // the pins could not be read: none are used or written

    [[nodiscard]] bool holds(const std::string& node) const;
};

LockView read_lock(const nlohmann::json& lease);

// The Lease to write so that `node` holds it (renewTime now; acquireTime when it was free), or nullopt when
// it cannot: `why` says who holds it. Holding it already is fine (the Lease only gets renewed).
std::optional<nlohmann::json> with_hold(const LockView& lock, const std::string& node, int max_holders,
                                        std::chrono::system_clock::time_point now, std::string* why);

// The Lease without `node`'s hold (a halt it declared goes too). The Lease as it was when it has none.
nlohmann::json without_hold(const LockView& lock, const std::string& node,
                            std::chrono::system_clock::time_point now);

// The Lease with renewTime now.
nlohmann::json renewed(const LockView& lock, std::chrono::system_clock::time_point now);

// The Lease with `el` pinned to `version` (a pin already there is kept: the first node's choice stands).
nlohmann::json with_pin(const LockView& lock, int el, const std::string& version);

// The Lease with (or, given nullopt, without) a halt.
nlohmann::json with_halt(const LockView& lock, const std::optional<probe::Halt>& halt);

} // namespace meshlink::agent::rollout
