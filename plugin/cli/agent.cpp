// `kubectl meshlink agent install | uninstall | status`: flags and printing; the work is in plugin/agent/.

#include "plugin/agent/cluster_api.hpp"
#include "plugin/agent/install.hpp"
#include "plugin/agent/manifests.hpp"
#include "plugin/agent/node_reports.hpp"
#include "plugin/cli/connect.hpp"
#include "plugin/cli/verb_handlers.hpp"
#include "plugin/defaults.hpp"
#include "util/cli_options.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/terminal.hpp"
#include "util/verbs.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

namespace meshlink::plugin::cli {
namespace {

namespace ag = meshlink::plugin::agent;
using Tone = util::Terminal::Tone;

[[noreturn]] void fail(const util::Error& error) {
    throw util::Fatal(error);
}

void no_positionals(const Invocation& invocation, const cxxopts::ParseResult& parsed, std::string_view verb) {
    for (const auto& arg : util::VerbOptions::positionals(parsed)) {
        if (!arg.empty()) {
            throw util::UsageError(
                fmt::format("agent {} takes no arguments, got \"{}\"\nRun '{} agent {} --help' for usage.",
                            verb, arg, invocation.program, verb));
        }
    }
}

int run_install(Invocation& invocation, const std::vector<std::string>& args) {
    util::VerbOptions options(
        invocation.program, "agent install [--image IMAGE] [--cilium-version X.Y] [--dry-run [-o yaml|json]]",
        "Install or update the meshlink node agent: namespace meshlink-system, its ServiceAccount and RBAC, "
        "the ValidatingAdmissionPolicy that limits it to its own Node (where the API server serves "
        "admissionregistration.k8s.io/v1 validatingadmissionpolicies, Kubernetes 1.30 and later), and "
        "the DaemonSet (manifests/ as `kubectl kustomize manifests/` renders them, embedded in this plugin). "
        "Objects that already match are left alone, so running it again changes nothing. The agent judges "
        "nodes for --cilium-version, by default the version of the cluster's kube-system/cilium DaemonSet.");
    options.add()("image", "Run this agent image instead of the manifest's", cxxopts::value<std::string>())(
        "cilium-version",
        "The Cilium release the agents judge nodes for, X.Y (default: detected from the cluster)",
        cxxopts::value<std::string>())(
        "dry-run",
        "Print the objects (-o yaml, the default, or json) and change nothing; works offline, so the "
        "Cilium version is only what --cilium-version says");
    auto parsed = options.parse(args);
    if (!parsed) {
        return 0;
    }
    no_positionals(invocation, *parsed, "install");
    ag::RenderOptions render;
    if (parsed->count("image") > 0) {
        render.image = (*parsed)["image"].as<std::string>();
        if (render.image->empty()) {
            throw util::UsageError("--image needs a non-empty IMAGE");
        }
    }
    if (parsed->count("cilium-version") > 0) {
        std::string normalized;
        const auto text = (*parsed)["cilium-version"].as<std::string>();
        if (!ag::parse_cilium_release(text, normalized)) {
            throw util::UsageError("invalid --cilium-version \"" + text + "\": want X.Y, e.g. 1.16");
        }
        render.cilium_version = normalized;
    }

    if (parsed->count("dry-run") > 0) {
        const std::string format = output_format(invocation, "yaml", {"yaml", "json"});
        const auto objects = ag::render_objects(render);
        if (format == "yaml") {
            std::cout << ag::to_yaml(objects);
        } else {
            nlohmann::json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", objects}};
            std::cout << list.dump(4) << "\n";
        }
        return 0;
    }
    if (invocation.flags.output) {
        throw util::UsageError("-o applies to agent install --dry-run only");
    }

    auto client = connect(invocation.flags);
    auto api = ag::make_cluster_api(client);
    if (!render.cilium_version) {
        auto detected = ag::detect_cilium_version(*api);
        if (!detected) {
            fail(detected.error());
        }
        if (*detected) {
            render.cilium_version = **detected;
            std::cerr << fmt::format("Cilium {} found ({}/{}): the agents judge nodes for it\n", **detected,
                                     defaults::k_cilium_namespace, defaults::k_cilium_daemonset);
        } else {
            std::cerr << fmt::format(
                "No Cilium DaemonSet with a versioned image in {}/{}: the agents judge nodes "
                "for the newest Cilium they know (pass --cilium-version X.Y to choose)\n",
                defaults::k_cilium_namespace, defaults::k_cilium_daemonset);
        }
    }
    ag::ApplyOptions apply_options;
    apply_options.progress = [](const std::string& message) { std::cerr << message << "\n"; };
    auto split = ag::split_served(*api, ag::render_objects(render));
    if (!split) {
        fail(split.error());
    }
    auto steps = ag::apply_objects(*api, split->served, apply_options);
    if (!steps) {
        fail(steps.error());
    }
    for (const auto& step : *steps) {
        std::cout << step.object << " " << ag::to_string(step.action) << "\n";
    }
    for (const auto& object : split->unserved) {
        std::cout << ag::describe(object) << " skipped (not served)\n";
    }
    if (!split->unserved.empty()) {
        std::cerr << fmt::format(
            "This API server does not serve {} validatingadmissionpolicies (Kubernetes before 1.30), so the "
            "policies that limit each agent to its own Node's meshlink.io/ labels and annotations and to its "
            "own Lease are not installed: the agents' ServiceAccount can patch every Node and write any "
            "Lease "
            "in meshlink-system (README \"The DaemonSet\"). Run {} agent install again after upgrading the "
            "control plane to 1.30 or later.\n",
            split->unserved.front().value("apiVersion", ""), invocation.program);
    }
    std::cerr << fmt::format("Each node's report appears once its agent runs: {} agent status\n",
                             invocation.program);
    return 0;
}

int run_uninstall(Invocation& invocation, const std::vector<std::string>& args) {
    util::VerbOptions options(
        invocation.program, "agent uninstall [--yes] [--purge-reports]",
        "Delete what agent install created: the DaemonSet, the ValidatingAdmissionPolicyBindings and "
        "ValidatingAdmissionPolicies, RoleBinding, Role, ClusterRoleBinding, ClusterRole, "
        "ServiceAccount and the meshlink-system namespace (with the agents' Leases). The reports on the "
        "Nodes (annotation meshlink.io/node-report, labels "
        "meshlink.io/kernel-ready and meshlink.io/kernel-version) stay, marked stale as they age, unless "
        "--purge-reports removes them too.");
    options.add()("yes", "Do not ask for confirmation")(
        "purge-reports", "Also remove the agents' annotation and labels from every Node");
    auto parsed = options.parse(args);
    if (!parsed) {
        return 0;
    }
    no_positionals(invocation, *parsed, "uninstall");
    const bool purge = parsed->count("purge-reports") > 0;
    auto client = connect(invocation.flags);
    const std::string where = client.config().describe();
    if (parsed->count("yes") == 0) {
        if (::isatty(STDIN_FILENO) == 0) {
            throw util::UsageError(
                "agent uninstall deletes the meshlink-system namespace; pass --yes to confirm");
        }
        std::cerr << fmt::format(
            "Delete the meshlink agent (namespace {} and its cluster-wide RBAC){} in {}? [y/N] ",
            defaults::k_agent_namespace, purge ? " and every node's report" : "", where);
        std::string answer;
        std::getline(std::cin, answer);
        if (answer != "y" && answer != "Y" && answer != "yes") {
            std::cerr << "Nothing deleted.\n";
            return 0;
        }
    }
    auto api = ag::make_cluster_api(client);
    auto split = ag::split_served(*api, ag::render_objects());
    if (!split) {
        fail(split.error());
    }
    auto steps = ag::delete_objects(*api, split->served);
    if (!steps) {
        fail(steps.error());
    }
    for (const auto& step : *steps) {
        std::cout << step.object << " " << ag::to_string(step.action) << "\n";
    }
    for (const auto& object : split->unserved) {
        std::cout << ag::describe(object) << " skipped (not served)\n";
    }
    if (purge) {
        auto purged = ag::purge_reports(*api);
        if (!purged) {
            fail(purged.error());
        }
        std::cout << fmt::format("reports removed from {} node{}\n", *purged, *purged == 1 ? "" : "s");
    }
    return 0;
}

std::string age_text(std::int64_t seconds) {
    if (seconds < 0) {
        return "0s";
    }
    if (seconds < 120) {
        return fmt::format("{}s", seconds);
    }
    if (seconds < 2 * 3600) {
        return fmt::format("{}m", seconds / 60);
    }
    if (seconds < 2 * 86400) {
        return fmt::format("{}h", seconds / 3600);
    }
    return fmt::format("{}d", seconds / 86400);
}

Tone tone_of(probe::ReportState state) {
    switch (state) {
    case probe::ReportState::fresh:
        return Tone::good;
    case probe::ReportState::stale:
        return Tone::warn;
    case probe::ReportState::missing:
    case probe::ReportState::invalid:
        return Tone::bad;
    }
    return Tone::plain;
}

void print_status_table(const ag::AgentOverview& overview, const Invocation& invocation) {
    const auto term = util::Terminal::detect(stdout);
    if (overview.daemonset_present) {
        std::cout << fmt::format(
            "DaemonSet {}/{}: {} of {} ready, image {}{}\n\n", defaults::k_agent_namespace,
            defaults::k_agent_daemonset, overview.ready, overview.desired, util::printable(overview.image),
            overview.cilium_flag.empty() ? std::string()
                                         : ", judging for Cilium " + util::printable(overview.cilium_flag));
    } else {
        std::cout << fmt::format("DaemonSet {}/{}: not installed (run {} agent install)\n\n",
                                 defaults::k_agent_namespace, defaults::k_agent_daemonset,
                                 invocation.program);
    }
    std::vector<std::array<std::string, 7>> rows;
    rows.push_back({"NODE", "REPORT", "AGE", "KERNEL-READY", "KERNEL", "CILIUM", "FAILING"});
    for (const auto& node : overview.nodes) {
        std::string failing;
        for (const auto& id : node.failing) {
            failing += (failing.empty() ? "" : ",") + id;
        }
        if (!node.problem.empty()) {
            failing = node.problem;
        }
        // Everything but the state and the age is the cluster's or the node's text.
        rows.push_back({util::printable(node.node), std::string(probe::to_string(node.state)),
                        node.age_seconds ? age_text(*node.age_seconds) : "-",
                        node.kernel_ready ? (*node.kernel_ready ? "true" : "false") : "-",
                        util::printable(node.kernel_version.value_or("-")),
                        node.cilium_version.empty() ? "-" : util::printable(node.cilium_version),
                        failing.empty() ? "-" : util::printable(failing)});
    }
    std::array<std::size_t, 7> widths{};
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    for (std::size_t r = 0; r < rows.size(); ++r) {
        std::string line;
        for (std::size_t i = 0; i < rows[r].size(); ++i) {
            std::string cell = rows[r][i];
            if (i + 1 < rows[r].size()) {
                cell.resize(widths[i] + 3, ' ');
            }
            if (r > 0 && i == 1) {
                cell = term.paint(tone_of(overview.nodes[r - 1].state), cell);
            } else if (r > 0 && i == 3 && rows[r][i] == "false") {
                cell = term.paint(Tone::bad, cell);
            }
            line += cell;
        }
        std::cout << line << "\n";
    }
    if (overview.nodes.empty()) {
        std::cout << "(no nodes)\n";
    }
    int counts[4] = {0, 0, 0, 0};
    for (const auto& node : overview.nodes) {
        ++counts[static_cast<int>(node.state)];
    }
    std::cout << fmt::format("\n{} node{}: {} fresh, {} stale, {} missing{}\n", overview.nodes.size(),
                             overview.nodes.size() == 1 ? "" : "s", counts[0], counts[1], counts[2],
                             counts[3] > 0 ? fmt::format(", {} invalid", counts[3]) : std::string());
    if (!overview.leases_problem.empty()) {
        std::cout
            << "The agents' Leases could not be read, so staleness was judged by each report's observedAt: "
            << util::printable(overview.leases_problem) << "\n";
    }
}

int run_status(Invocation& invocation, const std::vector<std::string>& args) {
    util::VerbOptions options(
        invocation.program, "agent status [-o table|json]",
        "Show the agent DaemonSet and, for every node, whether its report is fresh, stale (its agent was not "
        "heard from, by its Lease or the report's observedAt, for three probe intervals), missing or "
        "invalid, "
        "with the meshlink.io/kernel-ready label and the failing checks.");
    auto parsed = options.parse(args);
    if (!parsed) {
        return 0;
    }
    no_positionals(invocation, *parsed, "status");
    const std::string format = output_format(invocation, "table", {"table", "json"});
    auto client = connect(invocation.flags);
    auto api = ag::make_cluster_api(client);
    auto overview = ag::collect_overview(*api, std::chrono::system_clock::now());
    if (!overview) {
        fail(overview.error());
    }
    if (format == "json") {
        std::cout << ag::to_json(*overview).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
    } else {
        print_status_table(*overview, invocation);
    }
    return 0;
}

using Subcommand = util::Verb<int (*)(Invocation&, const std::vector<std::string>&)>;

constexpr Subcommand k_subcommands[] = {
    {"install", "Install or update the node agent DaemonSet (idempotent)", &run_install},
    {"uninstall", "Delete the node agent and its RBAC (--purge-reports: also the node reports)",
     &run_uninstall},
    {"status", "Show every node's report: fresh, stale, missing or invalid", &run_status},
};

} // namespace

int run_agent(Invocation& invocation) {
    auto args = invocation.args;
    const std::string command = invocation.program + " agent";
    if (const auto* sub = util::pick_verb(k_subcommands, args, {command, command + " --help"})) {
        return sub->handler(invocation, args);
    }
    std::cout << command
              << ": the meshlink node agent, a DaemonSet that reports each node's kernel readiness for "
                 "Cilium on its Node object.\n\nUsage:\n  "
              << command << " <command> [flags]\n\nCommands:\n"
              << util::verb_list(k_subcommands, 11) << "\nExit codes: 0 success, 2 usage or runtime error.\n";
    return 0;
}

} // namespace meshlink::plugin::cli
