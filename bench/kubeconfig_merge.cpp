// bench/kubeconfig_merge: `kubectl meshlink kubeconfig merge --into NEW A B` against
// `KUBECONFIG=A:B kubectl config view --flatten --raw`, two kubeconfigs of 2000 contexts each (made by
// tests/fixtures/kubeconfig/generate-many-contexts.py), run alternately in the same run. Both read and
// merge the two files and produce the merged kubeconfig; meshlink also validates, locks, verifies what it
// wrote and fsyncs it. Prints wall times (median, min), the ratio of medians and each side's peak RSS.
//
// Target: meshlink at least 5x faster than kubectl.
// Usage: kubeconfig_merge [--runs N] [--count N] [--meshlink PATH] [--kubectl PATH]

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
#include <string>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;

namespace {

struct Sample {
    double wall_ms = 0;
    long max_rss_kib = 0;
    int exit_code = -1;
};

Sample run_once(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                const std::string& stdout_path) {
    std::vector<char*> args;
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    std::vector<std::string> env_storage;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        if (!std::string_view(*entry).starts_with("KUBECONFIG=")) {
            env_storage.emplace_back(*entry);
        }
    }
    env_storage.insert(env_storage.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> envp;
    for (auto& item : env_storage) {
        envp.push_back(item.data());
    }
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    Sample sample;
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = -1;
    if (::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data()) != 0) {
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

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values.empty() ? 0 : values[values.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
    int runs = 7;
    int count = 2000;
    fs::path self = fs::canonical("/proc/self/exe");
    std::string meshlink = (self.parent_path().parent_path() / "bin" / "kubectl-meshlink").string();
    std::string kubectl = "kubectl";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--runs") {
            runs = std::max(1, std::atoi(argv[i + 1]));
        } else if (flag == "--count") {
            count = std::max(1, std::atoi(argv[i + 1]));
        } else if (flag == "--meshlink") {
            meshlink = argv[i + 1];
        } else if (flag == "--kubectl") {
            kubectl = argv[i + 1];
        }
    }
    std::string pattern = (fs::temp_directory_path() / "meshlink-bench-kubeconfig-XXXXXX").string();
    const fs::path dir = ::mkdtemp(pattern.data());
    const fs::path generator =
        fs::path(MESHLINK_SOURCE_DIR) / "tests/fixtures/kubeconfig/generate-many-contexts.py";
    const fs::path east = dir / "east.yaml";
    const fs::path west = dir / "west.yaml";
    for (const auto& [prefix, file] : {std::pair{"east", east}, std::pair{"west", west}}) {
        const Sample made =
            run_once({"python3", generator.string(), "--count", std::to_string(count), "--prefix", prefix},
                     {}, file.string());
        if (made.exit_code != 0) {
            fmt::print(stderr, "kubeconfig_merge: generating {} failed (needs python3 and openssl)\n",
                       file.string());
            return 2;
        }
    }
    const fs::path target = dir / "merged";
    const std::string out = (dir / "stdout").string();
    std::vector<double> ours;
    std::vector<double> theirs;
    long our_rss = 0;
    long their_rss = 0;
    for (int run = 0; run < runs; ++run) {
        fs::remove(target);
        const Sample m = run_once(
            {meshlink, "kubeconfig", "merge", "--into", target.string(), east.string(), west.string()}, {},
            out);
        const Sample k = run_once({kubectl, "config", "view", "--flatten", "--raw"},
                                  {"KUBECONFIG=" + east.string() + ":" + west.string()}, out);
        if (m.exit_code != 0 || k.exit_code != 0) {
            fmt::print(stderr, "kubeconfig_merge: a run failed (meshlink exit {}, kubectl exit {})\n",
                       m.exit_code, k.exit_code);
            fs::remove_all(dir);
            return 2;
        }
        ours.push_back(m.wall_ms);
        theirs.push_back(k.wall_ms);
        our_rss = std::max(our_rss, m.max_rss_kib);
        their_rss = std::max(their_rss, k.max_rss_kib);
    }
    const double ratio = median(theirs) / median(ours);
    fmt::print("kubeconfig merge of two {}-context files ({:.1f} MiB each), {} runs\n", count,
               static_cast<double>(fs::file_size(east)) / (1024.0 * 1024.0), runs);
    fmt::print(
        "  meshlink kubeconfig merge:         median {:7.1f} ms  min {:7.1f} ms  peak RSS {:6.1f} MiB\n",
        median(ours), *std::min_element(ours.begin(), ours.end()), our_rss / 1024.0);
    fmt::print(
        "  kubectl config view --flatten:     median {:7.1f} ms  min {:7.1f} ms  peak RSS {:6.1f} MiB\n",
        median(theirs), *std::min_element(theirs.begin(), theirs.end()), their_rss / 1024.0);
    fmt::print("  ratio (kubectl / meshlink):        {:.2f}x  (target: >= 5x)\n", ratio);
    fs::remove_all(dir);
    return 0;
}
