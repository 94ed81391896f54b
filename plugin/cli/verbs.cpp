// The verb table: every `kubectl meshlink <verb>` is one row here. Handlers live next to this file
// (one file per verb or verb group) and hand off to the capability folders (kubeconfig/, preflight/, ...).

#include "plugin/cli/command.hpp"
#include "plugin/cli/verb_handlers.hpp"

#include <iostream>

namespace meshlink::plugin::cli {

const std::vector<Verb>& verbs() {
    static const std::vector<Verb> table{
        {"help", "Show this help", &run_help},
        {"version", "Print the client version (and the server's with --server)", &run_version},
        {"kubeconfig", "Merge, export and list kubeconfig contexts (locked, atomic, with backups)",
         &run_kubeconfig},
        {"preflight", "Find every reason a mesh of these clusters would fail, before anything changes",
         &run_preflight},
        {"agent", "Install, remove and check the node agent DaemonSet and its node reports", &run_agent},
        {"kernel",
         "Upgrade the nodes' kernels for Cilium, one node at a time (plan, upgrade, status, resume, finish)",
         &run_kernel},
        {"join", "Take this cluster and its peers to a connected Cilium ClusterMesh (resumable, journaled)",
         &run_join},
        {"status", "Show the mesh: peers, configuration on both sides, agents connected, CAs, certificates",
         &run_status},
        {"leave", "Undo what join did for a pair of clusters, on both sides", &run_leave},
        {"verify", "Prove every node reaches every peer's endpoints and every agent has every peer synced",
         &run_verify},
        {"demo",
         "Deploy Cilium's global-service demo in every cluster of the mesh, verify traffic, delete it",
         &run_demo},
        {"completion", "Shell completion: bash, zsh, fish scripts; install the helper kubectl runs",
         &run_completion},
    };
    return table;
}

int run_help(Invocation& invocation) {
    const std::string& p = invocation.program;
    std::cout
        << p << ": take Kubernetes clusters running Cilium to a verified Cilium ClusterMesh.\n\n"
        << "Usage:\n  " << p << " <command> [flags]\n\nCommands:\n"
        << util::verb_list(verbs(), 14)
        << "\nGlobal flags (accepted anywhere after \"meshlink\"; kubectl does not pass its own to "
           "plugins):\n"
           "      --kubeconfig FILE        Use this kubeconfig file only (it must exist)\n"
           "      --context NAME           Use this kubeconfig context\n"
           "      --cluster NAME           Use this kubeconfig cluster\n"
           "      --user NAME              Use this kubeconfig user\n"
           "  -n, --namespace NAME         Namespace for namespaced requests\n"
           "      --request-timeout DUR    Per-request timeout: seconds (\"30\") or a duration (\"1m\"); 0 = "
           "none\n"
           "  -v, --v LEVEL                Log verbosity on stderr: 4 debug, 6 requests, 8 bodies "
           "(redacted)\n"
           "  -o, --output FORMAT          Output format where a command supports it (table|json|yaml)\n"
           "\nExit codes: 0 success, 1 checks failed, 2 usage or runtime error.\n"
           "Run '"
        << p << " <command> --help' for a command's flags.\n";
    return 0;
}

} // namespace meshlink::plugin::cli
