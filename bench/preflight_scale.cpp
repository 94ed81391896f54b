// bench/preflight_scale: `kubectl meshlink preflight -o json` against `kubectl get nodes -o json` on one
// fakekube seeded like a Cilium 1.16 cluster with N nodes (default 5000) that all carry agent reports
// (tests/integration/support/cilium_cluster.hpp), run alternately in the same run. Preflight reads much more
// than the nodes (version, 27 access reviews, cilium-config, the cilium DaemonSet, Services, the CA Secret,
// the API server's pods, every node's report, re-judged for the cluster's Cilium version); kubectl only
// fetches the nodes. Prints wall times (median, min), API requests per run from /fakekube/stats and the ratios.
//
// Target (issue 5): preflight in total no slower than kubectl merely fetching the nodes.
// Usage: preflight_scale [--nodes N] [--runs N] [--latency-ms N] [--show]

#include "tests/integration/support/cilium_cluster.hpp"
#include "tests/integration/support/fakekube_process.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

using namespace meshlink;
using namespace meshlink::test;

namespace {

struct Sample {
    double wall_ms = 0;
    std::map<std::string, long> requests; // verb -> count during the run
    long total_requests = 0;
    int exit_code = -1;
    std::size_t stdout_bytes = 0;
};

std::map<std::string, long> counters(const FakekubeProcess& server) {
    auto stats = fakekube_stats(server);
    if (!stats) {
        throw std::runtime_error("fakekube stats: " + stats.error().message);
    }
    std::map<std::string, long> out;
    for (const auto& [verb, count] : stats->items()) {
        out[verb] = count.get<long>();
    }
    return out;
}

Sample measure(const FakekubeProcess& server, const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    const auto before = counters(server);
    const auto start = std::chrono::steady_clock::now();
    auto result = run_command(argv, env, std::chrono::seconds(600));
    const auto stop = std::chrono::steady_clock::now();
    if (!result) {
        throw std::runtime_error(fmt::format("{}: {}", argv.front(), result.error().message));
    }
    const auto after = counters(server);
    Sample sample;
    sample.wall_ms = std::chrono::duration<double, std::milli>(stop - start).count();
    sample.exit_code = result->exit_code;
    sample.stdout_bytes = result->out.size();
    for (const auto& [verb, count] : after) {
        const long delta = count - (before.count(verb) ? before.at(verb) : 0);
        if (delta != 0) {
            sample.requests[verb] = delta;
        }
        sample.total_requests += delta;
    }
    if (result->exit_code != 0 && result->exit_code != 1) {
        throw std::runtime_error(fmt::format("{} exited {}: {}", fmt::join(argv, " "), result->exit_code, result->err));
    }
    return sample;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

std::string requests_text(const std::map<std::string, long>& requests) {
    std::string out;
    for (const auto& [verb, count] : requests) {
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", verb, count);
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    int nodes = 5000;
    int runs = 3;
    int latency_ms = 0;
    bool show = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--nodes" && i + 1 < argc) {
            nodes = std::max(3, std::atoi(argv[++i]));
        } else if (arg == "--runs" && i + 1 < argc) {
            runs = std::max(1, std::atoi(argv[++i]));
        } else if (arg == "--latency-ms" && i + 1 < argc) {
            latency_ms = std::max(0, std::atoi(argv[++i]));
        } else if (arg == "--show") {
            show = true;
        } else {
            std::cerr << "usage: preflight_scale [--nodes N] [--runs N] [--latency-ms N] [--show]\n";
            return 2;
        }
    }
    try {
        const TempDirectory dir;
        CiliumClusterSpec spec = healthy_cluster(1);
        spec.agent_pods = false; // the benchmark is about nodes
        spec.nodes.clear();
        // Three control-plane nodes, then workers on a mix of distributions, every one reporting.
        const char* fixtures[] = {"ubuntu22.04", "rocky9-elrepo", "rocky8.10"};
        for (int i = 0; i < nodes; ++i) {
            CiliumNodeSpec node;
            node.control_plane = i < 3;
            node.name = node.control_plane ? fmt::format("cp-{}", i + 1) : fmt::format("worker-{:05}", i - 2);
            node.fixture = fixtures[i % 3];
            node.internal_ip = fmt::format("10.200.{}.{}", i / 250, 1 + i % 250);
            spec.nodes.push_back(node);
        }
        const auto seed_start = std::chrono::steady_clock::now();
        FakekubeOptions options = fakekube_options(spec, dir);
        options.latency_ms = latency_ms;
        options.startup_timeout = std::chrono::seconds(600);
        const auto seed_size = std::filesystem::file_size(options.seeds.front());
        auto started = FakekubeProcess::start(options);
        if (!started) {
            std::cerr << "preflight_scale: fakekube: " << started.error().message << "\n";
            return 2;
        }
        FakekubeProcess server = std::move(*started);
        const double startup_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - seed_start).count();
        fmt::print("fakekube: {} nodes with reports, seed {:.1f} MiB, seeded and started in {:.1f} s{}\n", nodes,
                   seed_size / 1048576.0, startup_s,
                   latency_ms > 0 ? fmt::format(", {} ms latency per request", latency_ms) : std::string());

        const TempDirectory home;
        const auto env = environment_with({"PATH=" + bin_dir().string() + ":/usr/local/bin:/usr/bin:/bin",
                                           "HOME=" + home.path().string(),
                                           "KUBECONFIG=" + server.kubeconfig().string(), "NO_COLOR=1"});
        const std::vector<std::string> preflight{"kubectl", "meshlink", "preflight", "-o", "json"};
        const std::vector<std::string> get_nodes{"kubectl", "get", "nodes", "-o", "json"};
        if (show) {
            auto table = run_command({"kubectl", "meshlink", "preflight"}, env, std::chrono::seconds(600));
            if (table) {
                std::cout << table->out << table->err;
            }
        }
        std::vector<Sample> ours;
        std::vector<Sample> theirs;
        // Alternate, so that caches and the server's state treat both alike; the first round warms up.
        for (int round = 0; round <= runs; ++round) {
            Sample a = measure(server, preflight, env);
            Sample b = measure(server, get_nodes, env);
            if (round > 0) {
                ours.push_back(a);
                theirs.push_back(b);
            }
        }
        const auto walls = [](const std::vector<Sample>& samples) {
            std::vector<double> out;
            for (const auto& s : samples) {
                out.push_back(s.wall_ms);
            }
            return out;
        };
        const double ours_ms = median(walls(ours));
        const double theirs_ms = median(walls(theirs));
        fmt::print("\n{:<44} {:>10} {:>10} {:>9} {:>10}  {}\n", "", "median ms", "min ms", "requests", "stdout", "by verb");
        fmt::print("{:<44} {:>10.0f} {:>10.0f} {:>9} {:>9.1f}M  {}\n", "kubectl meshlink preflight -o json", ours_ms,
                   *std::min_element(walls(ours).begin(), walls(ours).end()), ours.back().total_requests,
                   ours.back().stdout_bytes / 1048576.0, requests_text(ours.back().requests));
        fmt::print("{:<44} {:>10.0f} {:>10.0f} {:>9} {:>9.1f}M  {}\n", "kubectl get nodes -o json", theirs_ms,
                   *std::min_element(walls(theirs).begin(), walls(theirs).end()), theirs.back().total_requests,
                   theirs.back().stdout_bytes / 1048576.0, requests_text(theirs.back().requests));
        fmt::print("\nwall time ratio preflight / get nodes: {:.2f} (target <= 1.00: {})\n", ours_ms / theirs_ms,
                   ours_ms <= theirs_ms ? "met" : "NOT met");
        fmt::print("request ratio preflight / get nodes:   {:.2f}\n",
                   static_cast<double>(ours.back().total_requests) / static_cast<double>(theirs.back().total_requests));
        fmt::print("preflight exit code: {} (runs: {})\n", ours.back().exit_code, runs);
        (void)server.stop();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "preflight_scale: " << e.what() << "\n";
        return 2;
    }
}
