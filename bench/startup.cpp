// bench/startup: `kubectl-meshlink version` against `kubectl version --client`, run alternately so both see
// the same machine load. Prints the median, mean and minimum wall time of each, and the ratio of the medians.
//
// Target (issue 16): kubectl-meshlink starts in at most 0.1x kubectl's time. The release binary (static, no
// dynamic linking or relocation at start) is what ships: `make dist-test` runs this with
// MESHLINK_BIN_DIR=<build>/dist-amd64/bin; `make bench` with the development build for comparison.
// Usage: startup [--runs N] [--plugin PATH] [--kubectl PATH]

#include "bench/timed_run.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

namespace {

double run_once(const std::vector<std::string>& argv) {
    const meshlink::bench::Sample sample = meshlink::bench::run_timed(argv);
    if (sample.exit_code != 0) {
        std::fprintf(stderr, "startup: %s %s\n", argv[0].c_str(),
                     sample.exit_code < 0 ? "cannot be run" : "failed");
        std::exit(2);
    }
    return sample.wall_ms;
}

struct Summary {
    double median = 0;
    double mean = 0;
    double min = 0;
};

Summary summarise(std::vector<double> walls) {
    std::sort(walls.begin(), walls.end());
    Summary s;
    s.median = walls.size() % 2 == 1 ? walls[walls.size() / 2]
                                     : (walls[walls.size() / 2 - 1] + walls[walls.size() / 2]) / 2;
    s.mean = std::accumulate(walls.begin(), walls.end(), 0.0) / static_cast<double>(walls.size());
    s.min = walls.front();
    return s;
}

std::string find_on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string rest = path != nullptr ? path : "/usr/bin:/bin";
    while (!rest.empty()) {
        const auto colon = rest.find(':');
        const std::filesystem::path candidate = std::filesystem::path(rest.substr(0, colon)) / name;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate.string();
        }
        rest = colon == std::string::npos ? "" : rest.substr(colon + 1);
    }
    return {};
}

} // namespace

int main(int argc, char** argv) {
    int runs = 50;
    std::string plugin;
    std::string kubectl = find_on_path("kubectl");
    if (const char* dir = std::getenv("MESHLINK_BIN_DIR"); dir != nullptr && *dir != '\0') {
        plugin = (std::filesystem::path(dir) / "kubectl-meshlink").string();
    } else {
        plugin = (std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() / "bin" /
                  "kubectl-meshlink")
                     .string();
    }
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--runs") {
            runs = std::max(1, std::atoi(argv[i + 1]));
        } else if (flag == "--plugin") {
            plugin = argv[i + 1];
        } else if (flag == "--kubectl") {
            kubectl = argv[i + 1];
        }
    }
    if (kubectl.empty()) {
        std::fprintf(stderr, "startup: kubectl not found\n");
        return 2;
    }
    // One warm-up run each, so neither pays for a cold page cache.
    run_once({plugin, "version"});
    run_once({kubectl, "version", "--client"});
    std::vector<double> ours;
    std::vector<double> theirs;
    for (int i = 0; i < runs; ++i) {
        ours.push_back(run_once({plugin, "version"}));
        theirs.push_back(run_once({kubectl, "version", "--client"}));
    }
    const Summary a = summarise(ours);
    const Summary b = summarise(theirs);
    fmt::print("bench/startup: {} runs each\n", runs);
    fmt::print("  {:<34} median {:7.2f} ms  mean {:7.2f} ms  min {:7.2f} ms\n", "kubectl-meshlink version",
               a.median, a.mean, a.min);
    fmt::print("  {:<34} median {:7.2f} ms  mean {:7.2f} ms  min {:7.2f} ms\n", "kubectl version --client",
               b.median, b.mean, b.min);
    fmt::print("  ratio (medians): {:.3f}x  (target <= 0.1x)  plugin: {}\n", a.median / b.median, plugin);
    return 0;
}
