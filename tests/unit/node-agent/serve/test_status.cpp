#include "node-agent/serve/status.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace meshlink;
using namespace meshlink::agent;

namespace {

struct Sample {
    std::string name;
    std::map<std::string, std::string> labels;
    std::string value;
};

// A strict reader of the text format 0.0.4 lines we emit: comments are HELP/TYPE, each sample's family was
// declared before it, label values are unescaped.
struct Exposition {
    std::map<std::string, std::string> types;
    std::vector<Sample> samples;
};

Exposition parse(const std::string& text) {
    Exposition out;
    std::istringstream lines(text);
    std::string line;
    const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*)");
    const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|untyped))");
    const std::regex sample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+))");
    const std::regex label(R"lbl(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?)lbl");
    std::set<std::string> helped;
    while (std::getline(lines, line)) {
        std::smatch m;
        if (std::regex_match(line, m, help)) {
            helped.insert(m[1]);
        } else if (std::regex_match(line, m, type)) {
            BOOST_TEST(helped.count(m[1]) == 1u, "TYPE without HELP first: " << line);
            out.types[m[1]] = m[2];
        } else if (std::regex_match(line, m, sample)) {
            Sample s{m[1], {}, m[4]};
            BOOST_TEST(out.types.count(s.name) == 1u, "sample before its TYPE: " << line);
            std::string labels = m[3];
            for (std::sregex_iterator it(labels.begin(), labels.end(), label), end; it != end; ++it) {
                std::string value;
                const std::string raw = (*it)[2];
                for (std::size_t i = 0; i < raw.size(); ++i) {
                    if (raw[i] == '\\' && i + 1 < raw.size()) {
                        ++i;
                        value += raw[i] == 'n' ? '\n' : raw[i];
                    } else {
                        value += raw[i];
                    }
                }
                s.labels[(*it)[1]] = value;
            }
            out.samples.push_back(std::move(s));
        } else {
            BOOST_ERROR("not a line of the text format: " << line);
        }
    }
    return out;
}

const Sample* find(const Exposition& e, const std::string& name,
                   const std::map<std::string, std::string>& labels = {}) {
    for (const auto& s : e.samples) {
        if (s.name != name) {
            continue;
        }
        bool match = true;
        for (const auto& [k, v] : labels) {
            auto it = s.labels.find(k);
            match = match && it != s.labels.end() && it->second == v;
        }
        if (match) {
            return &s;
        }
    }
    return nullptr;
}

serve::AgentStatus sample_status() {
    serve::AgentStatus status;
    status.node = "n1";
    status.agent_version = "0.1.0";
    status.cilium_version = "1.16";
    status.probes = 3;
    status.last_probe_seconds = 0.25;
    status.last_probe_at = std::chrono::system_clock::from_time_t(1714567890);
    status.checks = {{"node.kernel.version", probe::Status::fail}, {"node.bpffs", probe::Status::warn}};
    status.kernel_ready = false;
    status.publish_attempts = 5;
    status.publish_errors = 2;
    status.writes = 1;
    status.last_publish_success = std::chrono::system_clock::from_time_t(1714567900);
    status.last_publish_ok = true;
    status.api_answered = true;
    return status;
}

} // namespace

BOOST_AUTO_TEST_SUITE(serve_status)

BOOST_AUTO_TEST_CASE(metrics_are_valid_text_format_with_one_series_per_check_and_status) {
    const auto exposition = parse(serve::render_metrics(sample_status()));
    BOOST_TEST(exposition.types.at("meshlink_node_check_status") == "gauge");
    BOOST_TEST(exposition.types.at("meshlink_node_probes_total") == "counter");
    BOOST_TEST(exposition.types.at("meshlink_node_publish_errors_total") == "counter");

    int series = 0;
    for (const auto& s : exposition.samples) {
        series += s.name == "meshlink_node_check_status" ? 1 : 0;
    }
    BOOST_TEST(series == 8); // 2 checks x pass|warn|fail|unknown
    BOOST_TEST(
        find(exposition, "meshlink_node_check_status", {{"check", "node.kernel.version"}, {"status", "fail"}})
            ->value == "1");
    BOOST_TEST(
        find(exposition, "meshlink_node_check_status", {{"check", "node.kernel.version"}, {"status", "pass"}})
            ->value == "0");
    BOOST_TEST(find(exposition, "meshlink_node_check_status", {{"check", "node.bpffs"}, {"status", "warn"}})
                   ->value == "1");
    BOOST_TEST(find(exposition, "meshlink_node_kernel_ready")->value == "0");
    BOOST_TEST(find(exposition, "meshlink_node_probes_total")->value == "3");
    BOOST_TEST(find(exposition, "meshlink_node_probe_duration_seconds")->value == "0.25");
    BOOST_TEST(find(exposition, "meshlink_node_publish_errors_total")->value == "2");
    BOOST_TEST(find(exposition, "meshlink_node_last_publish_success_timestamp_seconds")->value ==
               "1714567900");
    BOOST_TEST(find(exposition, "meshlink_agent_info", {{"node", "n1"}, {"cilium_version", "1.16"}})->value ==
               "1");
}

BOOST_AUTO_TEST_CASE(label_values_are_escaped) {
    auto status = sample_status();
    status.node = "we\"ird\\node\nname";
    const auto exposition = parse(serve::render_metrics(status));
    const auto* info = find(exposition, "meshlink_agent_info");
    BOOST_REQUIRE(info != nullptr);
    BOOST_TEST(info->labels.at("node") == status.node);
}

BOOST_AUTO_TEST_CASE(readiness) {
    serve::AgentStatus status;
    BOOST_TEST(!serve::is_ready(status)); // nothing probed yet
    status.probes = 1;
    BOOST_TEST(!serve::is_ready(status)); // probed, API never answered
    status.api_answered = true;
    BOOST_TEST(serve::is_ready(status)); // e.g. a 403: the API is there, the next tick retries
    status.api_answered = false;
    status.last_publish_ok = true;
    BOOST_TEST(serve::is_ready(status));
}

BOOST_AUTO_TEST_SUITE_END()
