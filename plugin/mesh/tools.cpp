#include "plugin/mesh/tools.hpp"

#include "kube/redact.hpp"
#include "plugin/defaults.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace meshlink::plugin::mesh {
namespace {

namespace df = defaults;

// KUBECONFIG for a tool run on `c`: the file `c` came from (--kubeconfig, --peer-kubeconfig), else the user's
// own. With `destination` (a connect to a peer from --peer-kubeconfig), that file follows, so the tool finds
// both contexts.
std::vector<std::string> tool_env(const Session& session, const Cluster& c,
                                  const std::optional<std::string>& destination = std::nullopt) {
    if (!destination) {
        return c.kubeconfig_file ? std::vector<std::string>{"KUBECONFIG=" + *c.kubeconfig_file}
                                 : std::vector<std::string>{};
    }
    std::vector<std::string> files;
    if (c.kubeconfig_file) {
        files.push_back(*c.kubeconfig_file);
    } else if (const auto& rules = session.options().kubeconfig_rules; rules.explicit_path) {
        files.push_back(rules.explicit_path->string());
    } else {
        for (const auto& file : rules.precedence) {
            files.push_back(file.string());
        }
    }
    files.push_back(*destination);
    return {fmt::format("KUBECONFIG={}", fmt::join(files, ":"))};
}

// Values with anything under a "key" or "cert" leaf of tls replaced, for printing.
json redact_values(json values) {
    if (values.is_object()) {
        for (auto& [key, value] : values.items()) {
            if ((key == "key" || key == "cert" || key == "caCert") && value.is_string()) {
                value = std::string(kube::k_redacted);
            } else {
                value = redact_values(value);
            }
        }
    } else if (values.is_array()) {
        for (auto& item : values) {
            item = redact_values(item);
        }
    }
    return values;
}

util::Result<void> run_checked(Session& session, const Cluster& c, const std::string& step,
                               const std::vector<std::string>& argv, const std::vector<std::string>& shown,
                               std::optional<json> object = std::nullopt,
                               std::optional<std::string> input = std::nullopt,
                               const std::optional<std::string>& destination_kubeconfig = std::nullopt) {
    const std::string command = fmt::format("{}", fmt::join(shown, " "));
    if (session.dry_run()) {
        session.plan({c.name, step, "run " + command, std::move(object), shown});
        return {};
    }
    session.say(fmt::format("{}: running {}", c.name, command));
    ToolRun run;
    run.argv = argv;
    run.env = tool_env(session, c, destination_kubeconfig);
    run.stdin_data = std::move(input);
    run.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(df::k_tool_timeout);
    auto result = session.host().run(run);
    if (!result) {
        // Not transient for the step's retries: a tool that timed out or is missing is for the user to fix.
        return util::fail(util::ErrorKind::generic,
                          fmt::format("{}: {}: {}", c.name, command, result.error().message));
    }
    if (result->term_signal != 0 || result->exit_code != 0) {
        return util::fail(
            util::ErrorKind::generic,
            fmt::format("{}: `{}` failed ({}); its messages are above. Fix the cause and run join again: "
                        "it resumes where it stopped",
                        c.name, command,
                        result->term_signal != 0 ? fmt::format("signal {}", result->term_signal)
                                                 : fmt::format("exit code {}", result->exit_code)));
    }
    return {};
}

} // namespace

bool helm_available(Session& session) {
    return session.host().available(std::string(df::k_helm));
}

util::Result<Driver> choose_driver(Session& session, const Cluster& c) {
    const Backend backend = session.options().backend;
    const bool cilium = session.host().available(std::string(df::k_cilium_cli));
    const bool helm = helm_available(session);
    const std::string release =
        c.helm ? fmt::format("Helm release {}/{} (revision {})", c.helm->ns, c.helm->name, c.helm->revision)
               : "";
    switch (backend) {
    case Backend::native:
        if (c.helm) {
            return util::fail(
                util::ErrorKind::usage,
                fmt::format("{}: --backend native: Cilium here is {}, whose objects meshlink does not write "
                            "(the next helm upgrade would undo them); use --backend auto, cilium-cli or helm",
                            c.name, release));
        }
        return Driver::native;
    case Backend::cilium_cli:
    case Backend::helm: {
        const bool want_cli = backend == Backend::cilium_cli;
        if (!c.helm) {
            return util::fail(
                util::ErrorKind::usage,
                fmt::format("{}: --backend {}: Cilium here is not a Helm release (no Secret {}<release>.v<N> "
                            "in {}); the cilium CLI and helm can only drive one (\"release: not found\"). "
                            "Use --backend auto or native",
                            c.name, to_string(backend), df::k_helm_release_secret_prefix,
                            session.options().ns));
        }
        if (want_cli ? !cilium : !helm) {
            return util::fail(util::ErrorKind::not_found,
                              fmt::format("{}: --backend {}: `{}` is not on PATH", c.name, to_string(backend),
                                          want_cli ? df::k_cilium_cli : df::k_helm));
        }
        return want_cli ? Driver::cilium_cli : Driver::helm;
    }
    case Backend::automatic:
        if (!c.helm) {
            return Driver::native;
        }
        if (cilium) {
            return Driver::cilium_cli;
        }
        if (helm) {
            return Driver::helm;
        }
        return util::fail(
            util::ErrorKind::not_found,
            fmt::format("{}: Cilium here is {}: meshlink changes it through the cilium CLI or helm, and "
                        "neither is on PATH. Install one (https://github.com/cilium/cilium-cli or "
                        "https://helm.sh) and run join again",
                        c.name, release));
    }
    return Driver::native;
}

util::Result<void> run_cilium(Session& session, const Cluster& c, const std::string& step,
                              std::vector<std::string> args,
                              const std::optional<std::string>& destination_kubeconfig) {
    std::vector<std::string> argv{std::string(df::k_cilium_cli)};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_checked(session, c, step, argv, argv, std::nullopt, std::nullopt, destination_kubeconfig);
}

util::Result<void> helm_upgrade(Session& session, const Cluster& c, const std::string& step,
                                const json& values, const std::string& summary) {
    if (!c.helm) {
        return util::fail(util::ErrorKind::invalid, fmt::format("{}: no Helm release to upgrade", c.name));
    }
    std::vector<std::string> argv{std::string(df::k_helm),
                                  "upgrade",
                                  c.helm->name,
                                  std::string(df::k_helm_chart),
                                  "--repo",
                                  std::string(df::k_helm_chart_repo),
                                  "--version",
                                  c.helm->chart_version.empty() ? c.cilium_version : c.helm->chart_version,
                                  "--namespace",
                                  c.helm->ns,
                                  "--kube-context",
                                  c.tool_context,
                                  "--reuse-values",
                                  "--values"};
    // The values may hold the CA's private key (tls.ca.key): they go to helm's stdin (`--values -`) from
    // memory, never through a file that an interrupted or killed join could leave behind
    // (docs/cilium-clustermesh.md, "Values on helm's standard input").
    argv.push_back("-");
    std::vector<std::string> shown = argv;
    shown.back() = fmt::format("- (stdin: {})", summary);
    if (session.dry_run()) {
        return run_checked(session, c, step, argv, shown, json{{"helmValues", redact_values(values)}});
    }
    return run_checked(session, c, step, argv, shown, std::nullopt, values.dump(2) + "\n"); // JSON is YAML
}

} // namespace meshlink::plugin::mesh
