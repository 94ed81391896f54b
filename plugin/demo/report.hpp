#pragma once
// How `demo verify` shows its result: a table for people, the whole result as JSON (schemaVersion 1, README
// "Demo"), and the one line `status` shows for the last run.

#include "plugin/demo/verdict.hpp"
#include "util/terminal.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace meshlink::plugin::demo {

struct DemoReport {
    std::string ns;
    std::vector<std::string> clusters;
    int requests = 0;
    int pod_requests = 0;
    std::vector<Finding> findings;
    std::vector<DirectionResult> directions;
    bool pass = false;
};

std::string render_table(const DemoReport& report, const util::Terminal& term);
nlohmann::json render_json(const DemoReport& report);
// "cluster1: cluster1 11, cluster2 9; cluster2: cluster1 8, cluster2 12" (replies per direction), and the
// first cause when it failed.
std::string summary_line(const DemoReport& report);

} // namespace meshlink::plugin::demo
