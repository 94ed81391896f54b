// `kubectl meshlink demo deploy|verify|delete [PEER...]`: flags, the mesh's clusters (this context and its
// peers as join recorded them, or the PEER contexts), then plugin/demo/ does the work; printing and the exit
// code here.
#include "plugin/demo/demo.hpp"

#include "plugin/cli/mesh_targets.hpp"
#include "plugin/cli/verb_handlers.hpp"
#include "util/cli_options.hpp"
#include "util/duration.hpp"
#include "util/terminal.hpp"

#include <fmt/format.h>

#include <iostream>

namespace meshlink::plugin::cli {
namespace {

namespace df = defaults;

const char* const k_description =
    "Cilium's rebel-base / x-wing global-service demo in every cluster of the mesh: this context and the\n"
    "peers its join journal records (or exactly the PEER contexts given), and the proof that the mesh\n"
    "carries traffic between them.\n"
    "  deploy  create or update the demo in namespace meshlink-demo (labelled for delete, marked global for\n"
    "          Cilium 1.19+), each cluster's rebel-base answering with its Cilium cluster-name; waits until\n"
    "          the Pods are Ready and names what keeps them from running (image pulls, admission)\n"
    "  verify  read-only checks (Service and namespace global everywhere, mesh connected, remote backends\n"
    "          known to the agents), then a Job per cluster sending --requests requests to the global\n"
    "          Service and --pod-requests to each remote rebel-base Pod; the verdict per direction with the\n"
    "          likely cause and the ports to open (-o json: the whole result)\n"
    "  delete  remove the demo namespace (and everything deploy and verify created) and wait until it is "
    "gone\n\n"
    "Exit codes: 0 done / verified, 1 not (the reason is printed), 2 usage or runtime error.";

std::chrono::seconds seconds_flag(const cxxopts::ParseResult& parsed, const std::string& name) {
    const std::string text = parsed[name].as<std::string>();
    auto value = util::parse_go_duration(text);
    if (!value || value->count() <= 0) {
        throw util::UsageError(fmt::format("invalid --{} \"{}\": want a duration like 5m", name, text));
    }
    return std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(*value));
}

int count_flag(const cxxopts::ParseResult& parsed, const std::string& name, int low, int high) {
    const int value = parsed[name].as<int>();
    if (value < low || value > high) {
        throw util::UsageError(fmt::format("--{} must be between {} and {}, got {}", name, low, high, value));
    }
    return value;
}

std::optional<std::string> optional_flag(const cxxopts::ParseResult& parsed, const std::string& name) {
    if (parsed.count(name) == 0) {
        return std::nullopt;
    }
    return parsed[name].as<std::string>();
}

} // namespace

int run_demo(Invocation& invocation) {
    util::VerbOptions options(invocation.program,
                              "demo deploy|verify|delete [PEER...] [--image-registry HOST[/PREFIX]] "
                              "[--print-images] [-o json]",
                              k_description);
    options.add()("demo-namespace", "The demo's namespace (the same in every cluster)",
                  cxxopts::value<std::string>()->default_value(std::string(df::k_demo_namespace)))(
        "image-registry",
        "Pull every default image from this registry instead (repository, tag, digest kept)",
        cxxopts::value<std::string>())("server-image", "The rebel-base (nginx) image",
                                       cxxopts::value<std::string>())(
        "client-image", "The x-wing (json-mock) image", cxxopts::value<std::string>())(
        "probe-image", "The verify Job's image (needs sh and curl)", cxxopts::value<std::string>())(
        "image-pull-secret",
        "[NAMESPACE/]NAME of a docker-registry Secret copied into the demo namespace (repeatable)",
        cxxopts::value<std::vector<std::string>>())("print-images",
                                                    "Print the images that would run, and exit")(
        "timeout", "deploy: how long to wait for Ready Pods; delete: for the namespace to go",
        cxxopts::value<std::string>()->default_value("5m"))(
        "requests", "verify: requests to the global Service from each cluster (each its own connection)",
        cxxopts::value<int>()->default_value(std::to_string(df::k_demo_requests)))(
        "pod-requests", "verify: requests to each remote rebel-base Pod IP",
        cxxopts::value<int>()->default_value(std::to_string(df::k_demo_pod_requests)))(
        "backend-wait", "verify: how long to wait for the agents to list the remote backends",
        cxxopts::value<std::string>()->default_value("1m"))("keep", "verify: keep the Jobs (for inspection)");
    auto parsed = options.parse(invocation.args);
    if (!parsed) {
        return 0;
    }
    auto words = util::VerbOptions::positionals(*parsed);
    if (words.empty() || words.front().empty()) {
        throw util::UsageError("demo needs a command: deploy, verify or delete\nRun '" + invocation.program +
                               " demo --help' for usage.");
    }
    const std::string command = words.front();
    if (command != "deploy" && command != "verify" && command != "delete") {
        throw util::UsageError("unknown demo command \"" + command + "\": use deploy, verify or delete");
    }
    const std::vector<std::string> peers(words.begin() + 1, words.end());

    demo::ImageOptions image_options;
    image_options.registry = optional_flag(*parsed, "image-registry");
    image_options.server = optional_flag(*parsed, "server-image");
    image_options.client = optional_flag(*parsed, "client-image");
    image_options.probe = optional_flag(*parsed, "probe-image");
    demo::DemoSettings settings;
    settings.images = util::value_or_throw(demo::resolve_images(image_options));
    if (parsed->count("print-images") > 0) {
        std::cout << settings.images.server << "\n"
                  << settings.images.client << "\n"
                  << settings.images.probe << "\n";
        return 0;
    }
    settings.ns = (*parsed)["demo-namespace"].as<std::string>();
    if (settings.ns.empty() || settings.ns.size() > 63 ||
        settings.ns.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos ||
        settings.ns.front() == '-' || settings.ns.back() == '-') {
        throw util::UsageError("--demo-namespace \"" + settings.ns + "\" is not a namespace name");
    }
    if (parsed->count("image-pull-secret") > 0) {
        settings.pull_secrets = (*parsed)["image-pull-secret"].as<std::vector<std::string>>();
        for (const auto& flag : settings.pull_secrets) {
            (void)util::value_or_throw(demo::parse_pull_secret(flag));
        }
    }
    settings.timeout = seconds_flag(*parsed, "timeout");
    settings.backend_wait = seconds_flag(*parsed, "backend-wait");
    settings.requests = count_flag(*parsed, "requests", 1, 1000);
    settings.pod_requests = count_flag(*parsed, "pod-requests", 1, 100);
    settings.keep = parsed->count("keep") > 0;
    settings.terminal = util::Terminal::detect(stdout);
    const std::string output = invocation.flags.output.value_or("table");
    if (output != "table" && output != "json") {
        throw util::UsageError("unknown output format \"" + output + "\" for demo: use table or json");
    }
    if (output == "json" && command != "verify") {
        throw util::UsageError("-o json goes with demo verify");
    }

    auto opened = open_mesh_targets(invocation, peers, "demo " + command);
    mesh::Session& session = *opened->session;
    std::vector<demo::DemoCluster>& targets = opened->targets;
    const demo::VerbOutcome outcome = command == "deploy"   ? demo::deploy(session, targets, settings)
                                      : command == "verify" ? demo::verify(session, targets, settings)
                                                            : demo::remove(session, targets, settings);
    if (command == "verify" && !outcome.document.is_null()) {
        std::cout << (output == "json" ? outcome.document.dump(2) + "\n" : outcome.table);
    }
    if (outcome.exit_code != 0) {
        std::cout.flush();
        std::cerr << invocation.program << ": error: " << outcome.message << "\n";
        return outcome.exit_code;
    }
    if (command != "verify") { // verify's table ends with its verdict
        std::cout << outcome.message << "\n";
    }
    return 0;
}

} // namespace meshlink::plugin::cli
