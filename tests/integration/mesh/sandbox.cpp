// meshlink-sandbox: N fakekube clusters seeded as Cilium 1.16 installs (the same ones the mesh tests use,
// tests/integration/mesh/harness.hpp), one kubeconfig with all their contexts, kept running until Ctrl-C. For
// trying `kubectl meshlink preflight|join|status|leave` on a machine without clusters, and for the README's
// transcripts. It is a test fixture: nothing real is meshed.
//
// Usage: meshlink-sandbox [--clusters N] [--shared-ca]
// Prints the environment to use (HOME, KUBECONFIG, PATH with the build's kubectl-meshlink) and waits.
#include "tests/integration/mesh/harness.hpp"

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

using namespace meshlink::test;

int main(int argc, char** argv) {
    int clusters = 2;
    bool shared_ca = false;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--clusters" && i + 1 < argc) {
            clusters = std::atoi(argv[++i]);
        } else if (flag == "--shared-ca") {
            shared_ca = true;
        } else {
            std::cerr << "usage: meshlink-sandbox [--clusters N] [--shared-ca]\n";
            return 2;
        }
    }
    if (clusters < 1 || clusters > 8) {
        std::cerr << "meshlink-sandbox: --clusters must be 1..8\n";
        return 2;
    }
    // Block the signals before any thread or child exists, then wait for one of them.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    try {
        std::vector<CiliumClusterSpec> specs;
        for (int i = 1; i <= clusters; ++i) {
            specs.push_back(mesh_cluster(i, clusters));
            if (shared_ca) {
                specs.back().ca = specs.front().ca;
            }
        }
        Mesh mesh(specs);
        std::cout << "# " << clusters
                  << " fakekube clusters seeded as Cilium 1.16 installs; Ctrl-C stops them.\n";
        for (const std::string& variable :
             {std::string("HOME"), std::string("KUBECONFIG"), std::string("PATH")}) {
            for (const auto& entry : mesh.env()) {
                if (entry.starts_with(variable + "=")) {
                    std::cout << "export " << entry << "\n";
                }
            }
        }
        std::cout.flush();
        int received = 0;
        sigwait(&stop, &received);
    } catch (const std::exception& e) {
        std::cerr << "meshlink-sandbox: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
