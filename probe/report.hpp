#pragma once
// The probe's JSON document: `meshlink-agent probe -o json` prints it, the DaemonSet publishes it as a node
// annotation, and `kubectl meshlink preflight` reads it. Its shape is a contract (README, "Node probe"):
// add fields freely, but renaming or removing one needs a new schemaVersion.

#include "probe/checks.hpp"
#include "probe/probe.hpp"
#include "probe/requirements.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace meshlink::probe {

inline constexpr int k_schema_version = 1;

struct Report {
    CiliumVersion cilium;
    bool extrapolated = false; // cilium is newer than the requirements table; the newest row was used
    NodeFacts facts;
    std::vector<Check> checks;
};

// Gathers the facts and evaluates them for `cilium`.
Report make_report(const ProbeOptions& options, CiliumVersion cilium);

// {"schemaVersion":1, "node":..., "ciliumVersion":"1.20", "facts":{...}, "checks":[...]}: unknown facts are
// null, with the reason next to them in an "error" field.
nlohmann::ordered_json to_json(const Report& report);

// The document as text; `indent` < 0 gives one line (the annotation). Bytes that are not UTF-8 (a node's
// files can hold anything) are replaced with U+FFFD instead of failing.
std::string to_json_text(const Report& report, int indent = -1);

// The inverse of the "facts" part of to_json: the facts of a published document (the whole document, so
// the node name comes along), for judging them again against another Cilium version (`kubectl meshlink
// preflight` uses the cluster's). Tolerant: a missing field or one of the wrong type reads as unknown, never
// as an error, so an older or newer agent's document still gives what it can.
NodeFacts facts_from_json(const nlohmann::json& document);

} // namespace meshlink::probe
