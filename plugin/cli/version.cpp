#include <iostream>

#include "build_info.hpp"
#include "kube/versions.hpp"
#include "kube/cli_options.hpp"
#include "plugin/cli/verb_handlers.hpp"

namespace meshlink::plugin::cli {

int run_version(Invocation& invocation) {
    kube::VerbOptions options(invocation.program, "version [--server]", "Print the version of kubectl-meshlink.");
    options.add()("server", "Also print the Kubernetes server version of the current context");
    auto parsed = options.parse(invocation.args);
    if (!parsed) {
        return 0;
    }
    std::cout << "kubectl-meshlink " << build_info::k_version << "\n"
              << "  git commit: " << build_info::k_git_commit << "\n"
              << "  build:      " << build_info::k_build_type << ", " << build_info::k_compiler << "\n";
    for (const auto& [library, version] : kube::library_versions()) {
        std::cout << "  " << library << ": " << version << "\n";
    }
    return 0;
}

} // namespace meshlink::plugin::cli
