// `kubectl meshlink verify [PEER...]`: the mesh's reachability from every node that dials a peer, and what
// every agent says about its peers (plugin/verify/mesh_verify.hpp); printing and the exit code here.
#include "plugin/cli/mesh_targets.hpp"
#include "plugin/cli/verb_handlers.hpp"
#include "plugin/verify/mesh_verify.hpp"
#include "util/cli_options.hpp"
#include "util/terminal.hpp"

#include <iostream>

namespace meshlink::plugin::cli {

int run_verify(Invocation& invocation) {
    util::VerbOptions options(
        invocation.program,
        "verify [PEER...] [--probe-image IMAGE] [--image-registry HOST[/PREFIX]] [-o json]",
        "Checks the mesh of this context and the peers its join journal records (or the PEER contexts), "
        "without\n"
        "a demo. From each node that dials the peers (every node on the host network; with KVStoreMesh the\n"
        "clustermesh-apiserver's nodes on the pod network) a short-lived Job opens TCP connections to each "
        "peer's\n"
        "clustermesh endpoint (node InternalIP:NodePort, or the load balancer) and the API server endpoint "
        "join\n"
        "exposed, reported per node; a pair using the same NodePort with kube-proxy replacement is never "
        "called a\n"
        "pass (the local datapath would answer). Every agent's `cilium-dbg status -o json` clustermesh "
        "section is\n"
        "shown beside it.\n\n"
        "Exit codes: 0 verified, 1 not (the reasons are printed), 2 usage or runtime error.");
    options.add()("image-registry", "Pull the probe image from this registry instead",
                  cxxopts::value<std::string>())("probe-image", "The probe Job's image (needs sh and curl)",
                                                 cxxopts::value<std::string>())(
        "image-pull-secret", "NAME of a docker-registry Secret in the Cilium namespace (repeatable)",
        cxxopts::value<std::vector<std::string>>())("keep", "Keep the Jobs (for inspection)");
    auto parsed = options.parse(invocation.args);
    if (!parsed) {
        return 0;
    }
    auto peers = util::VerbOptions::positionals(*parsed);
    if (!peers.empty() && peers.front().empty()) {
        peers.clear();
    }
    const std::string output = invocation.flags.output.value_or("table");
    if (output != "table" && output != "json") {
        throw util::UsageError("unknown output format \"" + output + "\" for verify: use table or json");
    }
    demo::ImageOptions images;
    if (parsed->count("image-registry") > 0) {
        images.registry = (*parsed)["image-registry"].as<std::string>();
    }
    if (parsed->count("probe-image") > 0) {
        images.probe = (*parsed)["probe-image"].as<std::string>();
    }
    verify::MeshVerifySettings settings;
    settings.probe_image = util::value_or_throw(demo::resolve_images(images)).probe;
    if (parsed->count("image-pull-secret") > 0) {
        settings.pull_secrets = (*parsed)["image-pull-secret"].as<std::vector<std::string>>();
    }
    settings.keep = parsed->count("keep") > 0;
    settings.terminal = util::Terminal::detect(stdout);
    auto opened = open_mesh_targets(invocation, peers, "verify");
    const auto outcome = verify::run_mesh_verify(*opened->session, opened->targets, settings);
    if (!outcome.document.is_null()) {
        std::cout << (output == "json" ? outcome.document.dump(2) + "\n" : outcome.table);
    }
    if (outcome.exit_code != 0) {
        std::cout.flush();
        std::cerr << invocation.program << ": error: " << outcome.message << "\n";
    }
    return outcome.exit_code;
}

} // namespace meshlink::plugin::cli
