// bench/agent_rss: the resident memory of `meshlink-agent serve` over a long run of probing and publishing,
// against fakekube seeded like a Cilium cluster (its first node is the agent's Node). Samples VmRSS from
// /proc every few seconds and prints it at one minute, at the end, the maximum, and the growth per hour over
// the run's second half.
//
// Target (issue 16): RSS at most 10 MiB after an hour of probing. The real DaemonSet probes every 10 minutes
// (6 probes an hour); this bench probes every --interval (default 5 s), so a shortened run (--minutes 15: 180
// probe-and-publish cycles, 30 hours of the DaemonSet's work) exercises more cycles than an hour would, and
// the printed growth per hour extrapolates the RSS to 60 minutes. The release agent is what ships: pass it
// with
// --agent <build>/dist-amd64/bin/meshlink-agent.
// Usage: agent_rss [--minutes N] [--interval 5s] [--agent PATH]

#include "tests/integration/support/cilium_cluster.hpp"
#include "tests/integration/support/fakekube_process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

using namespace meshlink;
using namespace meshlink::test;

namespace {

long rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("VmRSS:")) {
            return std::atol(line.c_str() + 6);
        }
    }
    return -1;
}

} // namespace

int main(int argc, char** argv) {
    double minutes = 15;
    std::string interval = "5s";
    std::string agent = (bin_dir() / "meshlink-agent").string();
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--minutes") {
            minutes = std::atof(argv[i + 1]);
        } else if (flag == "--interval") {
            interval = argv[i + 1];
        } else if (flag == "--agent") {
            agent = argv[i + 1];
        }
    }
    const TempDirectory dir;
    const auto spec = healthy_cluster(1);
    auto server = FakekubeProcess::start(fakekube_options(spec, dir));
    if (!server) {
        std::fprintf(stderr, "agent_rss: fakekube: %s\n", server.error().message.c_str());
        return 2;
    }
    const std::string node =
        spec.nodes.empty() ? std::string("cluster1-control-plane") : spec.nodes.front().name;
    std::vector<std::string> args{
        agent,          "serve",  "--node-name", node, "--kubeconfig",     server->kubeconfig().string(),
        "--interval",   interval, "--port",      "0",  "--listen-address", "127.0.0.1",
        "--log-target", "stderr"};
    std::vector<char*> raw;
    for (auto& arg : args) {
        raw.push_back(arg.data());
    }
    raw.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    if (::posix_spawn(&pid, agent.c_str(), &actions, nullptr, raw.data(), environ) != 0) {
        std::fprintf(stderr, "agent_rss: cannot run %s\n", agent.c_str());
        return 2;
    }
    posix_spawn_file_actions_destroy(&actions);

    const auto start = std::chrono::steady_clock::now();
    const auto end = start + std::chrono::duration<double, std::ratio<60>>(minutes);
    std::vector<std::pair<double, long>> samples; // (minutes since start, KiB)
    long at_one_minute = -1;
    while (std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(std::chrono::seconds(5));
        const double t =
            std::chrono::duration<double, std::ratio<60>>(std::chrono::steady_clock::now() - start).count();
        const long rss = rss_kib(pid);
        if (rss < 0) {
            std::fprintf(stderr, "agent_rss: the agent exited\n");
            return 2;
        }
        samples.emplace_back(t, rss);
        if (at_one_minute < 0 && t >= 1.0) {
            at_one_minute = rss;
        }
    }
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);

    long peak = 0;
    for (const auto& [t, rss] : samples) {
        peak = std::max(peak, rss);
    }
    // Least-squares growth over the second half (after start-up and first allocations settle).
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = 0;
    for (const auto& [t, rss] : samples) {
        if (t < minutes / 2) {
            continue;
        }
        sx += t;
        sy += static_cast<double>(rss);
        sxx += t * t;
        sxy += t * static_cast<double>(rss);
        ++n;
    }
    const double slope_per_minute = n > 1 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0.0;
    const long last = samples.empty() ? 0 : samples.back().second;
    const double at_hour = static_cast<double>(last) + slope_per_minute * std::max(0.0, 60.0 - minutes);
    fmt::print("bench/agent_rss: {} serve --interval {} for {:.0f} min against fakekube ({} samples)\n",
               agent, interval, minutes, samples.size());
    fmt::print("  RSS after 1 min {:6.2f} MiB, at the end {:6.2f} MiB, peak {:6.2f} MiB\n",
               at_one_minute / 1024.0, last / 1024.0, peak / 1024.0);
    fmt::print("  growth over the second half: {:+.1f} KiB/hour; RSS extrapolated to 60 min: {:.2f} MiB "
               "(target <= 10)\n",
               slope_per_minute * 60, at_hour / 1024.0);
    return 0;
}
