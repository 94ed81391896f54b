#include "build_info.hpp"
#include "kube/versions.hpp"
#include "plugin/cli/connect.hpp"
#include "plugin/cli/verb_handlers.hpp"
#include "util/cli_options.hpp"

#include <iostream>

namespace meshlink::plugin::cli {

int run_version(Invocation& invocation) {
    util::VerbOptions options(invocation.program, "version [--server]",
                              "Print the version of kubectl-meshlink.");
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
    if (parsed->count("server") == 0) {
        return 0;
    }
    // The client part is already out, as with `kubectl version`, so a broken cluster still shows it.
    std::cout.flush();
    auto client = connect(invocation.flags);
    auto server = util::value_or_throw(client.server_version(), "unable to get the server version");
    std::cout << "Server Version: " << server.git_version << "\n";
    return 0;
}

} // namespace meshlink::plugin::cli
