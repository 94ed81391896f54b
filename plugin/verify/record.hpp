#pragma once
// Where the last results of `kubectl meshlink verify` and `demo verify` live, so `status` can show each as
// one line: ConfigMap <cilium namespace>/meshlink-verify, one data key per verb (mesh.json, demo.json). It is
// owned (ownerReferences) by the join journal's ConfigMap, so the garbage collector removes it together with
// the journal at the last `leave`; `demo delete` removes the demo's key, and the ConfigMap once it is empty.
// Nobody has to clean it up by hand.

#include "plugin/demo/api.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>

namespace meshlink::plugin::verify {

struct LastResult {
    std::string result;  // pass | fail
    std::string at;      // RFC 3339 UTC
    std::string summary; // one line
};

// Writes `result` under `key` (creating the ConfigMap, owned by the journal when there is one).
util::Result<void> record_result(demo::DemoApi& api, std::string_view key, const LastResult& result);

// Removes `key`; deletes the ConfigMap when nothing else is in it. Absent already = success.
util::Result<void> forget_result(demo::DemoApi& api, std::string_view key);

// The results a ConfigMap holds, by key; entries that are not what record_result writes are skipped (the
// ConfigMap is cluster data anyone with access to the namespace can edit).
std::map<std::string, LastResult> parse_results(const nlohmann::json& config_map);

} // namespace meshlink::plugin::verify
