// bench/probe: `meshlink-agent probe` (every fact, live BPF probes, JSON) against `bpftool -j feature probe`,
// run alternately in the same process tree so both see the same machine state. Prints wall times (median,
// mean, min), their ratio, and each tool's peak RSS from getrusage of the child (wait4).
//
// Target: the probe takes at most half of bpftool's wall time, with a peak RSS of at most 8 MiB.
// It also runs bench/probe-core (the probe library behind a minimal main) when found next to it, to show how
// much of the agent's RSS is the probe and how much the shared libraries the agent loads for other verbs.
// Usage: probe [--runs N] [--agent PATH] [--bpftool PATH]

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

extern char** environ;

namespace {

struct Sample {
    double wall_ms = 0;
    long max_rss_kib = 0;
    int exit_code = -1;
};

Sample run_once(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    Sample sample;
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = -1;
    if (::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return sample;
    }
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    rusage usage{};
    ::wait4(pid, &status, 0, &usage);
    sample.wall_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    sample.max_rss_kib = usage.ru_maxrss;
    sample.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return sample;
}

struct Summary {
    double median = 0;
    double mean = 0;
    double min = 0;
    long peak_rss_kib = 0;
};

Summary summarise(std::vector<Sample> samples) {
    Summary s;
    std::vector<double> walls;
    for (const auto& sample : samples) {
        walls.push_back(sample.wall_ms);
        s.peak_rss_kib = std::max(s.peak_rss_kib, sample.max_rss_kib);
    }
    std::sort(walls.begin(), walls.end());
    s.median = walls.size() % 2 == 1 ? walls[walls.size() / 2]
                                     : (walls[walls.size() / 2 - 1] + walls[walls.size() / 2]) / 2;
    s.mean = std::accumulate(walls.begin(), walls.end(), 0.0) / static_cast<double>(walls.size());
    s.min = walls.front();
    return s;
}

std::string find_bpftool() {
    for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/usr/local/sbin"}) {
        const std::string path = std::string(dir) + "/bpftool";
        if (::access(path.c_str(), X_OK) == 0) {
            return path;
        }
    }
    return {};
}

} // namespace

int main(int argc, char** argv) {
    int runs = 20;
    // Next to this binary's build tree: <build>/bench/probe -> <build>/bin/meshlink-agent.
    std::string agent = (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "bin" /
                         "meshlink-agent")
                            .string();
    std::string core =
        (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "probe-core").string();
    std::string bpftool = find_bpftool();
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--runs") {
            runs = std::max(1, std::atoi(argv[i + 1]));
        } else if (flag == "--agent") {
            agent = argv[i + 1];
        } else if (flag == "--bpftool") {
            bpftool = argv[i + 1];
        } else {
            fmt::print(stderr, "usage: {} [--runs N] [--agent PATH] [--bpftool PATH]\n", argv[0]);
            return 2;
        }
    }
    if (bpftool.empty() || ::access(bpftool.c_str(), X_OK) != 0) {
        fmt::print(stderr, "bench/probe: bpftool not found (scripts/install-deps installs it)\n");
        return 2;
    }
    if (::access(agent.c_str(), X_OK) != 0) {
        fmt::print(stderr, "bench/probe: {} not found; build it first (make build)\n", agent);
        return 2;
    }
    if (::geteuid() != 0) {
        fmt::print(stderr,
                   "bench/probe: not root: both tools would only report what an unprivileged user may "
                   "probe; the numbers would not be comparable\n");
        return 2;
    }

    const std::vector<std::string> probe_cmd{agent, "probe", "-o", "json"};
    const std::vector<std::string> bpftool_cmd{bpftool, "-j", "feature", "probe"};
    const std::vector<std::string> core_cmd{core};
    const bool with_core = ::access(core.c_str(), X_OK) == 0;
    // One warm-up each, so none pays for a cold page cache.
    run_once(probe_cmd);
    run_once(bpftool_cmd);
    if (with_core) {
        run_once(core_cmd);
    }
    std::vector<Sample> probe_samples;
    std::vector<Sample> bpftool_samples;
    std::vector<Sample> core_samples;
    for (int i = 0; i < runs; ++i) {
        probe_samples.push_back(run_once(probe_cmd));
        bpftool_samples.push_back(run_once(bpftool_cmd));
        if (with_core) {
            core_samples.push_back(run_once(core_cmd));
        }
    }
    for (const auto& sample : probe_samples) {
        if (sample.exit_code != 0 && sample.exit_code != 1) {
            fmt::print(stderr, "bench/probe: meshlink-agent probe exited {}\n", sample.exit_code);
            return 2;
        }
    }
    if (bpftool_samples.front().exit_code != 0) {
        fmt::print(stderr, "bench/probe: bpftool exited {}\n", bpftool_samples.front().exit_code);
        return 2;
    }

    const Summary p = summarise(probe_samples);
    const Summary b = summarise(bpftool_samples);
    const double ratio = p.median / b.median;
    fmt::print("node probe vs bpftool, {} alternating runs each (after one warm-up)\n\n", runs);
    fmt::print("  {:<36} {:>9} {:>9} {:>9} {:>12}\n", "command", "median", "mean", "min", "peak RSS");
    fmt::print("  {:<36} {:>7.2f}ms {:>7.2f}ms {:>7.2f}ms {:>9.1f}MiB\n", "meshlink-agent probe -o json",
               p.median, p.mean, p.min, static_cast<double>(p.peak_rss_kib) / 1024.0);
    fmt::print("  {:<36} {:>7.2f}ms {:>7.2f}ms {:>7.2f}ms {:>9.1f}MiB\n", "bpftool -j feature probe",
               b.median, b.mean, b.min, static_cast<double>(b.peak_rss_kib) / 1024.0);
    if (with_core) {
        const Summary c = summarise(core_samples);
        fmt::print("  {:<36} {:>7.2f}ms {:>7.2f}ms {:>7.2f}ms {:>9.1f}MiB\n",
                   "probe-core (probe library only)", c.median, c.mean, c.min,
                   static_cast<double>(c.peak_rss_kib) / 1024.0);
    }
    fmt::print("\n  wall-time ratio (probe / bpftool, medians): {:.3f}\n", ratio);
    fmt::print("  target wall time <= 0.5 x bpftool: {}\n", ratio <= 0.5 ? "met" : "NOT met");
    fmt::print("  target peak RSS <= 8 MiB:          {} ({:.1f} MiB)\n",
               p.peak_rss_kib <= 8 * 1024 ? "met" : "NOT met", static_cast<double>(p.peak_rss_kib) / 1024.0);
    return 0;
}
