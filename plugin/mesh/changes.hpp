#pragma once
// The kinds of change the journal records (journal.hpp's Action), one row each in changes.cpp: the name the
// journal's JSON carries, the object the change lives in, whether that object still holds the change as
// recorded, how leave takes it back, and how to name it in messages. A new kind of change is one row there;
// the step that makes it records it with Journal::intend before writing and, once verify() says the answer
// holds it, marks it applied.

#include "plugin/mesh/journal.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace meshlink::plugin::mesh {

class Session;
struct Cluster;

// What a cluster's object says about a recorded change.
enum class Holds {
    absent,      // not there: never applied, or undone already; nothing to undo
    as_recorded, // there as join left it: leave takes it back
    changed,     // someone changed it since: leave leaves it alone, with a warning
};

struct Verdict {
    Holds holds = Holds::absent;
    std::string why; // for `changed`: what differs, e.g. "Secret kube-system/x data.y was changed after join"
};

// The action's name in the journal's JSON ("secret-key", ...); "" for Action::unknown.
std::string_view action_name(Action action);
// nullopt for a name this meshlink does not know.
std::optional<Action> parse_action(std::string_view name);

// Whether `name` can be a Cilium cluster name as the journal uses it: a DNS label (Cilium's own rule is
// stricter: at most 32 characters).
bool cluster_name(std::string_view name);

// Why `change` (read from a cluster's journal) is not one meshlink records, "" when it is: a known action, a
// pending/applied state, peers that are cluster names, and only meshlink's own objects and names (fixed
// objects, names derived from Cilium cluster names, SHA-256 digests, IP addresses, ports), its id matching
// what it names. Journal::load marks the others rejected: reported, kept as they are, never acted on.
std::string invalid_change(const Change& change);

// What the change is, for messages: "Secret kube-system/cilium-clustermesh data.cluster2", ...
std::string describe(const Change& change, std::string_view ns);

// Whether `object` (the API object the change lives in, as it is now; nullopt = absent) holds the change.
// Changes outside the API (the tools', the kubeconfig's) are always as_recorded. Join verifies its writes'
// answers with it; leave checks before it undoes.
Verdict verify(const Change& change, const std::optional<json>& object, std::string_view ns);

// Takes one recorded change back: reads its object, verifies it, and undoes it when it holds as recorded (a
// warning and nothing else when someone changed it since; planned only in a dry run). Safe to repeat, and
// safe on a change that was never applied. An Action::unknown fails.
util::Result<void> undo(Session& session, Cluster& c, const Change& change);

} // namespace meshlink::plugin::mesh
