#include "build_info.hpp"
#include "kube/versions.hpp"
#include "node-agent/cli/command.hpp"
#include "node-agent/cli/verb_handlers.hpp"
#include "util/cli_options.hpp"

#include <iostream>

namespace meshlink::agent::cli {

const std::vector<Verb>& verbs() {
    static const std::vector<Verb> table{
        {"help", "Show this help", &run_help},
        {"version", "Print the agent version and its build options", &run_version},
        {"probe", "Tell whether this node's kernel can run a Cilium version, and why not", &run_probe},
        {"serve",
         "Run as the DaemonSet: probe periodically and publish the report on this node's Node object",
         &run_serve},
        {"kernel", "Upgrade this node's kernel to ELRepo kernel-ml: plan, stage, confirm, rollback, status",
         &run_kernel},
    };
    return table;
}

int run_help(Invocation& invocation) {
    std::cout
        << invocation.program
        << ": the meshlink node agent. It reports a node's kernel, kernel config, BPF features and modules,\n"
           "and changes a node only when explicitly asked.\n\nUsage:\n  "
        << invocation.program << " <command> [flags]\n\nCommands:\n"
        << util::verb_list(verbs(), 12)
        << "\nExit codes: 0 success, 1 checks failed, 2 usage or runtime error.\n";
    return 0;
}

int run_version(Invocation& invocation) {
    util::VerbOptions options(invocation.program, "version", "Print the version of meshlink-agent.");
    if (!options.parse(invocation.args)) {
        return 0;
    }
    std::cout << "meshlink-agent " << build_info::k_version << "\n"
              << "  git commit: " << build_info::k_git_commit << "\n"
              << "  build:      " << build_info::k_build_type << ", " << build_info::k_compiler << "\n"
              << "  libsystemd: " << (build_info::k_have_systemd ? "yes (journal logging, logind)" : "no")
              << "\n";
    for (const auto& [library, version] : kube::library_versions()) {
        std::cout << "  " << library << ": " << version << "\n";
    }
    return 0;
}

} // namespace meshlink::agent::cli
