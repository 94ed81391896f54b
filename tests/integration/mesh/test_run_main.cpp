// `make run`'s sandbox path (scripts/run-main, run directly, not through make): preflight, join, status and
// leave on two sandbox clusters, each step's exit code, nothing left behind outside its temporary directory,
// and the same cleanup when the user presses Ctrl-C in the middle.
#include "tests/integration/mesh/harness.hpp"
#include "util/fd.hpp"

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>

using namespace meshlink::test;
namespace fs = std::filesystem;

namespace {

fs::path bin_dir() {
    const char* dir = std::getenv("MESHLINK_BIN_DIR");
    return dir != nullptr ? fs::path(dir) : fs::path(MESHLINK_BINARY_DIR) / "bin";
}

struct ScriptRun {
    int exit_code = -1;
    std::string err;
};

// Runs scripts/run-main in a process group of its own with exactly `env`. When `interrupt_at` is not empty,
// sends SIGINT to the whole group (what a terminal's Ctrl-C does) once stderr contains it.
ScriptRun run_script(const std::vector<std::string>& env, const std::string& interrupt_at = {}) {
    int fds[2];
    BOOST_REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    meshlink::util::Fd read_end(fds[0]);
    meshlink::util::Fd write_end(fds[1]);
    const std::string script = std::string(MESHLINK_SOURCE_DIR) + "/scripts/run-main";
    const std::string bin = bin_dir().string();
    const std::string tests = (fs::path(MESHLINK_BINARY_DIR) / "tests").string();
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        ::setpgid(0, 0);
        ::dup2(write_end.get(), 2);
        ::dup2(write_end.get(), 1);
        std::vector<char*> argv = {const_cast<char*>(script.c_str()), const_cast<char*>(bin.c_str()),
                                   const_cast<char*>(tests.c_str()), nullptr};
        std::vector<char*> cenv;
        for (const auto& e : env) {
            cenv.push_back(const_cast<char*>(e.c_str()));
        }
        cenv.push_back(nullptr);
        ::execve(script.c_str(), argv.data(), cenv.data());
        ::_exit(127);
    }
    ::setpgid(pid, pid);
    write_end.reset();
    ScriptRun run;
    bool interrupted = false;
    char chunk[4096];
    for (;;) {
        const ssize_t n = ::read(read_end.get(), chunk, sizeof chunk);
        if (n <= 0) {
            break;
        }
        run.err.append(chunk, static_cast<std::size_t>(n));
        if (!interrupt_at.empty() && !interrupted && run.err.find(interrupt_at) != std::string::npos) {
            ::kill(-pid, SIGINT);
            interrupted = true;
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return run;
}

// The environment of a user without a kubeconfig: an empty HOME, no KUBECONFIG, TMPDIR in the test's
// directory.
std::vector<std::string> fresh_user_env(const fs::path& home, const fs::path& tmp) {
    std::vector<std::string> env = {"HOME=" + home.string(), "TMPDIR=" + tmp.string(), "LANG=C.UTF-8"};
    if (const char* path = std::getenv("PATH")) {
        env.push_back(std::string("PATH=") + path);
    }
    return env;
}

// Every process whose command line mentions `path` (the sandbox's fakekube servers keep their files there).
std::vector<std::string> processes_using(const fs::path& path) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::ifstream in(entry.path() / "cmdline", std::ios::binary);
        std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (cmdline.find(path.string()) != std::string::npos) {
            std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
            found.push_back(name + ": " + cmdline);
        }
    }
    return found;
}

// "run-main: <step>: exit <code>" lines, in order, as "<step>=<code>".
std::vector<std::string> steps_of(const std::string& err) {
    std::vector<std::string> steps;
    static const std::regex line(R"(run-main: ([a-z-]+): exit ([0-9]+))");
    for (auto it = std::sregex_iterator(err.begin(), err.end(), line); it != std::sregex_iterator(); ++it) {
        steps.push_back((*it)[1].str() + "=" + (*it)[2].str());
    }
    return steps;
}

bool is_empty_dir(const fs::path& dir) {
    return fs::is_directory(dir) && fs::is_empty(dir);
}

} // namespace

BOOST_AUTO_TEST_SUITE(mesh_run_main)

BOOST_AUTO_TEST_CASE(sandbox_path_runs_preflight_join_status_leave_and_leaves_nothing_behind) {
    TempDirectory dir;
    const fs::path home = dir.path() / "home";
    const fs::path tmp = dir.path() / "tmp";
    fs::create_directories(home);
    fs::create_directories(tmp);

    const ScriptRun run = run_script(fresh_user_env(home, tmp));
    BOOST_TEST_INFO("output:\n" << run.err);
    BOOST_TEST(run.exit_code == 0);
    const std::vector<std::string> expected = {"preflight=0", "join=0", "status=0", "leave=0"};
    BOOST_TEST(steps_of(run.err) == expected, boost::test_tools::per_element());
    // Real output of each step, not only the markers.
    BOOST_TEST(run.err.find("$ kubectl meshlink join kind-cluster2 --yes") != std::string::npos);
    BOOST_TEST(run.err.find("joined:") != std::string::npos);
    BOOST_TEST(run.err.find("left:") != std::string::npos);

    BOOST_TEST(is_empty_dir(home), "the user's HOME was written to");
    BOOST_TEST(is_empty_dir(tmp), "run-main left files in TMPDIR");
    const auto left = processes_using(tmp);
    BOOST_TEST(left.empty(), "processes left running: " << (left.empty() ? "" : left.front()));
}

BOOST_AUTO_TEST_CASE(ctrl_c_during_join_stops_the_sandbox_and_removes_its_files) {
    TempDirectory dir;
    const fs::path home = dir.path() / "home";
    const fs::path tmp = dir.path() / "tmp";
    fs::create_directories(home);
    fs::create_directories(tmp);

    const ScriptRun run = run_script(fresh_user_env(home, tmp), "$ kubectl meshlink join");
    BOOST_TEST_INFO("output:\n" << run.err);
    BOOST_TEST(run.exit_code != 0);
    BOOST_TEST(run.err.find("run-main: leave:") == std::string::npos);
    BOOST_TEST(is_empty_dir(home));
    BOOST_TEST(is_empty_dir(tmp), "run-main left files in TMPDIR after Ctrl-C");
    const auto left = processes_using(tmp);
    BOOST_TEST(left.empty(), "processes left running: " << (left.empty() ? "" : left.front()));
}

BOOST_AUTO_TEST_SUITE_END()
