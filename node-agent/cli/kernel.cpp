// `meshlink-agent kernel plan|stage|confirm|rollback|status`: flags, then node-agent/kernel/ does the work,
// then a table or the JSON document (node-agent/kernel/report.hpp).

#include "node-agent/cli/probe_flags.hpp"
#include "node-agent/cli/verb_handlers.hpp"
#include "node-agent/defaults.hpp"
#include "node-agent/kernel/keys.hpp"
#include "node-agent/kernel/report.hpp"
#include "node-agent/kernel/upgrade.hpp"
#include "util/cli_options.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/terminal.hpp"
#include "util/verbs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <optional>

namespace meshlink::agent::cli {
namespace {

namespace k = meshlink::agent::kernel;

struct Common {
    std::unique_ptr<k::Host> host;
    bool json = false;
};

void add_common(util::VerbOptions& options) {
    options.add()("root",
                  "The host's / (the DaemonSet mounts it at /host); files are read and written under it",
                  cxxopts::value<std::string>())("proc", "The host's procfs (default /proc)",
                                                 cxxopts::value<std::string>())(
        "sys", "The host's sysfs (default /sys)", cxxopts::value<std::string>())(
        "host-commands",
        "How the host's tools run: nsenter (the host's dnf, rpm, grub2-editenv in PID 1's namespaces) or "
        "local "
        "(this machine's tools against --root: dnf --installroot, rpm --root, grub-editenv)",
        cxxopts::value<std::string>()->default_value("nsenter"))(
        "o,output", "Output format: table or json", cxxopts::value<std::string>()->default_value("table"));
}

void add_upgrade(util::VerbOptions& options) {
    options.add()("flavor", "ELRepo kernel flavor: ml (mainline) or lt (long-term)",
                  cxxopts::value<std::string>()->default_value("ml"))(
        "version", "Kernel version to install (7.1.9 or 7.1.9-1.el9.elrepo); default: the newest available",
        cxxopts::value<std::string>())(
        "repo-url", "Kernel repository (baseurl; default ELRepo's kernel repository; required on EL7)",
        cxxopts::value<std::string>())(
        "repo-key",
        "Signing key file to trust instead of the compiled-in ELRepo keys (must match ELRepo's pinned "
        "fingerprints unless --repo-key-fingerprint names your own key)",
        cxxopts::value<std::string>())(
        "repo-key-fingerprint",
        "Full fingerprint (40 hex digits) of the key in --repo-key, for your own re-signing key",
        cxxopts::value<std::string>())(
        "cilium-version",
        "Judge the candidate kernel for this Cilium release, X.Y (default: the newest known, " +
            probe::to_string(probe::newest_cilium()) + ")",
        cxxopts::value<std::string>());
}

Common common(const cxxopts::ParseResult& flags, const std::string& program, std::string_view verb) {
    if (auto extra = util::VerbOptions::positionals(flags); !extra.empty()) {
        throw util::UsageError(
            fmt::format("kernel {} takes no arguments, got \"{}\"\nRun '{} kernel {} --help' for usage.",
                        verb, extra.front(), program, verb));
    }
    const std::string output = flags["output"].as<std::string>();
    if (output != "table" && output != "json") {
        throw util::UsageError("unknown output format \"" + output + "\": use table or json");
    }
    auto host = k::make_host(flags["host-commands"].as<std::string>(), host_flags(flags));
    if (!host) {
        throw util::UsageError(host.error().message);
    }
    return Common{std::move(*host), output == "json"};
}

k::UpgradeOptions upgrade_options(const cxxopts::ParseResult& flags) {
    k::UpgradeOptions options;
    options.flavor = flags["flavor"].as<std::string>();
    if (options.flavor != "ml" && options.flavor != "lt") {
        throw util::UsageError("unknown --flavor \"" + options.flavor + "\": use ml or lt");
    }
    if (flags.count("version") != 0) {
        options.version = flags["version"].as<std::string>();
    }
    if (flags.count("repo-url") != 0) {
        const std::string url = flags["repo-url"].as<std::string>();
        // dnf's --repofrompath takes "id,url": a comma or blank would split it.
        const bool scheme =
            url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0 || url.rfind("file:///", 0) == 0;
        if (!scheme || url.find_first_of(", \t\n") != std::string::npos) {
            throw util::UsageError(
                "invalid --repo-url \"" + url +
                "\": want an http://, https:// or file:/// repository URL without commas or blanks");
        }
        options.repo_url = url;
    }
    if (flags.count("repo-key") != 0) {
        options.repo_key = flags["repo-key"].as<std::string>();
    }
    if (flags.count("repo-key-fingerprint") != 0) {
        const std::string text = flags["repo-key-fingerprint"].as<std::string>();
        if (k::normalize_fingerprint(text).empty()) {
            throw util::UsageError(
                "invalid --repo-key-fingerprint \"" + text +
                "\": want the full fingerprint, 40 hex digits (gpg --show-keys prints it)");
        }
        if (!options.repo_key) {
            throw util::UsageError("--repo-key-fingerprint needs --repo-key, the key file it names");
        }
        options.repo_key_fingerprint = text;
    }
    options.cilium = cilium_version_flag(flags);
    return options;
}

util::Terminal::Tone tone(probe::Status status) {
    switch (status) {
    case probe::Status::pass:
        return util::Terminal::Tone::good;
    case probe::Status::warn:
        return util::Terminal::Tone::warn;
    case probe::Status::fail:
        return util::Terminal::Tone::bad;
    case probe::Status::unknown:
        return util::Terminal::Tone::dim;
    }
    return util::Terminal::Tone::plain;
}

void print_checks(const std::vector<probe::Check>& checks, const util::Terminal& term) {
    std::size_t width = 0;
    for (const auto& check : checks) {
        width = std::max(width, check.id.size());
    }
    const std::string indent(2 + (term.unicode ? 1 : 6) + 2 + width + 2, ' ');
    for (const auto& check : checks) {
        std::string id = check.id;
        id.resize(width, ' ');
        std::cout << "  " << term.status_mark(probe::to_string(check.status)) << "  " << id << "  "
                  << check.message << "\n";
        if (!check.hint.empty() && check.status != probe::Status::pass) {
            std::cout << indent
                      << term.paint(tone(probe::Status::unknown), (term.unicode ? "→ " : "-> ") + check.hint)
                      << "\n";
        }
    }
}

void print_steps(const std::vector<k::StepResult>& steps) {
    for (const auto& step : steps) {
        std::cout << fmt::format("  {:<14} {:<8} {}\n", step.id, step.status, step.message);
    }
}

void print_plan(const k::PlanResult& plan, const util::Terminal& term) {
    std::cout << term.paint(util::Terminal::Tone::bold, "Kernel upgrade plan") << ": "
              << (plan.os.empty() ? std::string("unknown OS") : plan.os) << ", running "
              << (plan.running.empty() ? std::string("unknown") : plan.running) << ", default entry \""
              << plan.default_entry << "\"\n";
    if (plan.candidate) {
        std::cout << "Candidate: " << plan.candidate->kernel_release() << " (";
        for (std::size_t i = 0; i < plan.candidate->packages.size(); ++i) {
            std::cout << (i > 0 ? ", " : "") << plan.candidate->packages[i].full();
        }
        std::cout << ") from " << plan.repo_url << "\n";
    }
    std::cout << "\n";
    print_checks(plan.checks, term);
    std::cout << "\n"
              << (plan.allowed ? term.paint(util::Terminal::Tone::good, "stage may run")
                               : term.paint(util::Terminal::Tone::bad, "refused: stage would change nothing"))
              << "\n";
}

util::VerbOptions verb_options(const Invocation& invocation, std::string_view verb, std::string_view usage,
                               std::string_view description) {
    return util::VerbOptions(
        invocation.program,
        fmt::format("kernel {} [--root DIR] [--proc DIR] [--sys DIR] [--host-commands nsenter|local] "
                    "[-o table|json]{}",
                    verb, usage),
        std::string(description));
}

int run_plan(Invocation& invocation) {
    auto options = verb_options(
        invocation, "plan",
        " [--flavor ml|lt] [--version V] [--repo-url URL] [--repo-key FILE "
        "[--repo-key-fingerprint FPR]] [--cilium-version X.Y]",
        "Read the node and the repository and print what `kernel stage` would do and whether "
        "it may. Changes nothing. Exit codes: 0 may stage, 1 refused (reasons listed), 2 error.");
    add_common(options);
    add_upgrade(options);
    auto flags = options.parse(invocation.args);
    if (!flags) {
        return 0;
    }
    auto common_flags = common(*flags, invocation.program, "plan");
    const auto result =
        util::value_or_throw(k::plan(*common_flags.host, upgrade_options(*flags)), "kernel plan");
    if (common_flags.json) {
        std::cout << k::to_json(result).dump(2) << "\n";
    } else {
        print_plan(result, util::Terminal::detect(stdout));
    }
    return result.allowed ? 0 : 1;
}

int run_stage(Invocation& invocation) {
    auto options =
        verb_options(invocation, "stage", " [plan's flags] [--guard-timeout DURATION]",
                     "Everything plan checks, then install the kernel beside the running one and set it "
                     "as the one-shot next boot, with the running kernel kept as the saved default and a "
                     "host guard that reboots an unconfirmed trial kernel. Does not reboot. Exit codes: "
                     "0 staged, 1 refused (nothing changed), 2 error.");
    add_common(options);
    add_upgrade(options);
    options.add()("guard-timeout",
                  "Reboot the trial kernel this long after boot unless confirmed (a Go duration)",
                  cxxopts::value<std::string>()->default_value(std::string(defaults::k_guard_deadline)));
    auto flags = options.parse(invocation.args);
    if (!flags) {
        return 0;
    }
    auto common_flags = common(*flags, invocation.program, "stage");
    auto upgrade = upgrade_options(*flags);
    const std::string guard_text = (*flags)["guard-timeout"].as<std::string>();
    auto guard = util::parse_go_duration(guard_text);
    if (!guard || *guard < std::chrono::minutes(1)) {
        throw util::UsageError("invalid --guard-timeout \"" + guard_text +
                               "\": want a Go duration of at least 1m");
    }
    upgrade.guard_deadline = std::chrono::duration_cast<std::chrono::seconds>(*guard);
    const auto result = util::value_or_throw(k::stage(*common_flags.host, upgrade), "kernel stage");
    if (common_flags.json) {
        std::cout << k::to_json(result).dump(2) << "\n";
    } else {
        const auto term = util::Terminal::detect(stdout);
        print_plan(result.plan, term);
        if (!result.steps.empty()) {
            std::cout << "\nSteps:\n";
            print_steps(result.steps);
            std::cout << "\n"
                      << term.paint(util::Terminal::Tone::good,
                                    "staged: reboot the node to try " + result.trial->target_release +
                                        " once, then run `" + invocation.program + " kernel confirm`")
                      << "\n";
        }
    }
    return result.staged ? 0 : 1;
}

int run_confirm(Invocation& invocation) {
    auto options =
        verb_options(invocation, "confirm", " [--cilium-version X.Y] [--keep-panic] [--skip-bpf]",
                     "After the reboot: if the new kernel runs and passes the probe for the Cilium release, "
                     "make it the default and disarm the guard; if the previous kernel runs, record the "
                     "fallback (never retried by itself). Exit codes: 0 confirmed, 1 not confirmed "
                     "(not rebooted, fallback, checks failed), 2 error.");
    add_common(options);
    options.add()("cilium-version", "Judge the running kernel for this Cilium release, X.Y",
                  cxxopts::value<std::string>())("keep-panic",
                                                 "Keep the trial's panic=30 rd.shell=0 rd.emergency=reboot")(
        "skip-bpf", "Leave out the live-kernel BPF probes (for a --root that is not the running node)");
    auto flags = options.parse(invocation.args);
    if (!flags) {
        return 0;
    }
    auto common_flags = common(*flags, invocation.program, "confirm");
    k::ConfirmOptions confirm_options;
    confirm_options.cilium = cilium_version_flag(*flags);
    confirm_options.keep_panic = flags->count("keep-panic") != 0;
    if (const char* node = std::getenv(std::string(defaults::k_node_name_env).c_str()); node != nullptr) {
        confirm_options.node_name = node;
    }
    std::unique_ptr<probe::BpfKernel> kernel;
    std::optional<probe::BpfFeatures> features;
    if (flags->count("skip-bpf") == 0) {
        kernel = probe::make_libbpf_kernel();
        features.emplace(*kernel);
        confirm_options.bpf = &*features;
    }
    const auto result =
        util::value_or_throw(k::confirm(*common_flags.host, confirm_options), "kernel confirm");
    if (common_flags.json) {
        std::cout << k::to_json(result).dump(2) << "\n";
    } else {
        const auto term = util::Terminal::detect(stdout);
        std::cout << term.paint(result.exit_code() == 0 ? util::Terminal::Tone::good
                                                        : util::Terminal::Tone::bad,
                                std::string(k::to_string(result.outcome)))
                  << ": " << result.message << "\n";
        if (!result.checks.empty()) {
            std::cout << "\n";
            print_checks(result.checks, term);
        }
        if (!result.steps.empty()) {
            std::cout << "\nSteps:\n";
            print_steps(result.steps);
        }
    }
    return result.exit_code();
}

int run_rollback(Invocation& invocation) {
    auto options =
        verb_options(invocation, "rollback", " [--remove]",
                     "Make the previous kernel the default again: disarm the guard, clear a pending "
                     "one-shot boot, remove the trial's kernel arguments; with --remove also the packages. "
                     "Exit codes: 0 done, 2 error.");
    add_common(options);
    options.add()("remove", "Also remove the trial's packages (refused while that kernel runs)");
    auto flags = options.parse(invocation.args);
    if (!flags) {
        return 0;
    }
    auto common_flags = common(*flags, invocation.program, "rollback");
    k::RollbackOptions rollback_options;
    rollback_options.remove = flags->count("remove") != 0;
    const auto result =
        util::value_or_throw(k::rollback(*common_flags.host, rollback_options), "kernel rollback");
    if (common_flags.json) {
        std::cout << k::to_json(result).dump(2) << "\n";
    } else {
        std::cout << "rolled back: " << result.trial.previous_release << " (entry \""
                  << result.trial.previous_entry << "\") is the default again\n\nSteps:\n";
        print_steps(result.steps);
    }
    return 0;
}

int run_status(Invocation& invocation) {
    auto options =
        verb_options(invocation, "status", "",
                     "The trial record, the running and default kernels, the boot entries, the one-shot "
                     "boot and the guard in one document. Exit codes: 0, 2 error.");
    add_common(options);
    auto flags = options.parse(invocation.args);
    if (!flags) {
        return 0;
    }
    auto common_flags = common(*flags, invocation.program, "status");
    const auto result = util::value_or_throw(k::status(*common_flags.host), "kernel status");
    if (common_flags.json) {
        std::cout << k::to_json(result).dump(2) << "\n";
        return 0;
    }
    std::cout << "Running:   " << result.running << " (boot " << result.boot_id << ")\n"
              << "Default:   \"" << result.default_entry << "\" (" << result.default_kernel << ")\n"
              << "Next boot: "
              << (result.next_entry.empty() ? std::string("(default)") : "\"" + result.next_entry + "\"")
              << "\n"
              << "Guard:     "
              << (result.guard.armed()
                      ? "armed for " + result.guard.kernel + ", OnBootSec=" + result.guard.deadline
                  : result.guard.absent() ? std::string("none")
                                          : std::string("partly written"))
              << "\n";
    if (result.trial) {
        const auto& trial = *result.trial;
        std::cout << "Trial:     " << k::to_string(trial.state) << ", " << trial.previous_release << " -> "
                  << trial.target_release << " (staged " << trial.staged_at << ")"
                  << (result.rebooted_since_stage ? ", rebooted since" : "") << "\n";
        if (!result.pending.empty()) {
            std::cout << "Pending:   ";
            for (std::size_t i = 0; i < result.pending.size(); ++i) {
                std::cout << (i > 0 ? ", " : "") << result.pending[i];
            }
            std::cout << " (run stage again to finish, or rollback)\n";
        }
    } else {
        std::cout << "Trial:     "
                  << (result.trial_error.empty() ? "none" : "unreadable: " + result.trial_error) << "\n";
    }
    std::cout << "Entries (" << k::to_string(result.loader) << "):\n";
    for (const auto& entry : result.entries) {
        std::cout << "  " << entry.id << "  " << entry.kernel << "\n";
    }
    return 0;
}

using KernelVerb = util::Verb<Handler>;

const std::vector<KernelVerb>& kernel_verbs() {
    static const std::vector<KernelVerb> table{
        {"plan", "Print what stage would do on this node and whether it may (changes nothing)", &run_plan},
        {"stage", "Install the kernel and set it as the one-shot next boot, guarded (no reboot)", &run_stage},
        {"confirm",
         "After the reboot: promote the new kernel if it runs and passes, else record the fallback",
         &run_confirm},
        {"rollback", "Make the previous kernel the default again (--remove: also the packages)",
         &run_rollback},
        {"status", "The trial record, kernels, boot entries and guard in one document", &run_status},
        {"run", "The cluster rollout's DaemonSet loop on this node (kubectl meshlink kernel upgrade)",
         &run_kernel_run},
    };
    return table;
}

} // namespace

int run_kernel(Invocation& invocation) {
    const std::string command = invocation.program + " kernel";
    const bool asked_nothing = invocation.args.empty();
    const KernelVerb* verb = util::pick_verb(kernel_verbs(), invocation.args, {command, command + " --help"});
    if (verb == nullptr) {
        std::cout
            << command
            << ": upgrade this node's kernel to ELRepo kernel-ml/lt, booting it once before making it the "
               "default.\n\nUsage:\n  "
            << command << " <command> [flags]\n\nCommands:\n"
            << util::verb_list(kernel_verbs(), 10)
            << "\nSee README \"Kernel upgrade on a node\". Exit codes: 0 success, 1 refused or not "
               "confirmed, 2 usage or runtime error.\n";
        return asked_nothing ? 2 : 0;
    }
    return verb->handler(invocation);
}

} // namespace meshlink::agent::cli
