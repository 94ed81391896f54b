#include "plugin/preflight/local.hpp"

#include "plugin/defaults.hpp"
#include "probe/report.hpp"
#include "util/json_text.hpp"
#include "util/subprocess.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <system_error>

namespace meshlink::plugin::preflight {
namespace {

// The node probe runs in the `meshlink-agent` binary, not in the plugin: the probe's kernel-facing code
// (libbpf, libelf, libkmod) stays out of kubectl-meshlink, which every kubectl meshlink call loads, and this
// machine is judged by exactly the code that judges the cluster's nodes (the same binary the DaemonSet runs,
// and the same re-judging of its facts as for published reports). The Krew archive ships meshlink-agent next
// to kubectl-meshlink.
std::optional<std::filesystem::path> find_agent() {
    std::error_code error;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (!error) {
        auto beside = self.parent_path() / defaults::k_agent_binary;
        if (::access(beside.c_str(), X_OK) == 0) {
            return beside;
        }
    }
    return util::find_executable(std::string(defaults::k_agent_binary));
}

Check probe_unavailable(std::string message) {
    Check check;
    check.id = "node.probe";
    check.scope = Scope::node;
    check.cluster = "local";
    check.status = Status::unknown;
    check.message = "this machine: " + std::move(message);
    check.hint = fmt::format("put {} (from the same release archive as kubectl-meshlink) next to "
                             "kubectl-meshlink or on PATH",
                             defaults::k_agent_binary);
    return check;
}

} // namespace

std::vector<Check> local_checks(const LocalOptions& options) {
    const auto agent = find_agent();
    if (!agent) {
        return {probe_unavailable(fmt::format(
            "cannot probe: {} is neither next to kubectl-meshlink nor on PATH", defaults::k_agent_binary))};
    }
    util::SubprocessSpec spec;
    spec.program = agent->string();
    spec.args = {"probe",
                 "-o",
                 "json",
                 "--root",
                 options.host.root.string(),
                 "--proc",
                 options.host.proc.string(),
                 "--sys",
                 options.host.sys.string(),
                 "--cilium-version",
                 probe::to_string(options.cilium)};
    if (!options.bpf) {
        spec.args.emplace_back("--skip-bpf");
    }
    spec.env = util::environment_with({});
    spec.timeout = defaults::k_local_probe_timeout;
    auto ran = util::run_subprocess(spec);
    if (!ran) {
        return {probe_unavailable(fmt::format("{} probe: {}", agent->string(), ran.error().message))};
    }
    // Exit 1 means "a check failed", with the report on stdout like exit 0.
    if (ran->term_signal != 0 || (ran->exit_code != 0 && ran->exit_code != 1)) {
        return {probe_unavailable(fmt::format("{} probe {} (exit {}, signal {})", agent->string(), "failed",
                                              ran->exit_code, ran->term_signal))};
    }
    auto document = util::parse_json(ran->stdout_data).value_or(nlohmann::json());
    if (!document.is_object()) {
        return {probe_unavailable(fmt::format("{} probe printed no JSON report", agent->string()))};
    }
    const probe::NodeFacts facts = probe::facts_from_json(document);
    const std::string node = facts.node.empty() ? std::string("this machine") : facts.node;
    std::vector<Check> out;
    for (auto& verdict : probe::evaluate(facts, options.cilium)) {
        Check check = from_probe(std::move(verdict), "local");
        check.message = node + ": " + check.message;
        NodeCounts counts;
        counts.total = 1;
        counts.pass = check.status == Status::pass ? 1 : 0;
        counts.warn = check.status == Status::warn ? 1 : 0;
        counts.fail = check.status == Status::fail ? 1 : 0;
        counts.unknown = check.status == Status::unknown ? 1 : 0;
        if (check.status == Status::fail) {
            counts.failing.push_back(node);
        }
        check.nodes = std::move(counts);
        out.push_back(std::move(check));
    }
    return out;
}

} // namespace meshlink::plugin::preflight
