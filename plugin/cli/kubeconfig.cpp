// `kubectl meshlink kubeconfig merge|export|list`: flags and printing; the work is in plugin/kubeconfig/.

#include "kube/kubeconfig.hpp"

#include "plugin/cli/connect.hpp"
#include "plugin/cli/verb_handlers.hpp"
#include "plugin/defaults.hpp"
#include "plugin/kubeconfig/check.hpp"
#include "plugin/kubeconfig/export.hpp"
#include "plugin/kubeconfig/list.hpp"
#include "plugin/kubeconfig/merge.hpp"
#include "util/cli_options.hpp"
#include "util/duration.hpp"
#include "util/heap.hpp"
#include "util/terminal.hpp"
#include "util/verbs.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace meshlink::plugin::cli {
namespace {

namespace kc = meshlink::plugin::kubeconfig;
using Tone = util::Terminal::Tone;

using Subcommand = util::Verb<int (*)(Invocation&, const std::vector<std::string>&)>;

// Errors that end the run: usage mistakes print a usage hint, the rest exit 2 with their message.
[[noreturn]] void fail(const util::Error& error) {
    if (error.kind == util::ErrorKind::usage) {
        throw util::UsageError(error.message);
    }
    throw util::Fatal(error);
}

// The positional arguments. VerbOptions' default for an absent positional list is one empty string.
std::vector<std::string> positionals_of(const cxxopts::ParseResult& parsed) {
    std::vector<std::string> out;
    for (auto& arg : util::VerbOptions::positionals(parsed)) {
        if (!arg.empty()) {
            out.push_back(std::move(arg));
        }
    }
    return out;
}

std::string in_quotes(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

std::string_view action_word(kc::MergeAction action) {
    switch (action) {
    case kc::MergeAction::add:
        return "add";
    case kc::MergeAction::identical:
        return "same";
    case kc::MergeAction::rename:
        return "rename";
    case kc::MergeAction::overwrite:
        return "replace";
    }
    return "";
}

// One line per entry, up to a screenful; large merges end with the counts.
void print_plan(const kc::MergePlan& plan, const util::Terminal& term) {
    constexpr std::size_t k_max_lines = 40;
    std::array<std::size_t, 4> counts{};
    for (std::size_t i = 0; i < plan.changes.size(); ++i) {
        const auto& change = plan.changes[i];
        ++counts[static_cast<std::size_t>(change.action)];
        if (i >= k_max_lines) {
            continue;
        }
        const Tone tone = change.action == kc::MergeAction::identical   ? Tone::dim
                          : change.action == kc::MergeAction::overwrite ? Tone::warn
                                                                        : Tone::good;
        std::string line = fmt::format("  {:<8}{:<8}{}", action_word(change.action), kc::noun(change.kind),
                                       in_quotes(change.name));
        if (change.input_name != change.name) {
            line += " (was " + in_quotes(change.input_name) + ")";
        }
        line += "  from " + change.source;
        if (change.action == kc::MergeAction::identical) {
            line += "  (already present, unchanged)";
        }
        std::cout << term.paint(tone, line) << "\n";
    }
    if (plan.changes.size() > k_max_lines) {
        std::cout << fmt::format(
            "  ... {} more; in all {} added, {} renamed, {} replaced, {} already present\n",
            plan.changes.size() - k_max_lines, counts[0], counts[2], counts[3], counts[1]);
    }
    if (plan.current_context_after != plan.current_context_before) {
        std::cout << "  current-context: " << in_quotes(plan.current_context_before) << " -> "
                  << in_quotes(plan.current_context_after) << "\n";
    }
    if (plan.preferences_adopted) {
        std::cout << "  preferences: taken from the input (the target had none)\n";
    }
    for (const auto& name : plan.extensions_added) {
        std::cout << "  extension " << in_quotes(name) << " added\n";
    }
}

int run_merge(Invocation& invocation, const std::vector<std::string>& args) {
    util::VerbOptions options(
        invocation.program,
        "kubeconfig merge [--into FILE] [--as NAME] [--rename-on-conflict | --overwrite] [--server URL] "
        "[--tls-server-name NAME] [--set-current] [--flatten] [--lock-timeout DURATION] [--dry-run [--raw]] "
        "FILE...",
        "Add the clusters, users and contexts of kubeconfig FILEs to your kubeconfig, the way kubectl reads "
        "it.\n"
        "The target is --into FILE, else the file kubectl writes new entries to (--kubeconfig, else the "
        "first\n"
        "existing $KUBECONFIG file, else ~/.kube/config). Identical entries are skipped; a name that exists "
        "with\n"
        "other content is refused unless --as, --rename-on-conflict or --overwrite says what to do. The "
        "target is\n"
        "locked like kubectl locks it, replaced atomically, and its previous content kept as\n"
        "<file>.meshlink-<UTC time>.bak (the newest 5).");
    options.add()("into", "Write into this file instead of kubectl's default", cxxopts::value<std::string>())(
        "as", "Name the (single) input context, its cluster and its user NAME",
        cxxopts::value<std::string>())("rename-on-conflict",
                                       "Add conflicting entries under a new name (NAME-2, NAME-3, ...)")(
        "overwrite", "Replace existing entries that have other content")(
        "server", "Set the merged cluster's server URL", cxxopts::value<std::string>())(
        "tls-server-name", "Set the merged cluster's tls-server-name",
        cxxopts::value<std::string>())("set-current", "Make the merged context the current context")(
        "flatten", "Inline certificate and key files as *-data")(
        "lock-timeout", "How long to wait for another writer's lock",
        cxxopts::value<std::string>()->default_value("10s"))("dry-run",
                                                             "Print what would change; write nothing")(
        "raw", "With --dry-run, show credentials instead of redacting them");
    auto parsed = options.parse(args);
    if (!parsed) {
        return 0;
    }
    const auto& p = *parsed;
    kc::MergeRequest request;
    for (const auto& file : positionals_of(p)) {
        request.inputs.emplace_back(file);
    }
    if (request.inputs.empty()) {
        throw util::UsageError("kubeconfig merge needs at least one FILE to merge\nRun '" +
                               invocation.program + " kubeconfig merge --help' for usage.");
    }
    // Thousands of contexts become ~15x their size in yaml-cpp nodes: give the heap room (and huge pages) at
    // once.
    std::uintmax_t input_bytes = 0;
    for (const auto& input : request.inputs) {
        std::error_code ignored;
        const auto size = std::filesystem::file_size(input, ignored);
        input_bytes += ignored ? 0 : size;
    }
    if (input_bytes >= defaults::k_large_kubeconfig_bytes) {
        util::prepare_heap_for_large_documents(static_cast<std::size_t>(
            std::min<std::uintmax_t>(16 * input_bytes, defaults::k_large_kubeconfig_heap_cap)));
    }
    if (p.count("rename-on-conflict") > 0 && p.count("overwrite") > 0) {
        throw util::UsageError("--rename-on-conflict and --overwrite exclude each other");
    }
    if (p.count("raw") > 0 && p.count("dry-run") == 0) {
        throw util::UsageError("--raw only applies to --dry-run");
    }
    if (p.count("into") > 0) {
        request.into = p["into"].as<std::string>();
    }
    if (p.count("as") > 0) {
        request.options.as_name = p["as"].as<std::string>();
        if (request.options.as_name->empty()) {
            throw util::UsageError("--as needs a non-empty NAME");
        }
    }
    if (p.count("server") > 0) {
        request.options.server = p["server"].as<std::string>();
        if (kc::classify_server(*request.options.server) == kc::ServerClass::invalid) {
            throw util::UsageError("--server " + in_quotes(*request.options.server) +
                                   " is not an https:// URL with a host");
        }
    }
    if (p.count("tls-server-name") > 0) {
        request.options.tls_server_name = p["tls-server-name"].as<std::string>();
    }
    request.options.on_conflict = p.count("overwrite") > 0            ? kc::ConflictPolicy::overwrite
                                  : p.count("rename-on-conflict") > 0 ? kc::ConflictPolicy::rename
                                                                      : kc::ConflictPolicy::refuse;
    request.options.set_current = p.count("set-current") > 0;
    request.options.flatten = p.count("flatten") > 0;
    request.dry_run = p.count("dry-run") > 0;
    auto timeout = util::parse_go_duration(p["lock-timeout"].as<std::string>());
    if (!timeout) {
        throw util::UsageError("--lock-timeout: " + timeout.error().message);
    }
    request.lock_timeout = *timeout;
    request.rules = loading_rules(invocation.flags);

    auto merged = kc::run_merge(request);
    if (!merged) {
        fail(merged.error());
    }
    // A large merge holds hundreds of thousands of yaml-cpp nodes; freeing them one by one takes longer
    // than the rest of the command, and the process ends right after this verb: leave them to the OS.
    // (volatile: the store must stay, so leak checkers still see the result as reachable.)
    [[maybe_unused]] static const kc::MergeResult* volatile kept_until_exit = nullptr;
    const auto* result = new kc::MergeResult(std::move(*merged));
    kept_until_exit = result;
    const util::Terminal term = util::Terminal::detect(stdout);
    if (request.dry_run) {
        std::cout << "Dry run: merging into " << result->target.string() << " would change:\n";
        print_plan(result->plan, term);
        if (result->plan.changes_file()) {
            std::cout << "Entries that would be written"
                      << (p.count("raw") > 0 ? "" : " (credentials redacted)") << ":\n"
                      << kc::dry_run_yaml(result->plan, p.count("raw") > 0);
        } else {
            std::cout << "Nothing to write: every entry is already present.\n";
        }
        return 0;
    }
    const auto& write = *result->write;
    if (write.unchanged) {
        std::cout << "Nothing to merge: " << result->target.string() << " already has every entry.\n";
        print_plan(result->plan, term);
        return 0;
    }
    std::cout << (write.created ? "Created " : "Merged into ") << write.path.string();
    if (write.backup) {
        std::cout << " (previous content: " << write.backup->string() << ")";
    }
    std::cout << ":\n";
    print_plan(result->plan, term);
    return 0;
}

int run_export(Invocation& invocation, const std::vector<std::string>& args) {
    util::VerbOptions options(
        invocation.program, "kubeconfig export [CONTEXT] [--flatten]",
        "Print a self-contained kubeconfig for one context (default: --context, else the\n"
        "current context) on stdout. Warns on stderr when it will not work elsewhere.\n"
        "The output contains credentials.");
    options.add()("flatten", "Inline certificate and key files as *-data");
    auto parsed = options.parse(args);
    if (!parsed) {
        return 0;
    }
    const auto positionals = positionals_of(*parsed);
    if (positionals.size() > 1) {
        throw util::UsageError("kubeconfig export takes one CONTEXT");
    }
    auto config = kube::load_kubeconfig(loading_rules(invocation.flags));
    if (!config) {
        fail(config.error());
    }
    std::string context = !positionals.empty()       ? positionals.front()
                          : invocation.flags.context ? *invocation.flags.context
                                                     : config->current_context;
    if (context.empty()) {
        throw util::UsageError("kubeconfig export: no CONTEXT given and no current-context set");
    }
    auto exported = kc::export_context(*config, context, parsed->count("flatten") > 0);
    if (!exported) {
        fail(exported.error());
    }
    const util::Terminal err = util::Terminal::detect(stderr);
    for (const auto& warning : exported->warnings) {
        std::cerr << err.paint(Tone::warn, "warning: ") << warning << "\n";
    }
    if (::isatty(STDOUT_FILENO) == 1) {
        std::cerr << err.paint(Tone::warn, "warning: ") << "the kubeconfig below contains credentials\n";
    }
    std::cout << exported->yaml;
    return 0;
}

std::string expiry_cell(const std::optional<kc::CertificateStatus>& status, const util::Terminal& term) {
    if (!status) {
        return "-";
    }
    if (!status->expiry) {
        return term.paint(Tone::bad, "unreadable");
    }
    const auto& expiry = *status->expiry;
    const std::time_t seconds = std::chrono::system_clock::to_time_t(expiry.not_after);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char date[16];
    std::strftime(date, sizeof date, "%Y-%m-%d", &utc);
    if (expiry.expired) {
        return term.paint(Tone::bad, std::string("expired ") + date);
    }
    const std::string text = fmt::format("{} ({}d)", date, expiry.remaining.count());
    return expiry.expiring_soon ? term.paint(Tone::warn, text) : text;
}

// Pads to `width` visible characters (colour codes do not count).
std::string pad(const std::string& text, std::size_t visible, std::size_t width) {
    return text + std::string(width > visible ? width - visible : 0, ' ');
}

int run_list(Invocation& invocation, const std::vector<std::string>& args) {
    util::VerbOptions options(
        invocation.program, "kubeconfig list [-o json] [--check]",
        "List every kubeconfig context: server, auth kind, namespace and certificate expiry;\n"
        "with --check, whether each server answers (2 s each, all at once).\n"
        "Exit code 1 when --check finds a server that does not answer.");
    options.add()("check", "Contact every context's server");
    auto parsed = options.parse(args);
    if (!parsed) {
        return 0;
    }
    const std::string output = invocation.flags.output.value_or("table");
    if (output != "table" && output != "json" && output != "wide") {
        throw util::UsageError("kubeconfig list: unsupported output format " + in_quotes(output) +
                               " (table|json)");
    }
    if (!positionals_of(*parsed).empty()) {
        throw util::UsageError("kubeconfig list takes no arguments");
    }
    auto config = kube::load_kubeconfig(loading_rules(invocation.flags));
    if (!config) {
        fail(config.error());
    }
    auto contexts = kc::list_contexts(*config, std::chrono::system_clock::now());
    bool all_answer = true;
    if (parsed->count("check") > 0) {
        kc::check_servers(*config, contexts, defaults::k_kubeconfig_check_timeout);
        for (const auto& c : contexts) {
            all_answer = all_answer && c.check && c.check->reachable;
        }
    }
    if (output == "json") {
        std::cout << kc::to_json(contexts).dump(2) << "\n";
        return all_answer ? 0 : 1;
    }
    if (contexts.empty()) {
        std::cerr << "No contexts in the kubeconfig.\n";
        return 0;
    }
    const util::Terminal term = util::Terminal::detect(stdout);
    std::vector<std::vector<std::pair<std::string, std::size_t>>> rows; // text and visible width
    std::vector<std::string> header{"CURRENT", "NAME", "SERVER", "AUTH", "NAMESPACE", "CLIENT-CERT", "CA"};
    const bool check = parsed->count("check") > 0;
    if (check) {
        header.emplace_back("SERVER-CHECK");
    }
    for (const auto& c : contexts) {
        std::vector<std::pair<std::string, std::size_t>> row;
        auto cell = [&row](std::string text, std::string painted = {}) {
            const std::size_t width = text.size();
            row.emplace_back(painted.empty() ? std::move(text) : std::move(painted), width);
        };
        cell(c.current ? "*" : "");
        cell(c.name);
        cell(c.server.empty() ? "-" : c.server);
        cell(c.problem.empty() ? c.auth.label : c.problem,
             c.problem.empty() ? std::string() : term.paint(Tone::bad, c.problem));
        cell(c.namespace_name.empty() ? "-" : c.namespace_name);
        for (const auto* status : {&c.client_certificate, &c.certificate_authority}) {
            util::Terminal plain;
            const std::string text = expiry_cell(*status, plain);
            cell(text, expiry_cell(*status, term));
        }
        if (check) {
            const std::string text =
                !c.check ? "-" : (c.check->reachable ? "ok " : "unreachable: ") + c.check->detail;
            cell(text, term.paint(c.check && c.check->reachable ? Tone::good : Tone::bad, text));
        }
        rows.push_back(std::move(row));
    }
    std::vector<std::size_t> widths(header.size());
    for (std::size_t i = 0; i < header.size(); ++i) {
        widths[i] = header[i].size();
        for (const auto& row : rows) {
            widths[i] = std::max(widths[i], row[i].second);
        }
    }
    for (std::size_t i = 0; i < header.size(); ++i) {
        std::cout << (i + 1 == header.size() ? header[i] : pad(header[i], header[i].size(), widths[i] + 3));
    }
    std::cout << "\n";
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            std::cout << (i + 1 == row.size() ? row[i].first
                                              : pad(row[i].first, row[i].second, widths[i] + 3));
        }
        std::cout << "\n";
    }
    return all_answer ? 0 : 1;
}

const std::vector<Subcommand>& subcommands() {
    static const std::vector<Subcommand> table{
        {"merge", "Merge kubeconfig files into yours (locked, atomic, with a backup)", &run_merge},
        {"export", "Print one context as a self-contained kubeconfig", &run_export},
        {"list", "List contexts with server, auth kind and certificate expiry", &run_list},
    };
    return table;
}

} // namespace

int run_kubeconfig(Invocation& invocation) {
    std::vector<std::string> args = invocation.args;
    const std::string command = invocation.program + " kubeconfig";
    if (const auto* sub = util::pick_verb(subcommands(), args, {command, command + " --help"})) {
        return sub->handler(invocation, args);
    }
    std::cout << "Merge, export and list kubeconfig contexts exactly as kubectl reads them.\n\nUsage:\n  "
              << command << " <merge|export|list> [flags]\n\nCommands:\n"
              << util::verb_list(subcommands(), 9) << "\nRun '" << command
              << " <command> --help' for a command's flags.\n";
    return 0;
}

} // namespace meshlink::plugin::cli
