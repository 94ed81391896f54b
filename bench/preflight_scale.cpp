// bench/preflight_scale: `kubectl meshlink preflight -o json` against `kubectl get nodes -o json` on one
// fakekube seeded like a Cilium 1.16 cluster with N nodes (default 5000) that all carry agent reports
// (tests/integration/support/cilium_cluster.hpp), run alternately in the same run. Preflight reads much more
// than the nodes (version, 27 access reviews, cilium-config, the cilium DaemonSet, Services, the CA Secret,
// the API server's pods, every node's report, re-judged for the cluster's Cilium version); kubectl only
// fetches the nodes. Prints wall times (median, min), API requests per run from /fakekube/stats and the
// ratios.
//
// Target: preflight in total no slower than kubectl merely fetching the nodes.
// Usage: preflight_scale [--nodes N] [--runs N] [--latency-ms N] [--show]

#include "tests/integration/support/cilium_cluster.hpp"
#include "tests/integration/support/fakekube_process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

using namespace meshlink;
using namespace meshlink::test;

namespace {

struct Sample {
    double wall_ms = 0;
    long max_rss_kib = 0;
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

// Runs `argv` with `env`, stdout into `out_path` (kubectl's output for 5000 nodes is far beyond what
// run_command keeps in memory), stderr discarded; counts the server's requests around it.
Sample measure(const FakekubeProcess& server, const std::vector<std::string>& argv,
               const std::vector<std::string>& env, const std::filesystem::path& out_path) {
    std::vector<char*> args;
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    std::vector<std::string> env_storage = env;
    std::vector<char*> envp;
    for (auto& item : env_storage) {
        envp.push_back(item.data());
    }
    envp.push_back(nullptr);
    std::string path = "/usr/bin/env";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    // PATH comes from `env`, so resolve the program through it with env(1).
    std::vector<char*> env_args{path.data()};
    env_args.insert(env_args.end(), args.begin(), args.end());

    const auto before = counters(server);
    Sample sample;
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = -1;
    if (::posix_spawn(&pid, path.c_str(), &actions, nullptr, env_args.data(), envp.data()) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        throw std::runtime_error("cannot start " + argv.front());
    }
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    rusage usage{};
    ::wait4(pid, &status, 0, &usage);
    sample.wall_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    sample.max_rss_kib = usage.ru_maxrss;
    sample.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    const auto after = counters(server);
    sample.stdout_bytes = std::filesystem::file_size(out_path);
    for (const auto& [verb, count] : after) {
        const long delta = count - (before.count(verb) ? before.at(verb) : 0);
        if (delta != 0) {
            sample.requests[verb] = delta;
        }
        sample.total_requests += delta;
    }
    if (sample.exit_code != 0 && sample.exit_code != 1) {
        throw std::runtime_error(fmt::format("{} exited {}", fmt::join(argv, " "), sample.exit_code));
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
        fmt::print("fakekube: {} nodes with reports, seed {:.1f} MiB, seeded and started in {:.1f} s{}\n",
                   nodes, seed_size / 1048576.0, startup_s,
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
            Sample a = measure(server, preflight, env, dir.path() / "preflight.json");
            Sample b = measure(server, get_nodes, env, dir.path() / "nodes.json");
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
        const auto ours_walls = walls(ours);
        const auto theirs_walls = walls(theirs);
        const double ours_ms = median(ours_walls);
        const double theirs_ms = median(theirs_walls);
        fmt::print("\n{:<36} {:>10} {:>8} {:>9} {:>9} {:>8}  {}\n", "", "median ms", "min ms", "peak RSS",
                   "requests", "stdout", "by verb");
        for (const auto& [label, samples, walls_ms, ms] :
             {std::tuple{"kubectl meshlink preflight -o json", &ours, &ours_walls, ours_ms},
              std::tuple{"kubectl get nodes -o json", &theirs, &theirs_walls, theirs_ms}}) {
            fmt::print("{:<36} {:>10.0f} {:>8.0f} {:>7.0f}Mi {:>9} {:>7.1f}M  {}\n", label, ms,
                       *std::min_element(walls_ms->begin(), walls_ms->end()),
                       samples->back().max_rss_kib / 1024.0, samples->back().total_requests,
                       samples->back().stdout_bytes / 1048576.0, requests_text(samples->back().requests));
        }
        fmt::print("\nwall time ratio preflight / get nodes: {:.2f} (target <= 1.00: {})\n",
                   ours_ms / theirs_ms, ours_ms <= theirs_ms ? "met" : "NOT met");
        fmt::print("request ratio preflight / get nodes:   {:.2f}\n",
                   static_cast<double>(ours.back().total_requests) /
                       static_cast<double>(theirs.back().total_requests));
        fmt::print("preflight exit code: {} (runs: {})\n", ours.back().exit_code, runs);
        (void)server.stop();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "preflight_scale: " << e.what() << "\n";
        return 2;
    }
}
