#pragma once
// Verdicts: what the gathered facts mean for a Cilium version. Each check has a stable ID (the JSON
// contract, also read by `kubectl meshlink preflight`), a status, what was found and what to do.

#include "probe/probe.hpp"
#include "probe/requirements.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshlink::probe {

enum class Status { pass, warn, fail, unknown };

// The names the JSON document uses, one row per Status.
inline constexpr std::array<std::pair<Status, std::string_view>, 4> k_status_names{{
    {Status::pass, "pass"},
    {Status::warn, "warn"},
    {Status::fail, "fail"},
    {Status::unknown, "unknown"},
}};

// "pass", "warn", "fail", "unknown".
std::string_view to_string(Status status);

// The Status named `name`; nullopt for any other text.
constexpr std::optional<Status> parse_status(std::string_view name) {
    for (const auto& [status, text] : k_status_names) {
        if (text == name) {
            return status;
        }
    }
    return std::nullopt;
}

struct Check {
    std::string id; // "node.kernel.version"
    Status status = Status::unknown;
    std::string message; // what was found: "kernel 3.10.0-1160 < 5.10 required by Cilium 1.18"
    std::string hint;    // what to do; empty when nothing is needed
};

// Stable check IDs, in report order. Feature checks (node.feature.*) follow, one per feature_requirements().
namespace check_id {
inline constexpr std::string_view kernel_version = "node.kernel.version";
inline constexpr std::string_view kernel_config = "node.kernel.config";
inline constexpr std::string_view kernel_btf = "node.kernel.btf";
inline constexpr std::string_view bpf_features = "node.bpf.features";
inline constexpr std::string_view bpf_jit = "node.bpf.jit";
inline constexpr std::string_view modules = "node.modules";
inline constexpr std::string_view bpffs = "node.bpffs";
inline constexpr std::string_view cgroup2 = "node.cgroup2";
inline constexpr std::string_view os = "node.os";
inline constexpr std::string_view boot = "node.boot";
} // namespace check_id

// Evaluates every check against the requirements of `cilium` (see requirements_for).
std::vector<Check> evaluate(const NodeFacts& facts, CiliumVersion cilium);

// True when some check failed (exit code 1).
bool any_failed(const std::vector<Check>& checks);

} // namespace meshlink::probe
