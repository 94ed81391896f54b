// `kubectl meshlink status [-o json]`: the mesh as the local cluster, its peers and their agents see it.
#include "plugin/mesh/status.hpp"

#include "plugin/cli/mesh_access.hpp"
#include "plugin/cli/verb_handlers.hpp"
#include "plugin/mesh/kube_api.hpp"
#include "plugin/mesh/output.hpp"
#include "util/cli_options.hpp"

#include <iostream>

namespace meshlink::plugin::cli {

int run_status(Invocation& invocation) {
    util::VerbOptions options(
        invocation.program, "status [-o table|json]",
        "The clusters the current one (--context) is meshed with, from its cilium-clustermesh and\n"
        "cilium-kvstoremesh Secrets and its join journal, and per pair: configured on both sides,\n"
        "agents connected (x/y, `cilium-dbg status` in every agent through kubectl exec),\n"
        "clustermesh-apiserver readiness, endpoints, CA match and certificate expiry. A peer is reached\n"
        "through the context its journal names, else a context named after it (join adds one).\n\n"
        "Exit codes: 0 reported (whatever the state), 2 usage or runtime error.");
    auto parsed = options.parse(invocation.args);
    if (!parsed) {
        return 0;
    }
    if (auto extra = util::VerbOptions::positionals(*parsed); !extra.empty() && !extra.front().empty()) {
        throw util::UsageError("status takes no arguments, got \"" + extra.front() + "\"");
    }
    const std::string output = invocation.flags.output.value_or("table");
    if (output != "table" && output != "json") {
        throw util::UsageError("unknown output format \"" + output + "\" for status: use table or json");
    }
    MeshAccess clusters(invocation, {}, {});
    mesh::JoinOptions settings;
    clusters.prepare(settings);
    auto host = mesh::make_system_host();
    mesh::Session session(
        settings, *host, invocation.flags.verbosity > 0 ? mesh::stderr_progress("status") : nullptr, nullptr);
    auto report = mesh::run_status(session, clusters.clusters().front(), clusters.open_context());
    if (!report) {
        throw util::Fatal(report.error());
    }
    if (output == "json") {
        std::cout << report->document.dump(2) << "\n";
    } else {
        std::cout << report->table;
    }
    return 0;
}

} // namespace meshlink::plugin::cli
