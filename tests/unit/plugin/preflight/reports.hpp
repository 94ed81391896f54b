#pragma once
// Node objects carrying agent reports made by the real probe over the fixture roots in tests/fixtures/nodes/.

#include "probe/defaults.hpp"
#include "probe/report.hpp"
#include "util/time.hpp"

#include <fmt/chrono.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>

namespace meshlink::plugin::preflight::testing {

// The probe's document for a fixture, judged by the agent for `agent_cilium`.
inline nlohmann::json probe_document(std::string_view fixture, probe::CiliumVersion agent_cilium) {
    const std::filesystem::path base =
        std::filesystem::path(MESHLINK_SOURCE_DIR) / "tests/fixtures/nodes" / fixture;
    probe::ProbeOptions options;
    options.host = probe::Host{base / "root", base / "proc", base / "sys", {}};
    return nlohmann::json::parse(probe::to_json(probe::make_report(options, agent_cilium)).dump());
}

// A Node named `name` with the report of `fixture` observed `age` before `now`; an empty fixture gives a Node
// without a report.
inline nlohmann::json node_with_report(std::string name, std::string_view fixture,
                                       std::chrono::system_clock::time_point now,
                                       std::chrono::seconds age = std::chrono::seconds(60),
                                       int interval = 600, probe::CiliumVersion agent_cilium = {1, 20}) {
    nlohmann::json node = {{"apiVersion", "v1"},
                           {"kind", "Node"},
                           {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
                           {"spec", nlohmann::json::object()}};
    if (!fixture.empty()) {
        auto doc = probe_document(fixture, agent_cilium);
        doc["node"] = name;
        doc["observedAt"] = util::format_rfc3339(now - age);
        doc["intervalSeconds"] = interval;
        node["metadata"]["annotations"][std::string(probe::defaults::k_report_annotation)] = doc.dump();
    }
    return node;
}

} // namespace meshlink::plugin::preflight::testing
