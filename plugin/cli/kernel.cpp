// `kubectl meshlink kernel plan | upgrade | status | resume | abort | finish`: flags and printing; the work
// is in plugin/kernel/ (and on the nodes, `meshlink-agent kernel run`).

#include "plugin/agent/manifests.hpp"
#include "plugin/cli/connect.hpp"
#include "plugin/cli/verb_handlers.hpp"
#include "plugin/defaults.hpp"
#include "plugin/kernel/api.hpp"
#include "plugin/kernel/rollout.hpp"
#include "probe/defaults.hpp"
#include "util/cli_options.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"
#include "util/verbs.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

namespace meshlink::plugin::cli {
namespace {

namespace kn = meshlink::plugin::kernel;
namespace pd = meshlink::probe::defaults;
using nlohmann::json;

[[noreturn]] void fail(const util::Error& error) {
    throw util::Fatal(error);
}

std::vector<std::string> positionals(const cxxopts::ParseResult& parsed) {
    std::vector<std::string> out;
    for (const auto& arg : util::VerbOptions::positionals(parsed)) {
        if (!arg.empty()) {
            out.push_back(arg);
        }
    }
    return out;
}

void no_positionals(const Invocation& invocation, const cxxopts::ParseResult& parsed, std::string_view verb) {
    if (const auto args = positionals(parsed); !args.empty()) {
        throw util::UsageError(
            fmt::format("kernel {} takes no arguments, got \"{}\"\nRun '{} kernel {} --help' for "
                        "usage.",
                        verb, args.front(), invocation.program, verb));
    }
}

// The nodes `plan` and `upgrade` consider: the named ones, those matching -l, or all.
std::vector<json> selected_nodes(kn::KernelApi& api, const std::string& selector,
                                 const std::vector<std::string>& names) {
    auto nodes = api.list(kube::api_path("", "v1", "nodes"), selector);
    if (!nodes) {
        fail(nodes.error().with_context("listing nodes"));
    }
    if (names.empty()) {
        return std::move(*nodes);
    }
    std::vector<json> chosen;
    for (const auto& name : names) {
        auto it = std::find_if(nodes->begin(), nodes->end(), [&](const json& node) {
            return node.contains("metadata") && node["metadata"].value("name", "") == name;
        });
        if (it == nodes->end()) {
            throw util::UsageError(
                fmt::format("node \"{}\" not found{}", name,
                            selector.empty() ? "" : " among those matching -l " + selector));
        }
        chosen.push_back(*it);
    }
    return chosen;
}

void add_selection_flags(util::VerbOptions& options) {
    options.add()("l,selector", "Only nodes matching this label selector", cxxopts::value<std::string>())(
        "flavor", "ELRepo kernel flavor: ml (mainline) or lt (long-term)",
        cxxopts::value<std::string>()->default_value("ml"))(
        "version", "The kernel version to install (default: the newest the repository has)",
        cxxopts::value<std::string>());
}

void print_verdicts(const std::vector<kn::NodeVerdict>& verdicts) {
    std::cout << fmt::format("{:<20} {:<10} {:<32} {}\n", "NODE", "VERDICT", "KERNEL", "WHY");
    for (const auto& verdict : verdicts) {
        std::cout << fmt::format("{:<20} {:<10} {:<32} {}\n", verdict.node, kn::to_string(verdict.verdict),
                                 verdict.kernel.empty() ? "?" : verdict.kernel, verdict.reason);
    }
}

int run_plan(Invocation& invocation, const std::vector<std::string>& args) {
    util::VerbOptions options(
        invocation.program, "kernel plan [-l SELECTOR | NODE...] [--flavor ml|lt] [--version V] [-o json]",
        "Show which nodes need a new kernel for the cluster's Cilium (a node.kernel.* check fails in the "
        "node "
        "report of `kubectl meshlink agent install`), and which cannot take an ELRepo kernel and why (EL7, "
        "not Enterprise Linux, Secure Boot, /boot space). Writes nothing.");
    add_selection_flags(options);
    auto parsed = options.parse(args);
    if (!parsed) {
        return 0;
    }
    const std::string format = output_format(invocation, "table", {"table", "json"});
    auto client = connect(invocation.flags);
    auto api = kn::make_kernel_api(client);
    const std::string selector = parsed->count("selector") > 0 ? (*parsed)["selector"].as<std::string>() : "";
    const auto verdicts = kn::judge_nodes(selected_nodes(*api, selector, positionals(*parsed)));
    if (format == "json") {
        std::cout << kn::to_json(verdicts).dump(2) << "\n";
    } else {
        print_verdicts(verdicts);
        const auto upgrade = std::count_if(verdicts.begin(), verdicts.end(),
                                           [](const auto& v) { return v.verdict == kn::Verdict::upgrade; });
        std::cerr << fmt::format("{} node(s) to upgrade; `{} kernel upgrade` starts the rollout\n", upgrade,
                                 invocation.program);
    }
    return 0;
}

std::chrono::seconds seconds_flag(const cxxopts::ParseResult& parsed, const char* name,
                                  std::chrono::seconds fallback) {
    if (parsed.count(name) == 0) {
        return fallback;
    }
    const auto text = parsed[name].as<std::string>();
    auto value = util::parse_go_duration(text);
    if (!value || *value < std::chrono::seconds(1) || *value > pd::k_rollout_max_timeout) {
        throw util::UsageError(fmt::format("invalid --{} \"{}\": want a duration such as 10m", name, text));
    }
    return std::chrono::duration_cast<std::chrono::seconds>(*value);
}

std::string read_file_or_throw(const std::string& path, const char* flag) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw util::UsageError(fmt::format("--{}: cannot read {}", flag, path));
    }
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().size() > pd::k_rollout_max_key_bytes) {
        throw util::UsageError(fmt::format("--{}: {} is larger than a public key", flag, path));
    }
    return text.str();
}

// --wait: one stderr line per node state change until the rollout is complete (0) or halted (1).
int follow(kn::KernelApi& api) {
    std::map<std::string, std::string> seen;
    for (;;) {
        auto status = kn::read_status(api);
        if (!status) {
            fail(status.error());
        }
        for (const auto& row : status->nodes) {
            const std::string state = row.progress ? std::string(probe::to_string(row.progress->state))
                                                   : std::string("not-started");
            if (seen[row.node] != state) {
                seen[row.node] = state;
                std::cerr << fmt::format("{}: {}{}\n", row.node, state,
                                         row.progress ? " (" + row.progress->message + ")" : "");
            }
        }
        const std::string phase = status->phase();
        if (phase == "complete" || phase == "halted" || phase == "none") {
            std::cerr << "Rollout " << phase << ".\n";
            return phase == "halted" ? 1 : 0;
        }
        std::this_thread::sleep_for(defaults::k_rollout_follow_interval);
    }
}

int run_upgrade(Invocation& invocation, const std::vector<std::string>& args) {
    util::VerbOptions options(
        invocation.program,
        "kernel upgrade [-l SELECTOR | NODE...] [--flavor ml|lt] [--version V] [--max-unavailable N] "
        "[--drain-timeout D] [--delete-emptydir-data] [--repo-url URL --repo-key FILE --repo-key-fingerprint "
        "FPR] "
        "[--image IMAGE] [--yes] [--wait] [--dry-run [-o yaml|json]]",
        "Start the kernel rollout: write the plan (ConfigMap meshlink-system/meshlink-kernel-plan), its lock "
        "(Lease "
        "meshlink-system/meshlink-kernel-rollout) and the privileged DaemonSet meshlink-kernel on the "
        "planned nodes. "
        "Each node then, one at a time and in the plan's order: takes the lock, stages the new kernel as a "
        "one-shot "
        "boot, cordons, drains through the Eviction API (PodDisruptionBudgets honoured), reboots through "
        "logind, "
        "confirms the new kernel, waits for the node and its Cilium agent, uncordons and lets go. A failure "
        "halts "
        "the rollout until `kernel resume` or `abort`. Without NODE or -l, the nodes `kernel plan` says to "
        "upgrade.");
    add_selection_flags(options);
    options.add()("max-unavailable", "Nodes upgraded at once", cxxopts::value<int>()->default_value("1"))(
        "drain-timeout", "How long evictions are retried (PodDisruptionBudgets) before the node fails",
        cxxopts::value<std::string>())(
        "health-timeout", "How long after the boot the node and its Cilium agent may take to be ready",
        cxxopts::value<std::string>())("delete-emptydir-data",
                                       "Also evict pods with emptyDir volumes (their data is lost)")(
        "cilium-version", "Judge the new kernel for this Cilium release, X.Y (default: the cluster's)",
        cxxopts::value<std::string>())("repo-url", "Install from this repository instead of ELRepo's",
                                       cxxopts::value<std::string>())(
        "repo-key", "The repository's public key (armored file)", cxxopts::value<std::string>())(
        "repo-key-fingerprint", "The key's fingerprint (40 hex digits): the key is trusted only with it",
        cxxopts::value<std::string>())("image", "Run this agent image instead of the manifest's",
                                       cxxopts::value<std::string>())("yes", "Do not ask before writing")(
        "dry-run", "Print the objects it would write (-o yaml, the default, or json) and write nothing")(
        "wait", "Follow the rollout on stderr until it is complete (exit 0) or halted (exit 1)");
    auto parsed = options.parse(args);
    if (!parsed) {
        return 0;
    }
    const bool dry_run = parsed->count("dry-run") > 0;
    const std::string format = dry_run ? output_format(invocation, "yaml", {"yaml", "json"}) : "";
    if (!dry_run && invocation.flags.output) {
        throw util::UsageError("-o applies to kernel upgrade --dry-run only");
    }
    probe::RolloutPlan plan;
    plan.id = kn::new_rollout_id();
    plan.created_at = util::format_rfc3339(std::chrono::system_clock::now());
    plan.created_by = "kubectl-meshlink";
    plan.flavor = (*parsed)["flavor"].as<std::string>();
    if (plan.flavor != "ml" && plan.flavor != "lt") {
        throw util::UsageError("invalid --flavor \"" + plan.flavor + "\": use ml or lt");
    }
    if (parsed->count("version") > 0) {
        plan.version = (*parsed)["version"].as<std::string>();
        if (!probe::valid_kernel_version(*plan.version)) {
            throw util::UsageError("invalid --version \"" + *plan.version + "\": want e.g. 7.1.9");
        }
    }
    plan.max_unavailable = (*parsed)["max-unavailable"].as<int>();
    if (plan.max_unavailable < 1) {
        throw util::UsageError("--max-unavailable must be at least 1");
    }
    plan.drain_timeout = seconds_flag(*parsed, "drain-timeout", pd::k_rollout_drain_timeout);
    plan.health_timeout = seconds_flag(*parsed, "health-timeout", pd::k_rollout_health_timeout);
    plan.delete_emptydir_data = parsed->count("delete-emptydir-data") > 0;
    if (parsed->count("repo-url") > 0) {
        plan.repo_url = (*parsed)["repo-url"].as<std::string>();
    }
    if (parsed->count("repo-key") > 0) {
        plan.repo_key = read_file_or_throw((*parsed)["repo-key"].as<std::string>(), "repo-key");
        if (parsed->count("repo-key-fingerprint") == 0) {
            throw util::UsageError(
                "--repo-key needs --repo-key-fingerprint: a key is trusted only by its fingerprint");
        }
        plan.repo_key_fingerprint = (*parsed)["repo-key-fingerprint"].as<std::string>();
        if (!probe::valid_fingerprint(*plan.repo_key_fingerprint)) {
            throw util::UsageError("invalid --repo-key-fingerprint: want 40 hex digits");
        }
    }
    std::optional<std::string> image;
    if (parsed->count("image") > 0) {
        image = (*parsed)["image"].as<std::string>();
    }

    auto client = connect(invocation.flags);
    auto api = kn::make_kernel_api(client);
    const std::string selector = parsed->count("selector") > 0 ? (*parsed)["selector"].as<std::string>() : "";
    const auto names = positionals(*parsed);
    const auto verdicts = kn::judge_nodes(selected_nodes(*api, selector, names));
    for (const auto& verdict : verdicts) {
        if (verdict.verdict == kn::Verdict::cannot) {
            if (!names.empty()) {
                throw util::Fatal(
                    fmt::format("node {} cannot take an ELRepo kernel: {}", verdict.node, verdict.reason));
            }
            continue;
        }
        if (verdict.verdict == kn::Verdict::upgrade || !names.empty()) {
            plan.nodes.push_back(verdict.node);
        }
    }
    if (!names.empty()) {
        plan.nodes = names; // the order the user gave is the order of the rollout
        plan.selection = fmt::format("{} node(s) named", names.size());
    } else {
        plan.selection = selector.empty() ? "every node that fails node.kernel.*" : "-l " + selector;
    }
    if (plan.nodes.empty()) {
        std::cerr << "No node needs a new kernel (see `" << invocation.program << " kernel plan`).\n";
        return 0;
    }
    if (parsed->count("cilium-version") > 0) {
        std::string normalized;
        const auto text = (*parsed)["cilium-version"].as<std::string>();
        if (!agent::parse_cilium_release(text, normalized)) {
            throw util::UsageError("invalid --cilium-version \"" + text + "\": want X.Y");
        }
        plan.cilium = normalized;
    } else {
        for (const auto& verdict : verdicts) {
            if (!verdict.cilium.empty() &&
                std::find(plan.nodes.begin(), plan.nodes.end(), verdict.node) != plan.nodes.end()) {
                plan.cilium = verdict.cilium;
                break;
            }
        }
        if (plan.cilium.empty()) {
            throw util::UsageError(
                "no node report names the cluster's Cilium release: pass --cilium-version X.Y");
        }
    }
    const auto objects = kn::rollout_objects(plan, image);
    if (dry_run) {
        if (format == "yaml") {
            std::cout << agent::to_yaml(objects);
        } else {
            std::cout << json({{"apiVersion", "v1"}, {"kind", "List"}, {"items", objects}}).dump(4) << "\n";
        }
        return 0;
    }
    std::cerr << fmt::format("Kernel rollout {}: kernel-{} {} for Cilium {}, {} at a time, in this order:\n",
                             plan.id, plan.flavor, plan.version.value_or("(newest)"), plan.cilium,
                             plan.max_unavailable);
    for (const auto& node : plan.nodes) {
        std::cerr << "  " << node << "\n";
    }
    if (parsed->count("yes") == 0) {
        if (::isatty(STDIN_FILENO) == 0) {
            throw util::UsageError("kernel upgrade changes nodes: pass --yes to start it without a terminal");
        }
        std::cerr << "Cordon, drain and reboot these nodes one by one? [y/N] ";
        std::string answer;
        std::getline(std::cin, answer);
        if (answer != "y" && answer != "Y" && answer != "yes") {
            std::cerr << "Nothing was written.\n";
            return 1;
        }
    }
    if (auto started =
            kn::start_rollout(*api, objects, [](const std::string& line) { std::cerr << line << "\n"; });
        !started) {
        fail(started.error());
    }
    std::cerr << fmt::format("Started. Follow it with `{} kernel status`.\n", invocation.program);
    return parsed->count("wait") > 0 ? follow(*api) : 0;
}

int run_kernel_status(Invocation& invocation, const std::vector<std::string>& args) {
    util::VerbOptions options(
        invocation.program, "kernel status [-o json] [--watch]",
        "Show the kernel rollout: its plan, who holds the lock, each node's state and last "
        "message, and why it is halted. Exit code 1 when it is halted.");
    options.add()("watch", "Print again every few seconds until the rollout is complete or halted");
    auto parsed = options.parse(args);
    if (!parsed) {
        return 0;
    }
    no_positionals(invocation, *parsed, "status");
    const std::string format = output_format(invocation, "table", {"table", "json"});
    auto client = connect(invocation.flags);
    auto api = kn::make_kernel_api(client);
    for (;;) {
        auto status = kn::read_status(*api);
        if (!status) {
            fail(status.error());
        }
        std::cout << (format == "json" ? to_json(*status).dump(2) + "\n" : kn::status_text(*status));
        std::cout.flush();
        const std::string phase = status->phase();
        if (parsed->count("watch") == 0 || phase == "complete" || phase == "halted" || phase == "none") {
            return phase == "halted" ? 1 : 0;
        }
        std::this_thread::sleep_for(defaults::k_rollout_follow_interval);
    }
}

int run_resume(Invocation& invocation, const std::vector<std::string>& args) {
    util::VerbOptions options(
        invocation.program, "kernel resume [NODE...] [--skip]",
        "Continue a halted rollout: each failed node (or the ones named) tries again from "
        "the start, or with --skip is left on its kernel (uncordoned unless it was cordoned "
        "before) and the next node goes on. Fix what failed first: the failure is shown "
        "again.");
    options.add()("skip", "Leave the failed node(s) out instead of retrying");
    auto parsed = options.parse(args);
    if (!parsed) {
        return 0;
    }
    auto client = connect(invocation.flags);
    auto api = kn::make_kernel_api(client);
    const bool skip = parsed->count("skip") > 0;
    auto asked = kn::resume(*api, positionals(*parsed), skip, std::chrono::system_clock::now());
    if (!asked) {
        fail(asked.error());
    }
    for (const auto& [node, failure] : *asked) {
        std::cout << fmt::format("node {}: {} (it failed: {})\n", node, skip ? "skipped" : "retried",
                                 failure);
    }
    return 0;
}

int run_abort(Invocation& invocation, const std::vector<std::string>& args) {
    util::VerbOptions options(
        invocation.program, "kernel abort",
        "Stop the rollout: no node starts any more; a node that has not rebooted yet rolls "
        "its staged kernel back and is uncordoned, a rebooting one finishes its step.");
    auto parsed = options.parse(args);
    if (!parsed) {
        return 0;
    }
    no_positionals(invocation, *parsed, "abort");
    auto client = connect(invocation.flags);
    auto api = kn::make_kernel_api(client);
    if (auto aborted = kn::abort_rollout(*api, std::chrono::system_clock::now()); !aborted) {
        fail(aborted.error());
    }
    std::cout << "Aborted: no node starts any more.\n";
    return 0;
}

int run_finish(Invocation& invocation, const std::vector<std::string>& args) {
    util::VerbOptions options(
        invocation.program, "kernel finish",
        "Remove the rollout once no node is in progress: the privileged DaemonSet "
        "meshlink-kernel, its ServiceAccount and RBAC, the plan and the lock. The nodes' "
        "meshlink.io/kernel-upgrade annotations stay as the record of what happened.");
    auto parsed = options.parse(args);
    if (!parsed) {
        return 0;
    }
    no_positionals(invocation, *parsed, "finish");
    auto client = connect(invocation.flags);
    auto api = kn::make_kernel_api(client);
    auto deleted = kn::finish(*api);
    if (!deleted) {
        fail(deleted.error());
    }
    for (const auto& object : *deleted) {
        std::cout << "deleted " << object << "\n";
    }
    return 0;
}

using Subcommand = util::Verb<int (*)(Invocation&, const std::vector<std::string>&)>;

constexpr Subcommand k_subcommands[] = {
    {"plan",
     "Which nodes need a new kernel for this cluster's Cilium, and which cannot take one (writes nothing)",
     &run_plan},
    {"upgrade", "Start the rollout: plan, lock and the privileged DaemonSet on the planned nodes",
     &run_upgrade},
    {"status", "Each node's state, the lock, and why the rollout is halted", &run_kernel_status},
    {"resume", "Retry (or --skip) the failed node and continue", &run_resume},
    {"abort", "No node starts any more; nodes in progress finish or undo their step", &run_abort},
    {"finish", "Remove the privileged DaemonSet, its RBAC, the plan and the lock", &run_finish},
};

} // namespace

int run_kernel(Invocation& invocation) {
    auto args = invocation.args;
    const std::string command = invocation.program + " kernel";
    if (const auto* sub = util::pick_verb(k_subcommands, args, {command, command + " --help"})) {
        return sub->handler(invocation, args);
    }
    std::cout
        << command
        << ": upgrade the nodes whose kernel is too old for Cilium to ELRepo kernel-ml/lt, one node at a "
           "time.\n\nUsage:\n  "
        << command << " <command> [flags]\n\nCommands:\n"
        << util::verb_list(k_subcommands, 12)
        << "\nExit codes: 0 success, 1 halted (status) or declined (upgrade), 2 usage or runtime error.\n";
    return 0;
}

} // namespace meshlink::plugin::cli
