#include "tests/integration/support/fakekube_process.hpp"

#include "kube/kubeconfig.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>

namespace meshlink::test {
namespace {

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    for (auto& s : strings) {
        pointers.push_back(s.data());
    }
    pointers.push_back(nullptr);
    return pointers;
}

std::string read_fd_to_end(int fd) {
    std::string text;
    char buffer[4096];
    ::lseek(fd, 0, SEEK_SET);
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
}

} // namespace

std::filesystem::path bin_dir() {
    if (const char* dir = std::getenv("MESHLINK_BIN_DIR"); dir != nullptr && *dir != '\0') {
        return dir;
    }
    return std::filesystem::path(MESHLINK_BINARY_DIR) / "bin";
}

std::vector<std::string> environment_with(const std::vector<std::string>& overrides) {
    return util::environment_with(overrides);
}

TempDirectory::TempDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "meshlink-it-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
    }
    m_path = pattern;
}

TempDirectory::~TempDirectory() {
    if (!m_path.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
}

std::filesystem::path TempDirectory::write(const std::string& name, const std::string& text,
                                           bool executable) const {
    const auto file = m_path / name;
    std::filesystem::create_directories(file.parent_path());
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out << text;
    }
    ::chmod(file.c_str(), executable ? 0755 : 0600);
    return file;
}

FakekubeProcess::State::~State() {
    child.kill_and_reap(); // closes its end of the pipe, so the drainer sees EOF
    if (drainer.joinable()) {
        drainer.join();
    }
}

FakekubeProcess::FakekubeProcess(FakekubeProcess&&) noexcept = default;
FakekubeProcess::~FakekubeProcess() = default;

util::Result<FakekubeProcess> FakekubeProcess::start(FakekubeOptions options) {
    auto state = std::make_unique<State>();
    state->name = options.name;
    state->dir.emplace();
    state->kubeconfig = state->dir->path() / "kubeconfig";

    const auto program = bin_dir() / "fakekube";
    if (::access(program.c_str(), X_OK) != 0) {
        return util::fail(util::ErrorKind::not_found,
                          fmt::format("{} is missing; build the fakekube target first", program.string()));
    }
    std::vector<std::string> argv = {
        program.string(),          "--name", options.name, "--listen", "127.0.0.1:0", "--kubeconfig-out",
        state->kubeconfig.string()};
    for (const auto& seed : options.seeds) {
        argv.insert(argv.end(), {"--seed", seed.string()});
    }
    if (options.token_file) {
        argv.insert(argv.end(), {"--token-file", options.token_file->string()});
    }
    if (!options.faults.empty()) {
        argv.insert(argv.end(), {"--faults", options.faults});
    }
    if (options.latency_ms > 0) {
        argv.insert(argv.end(), {"--latency-ms", std::to_string(options.latency_ms)});
    }
    argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());

    int fds[2] = {-1, -1};
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return util::fail(util::ErrorKind::io, fmt::format("pipe: {}", std::strerror(errno)));
    }
    util::Fd read_end(fds[0]);
    util::Fd write_end(fds[1]);
    auto env = util::environment_with({});
    auto c_argv = c_strings(argv);
    auto c_env = c_strings(env);
    util::Fd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const pid_t parent = ::getpid();
    // fork rather than posix_spawn: the child asks the kernel to kill it when the test process dies, so a
    // crashed test leaves no server behind. Only async-signal-safe calls between fork and exec.
    const pid_t pid = ::fork();
    if (pid < 0) {
        return util::fail(util::ErrorKind::io, fmt::format("fork: {}", std::strerror(errno)));
    }
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        ::dup2(dev_null.get(), STDIN_FILENO);
        ::dup2(write_end.get(), STDOUT_FILENO);
        ::execve(program.c_str(), c_argv.data(), c_env.data());
        ::_exit(127);
    }
    state->child = util::ChildProcess(pid);
    write_end.reset();

    // Read until the ready line. fakekube prints nothing before it is ready, but tolerate other lines.
    const std::regex ready(R"(listening on (https://127\.0\.0\.1:(\d+)))");
    const auto deadline = std::chrono::steady_clock::now() + options.startup_timeout;
    std::string pending;
    for (;;) {
        auto newline = pending.find('\n');
        if (newline != std::string::npos) {
            std::string line = pending.substr(0, newline);
            pending.erase(0, newline + 1);
            state->stdout_text += line + "\n";
            std::smatch match;
            if (std::regex_search(line, match, ready)) {
                state->url = match[1];
                state->port = std::stoi(match[2]);
                break;
            }
            continue;
        }
        auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (remaining.count() <= 0) {
            return util::fail(
                util::ErrorKind::timeout,
                fmt::format("fakekube did not print \"listening on\" within {} s; it printed:\n{}",
                            options.startup_timeout.count(), state->stdout_text + pending));
        }
        pollfd pfd{read_end.get(), POLLIN, 0};
        int ready_fds = ::poll(&pfd, 1, static_cast<int>(remaining.count()));
        if (ready_fds <= 0) {
            continue;
        }
        char buffer[4096];
        ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            auto status =
                state->child.wait_until(std::chrono::steady_clock::now() + std::chrono::seconds(10));
            return util::fail(util::ErrorKind::unavailable,
                              fmt::format("fakekube exited before it was ready (status {}); it printed:\n{}",
                                          status ? *status : -1, state->stdout_text + pending));
        }
        pending.append(buffer, static_cast<std::size_t>(n));
    }
    state->stdout_text += pending;

    // Keep reading stdout so that the server never blocks on a full pipe.
    state->stdout_pipe = std::move(read_end);
    State* raw = state.get();
    state->drainer = std::thread([raw] {
        char buffer[4096];
        for (;;) {
            ssize_t n = ::read(raw->stdout_pipe.get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return;
            }
            std::lock_guard lock(raw->mutex);
            raw->stdout_text.append(buffer, static_cast<std::size_t>(n));
        }
    });

    std::error_code ec;
    if (!std::filesystem::exists(state->kubeconfig, ec)) {
        return util::fail(
            util::ErrorKind::not_found,
            fmt::format("fakekube is listening but wrote no kubeconfig at {}", state->kubeconfig.string()));
    }
    return FakekubeProcess(std::move(state));
}

util::Result<std::string> FakekubeProcess::ca_pem() const {
    auto config = rest_config();
    if (!config) {
        return std::unexpected(config.error());
    }
    return config->ca_pem;
}

util::Result<kube::RestConfig> FakekubeProcess::rest_config(const kube::ConfigOverrides& overrides) const {
    kube::LoadingRules rules;
    rules.explicit_path = m_state->kubeconfig;
    return kube::load_rest_config(rules, overrides, kube::InClusterEnvironment{});
}

util::Result<void> FakekubeProcess::stop() {
    const pid_t pid = m_state->child.pid();
    if (pid <= 0) {
        return {};
    }
    ::kill(pid, SIGTERM);
    auto status = m_state->child.wait_until(std::chrono::steady_clock::now() + std::chrono::seconds(30));
    if (!status) {
        m_state->child.kill_and_reap();
        return util::fail(util::ErrorKind::timeout, "fakekube did not exit within 30 s of SIGTERM");
    }
    if (m_state->drainer.joinable()) {
        m_state->drainer.join();
    }
    const bool clean = (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) ||
                       (WIFSIGNALED(*status) && WTERMSIG(*status) == SIGTERM);
    if (!clean) {
        return util::fail(util::ErrorKind::generic,
                          fmt::format("fakekube exited with status {} after SIGTERM", *status));
    }
    return {};
}

std::string FakekubeProcess::output() const {
    std::lock_guard lock(m_state->mutex);
    return m_state->stdout_text;
}

util::Result<CommandResult> run_command(const std::vector<std::string>& argv,
                                        const std::vector<std::string>& env, std::chrono::seconds timeout) {
    if (argv.empty()) {
        return util::fail(util::ErrorKind::usage, "run_command: empty argv");
    }
    util::Fd err(::memfd_create("meshlink-test-stderr", MFD_CLOEXEC));
    if (!err) {
        return util::fail(util::ErrorKind::io, fmt::format("memfd_create: {}", std::strerror(errno)));
    }
    util::SubprocessSpec spec;
    spec.program = argv[0];
    spec.args.assign(argv.begin() + 1, argv.end());
    spec.env = env;
    spec.stderr_fd = err.get();
    spec.timeout = timeout;
    auto ran = util::run_subprocess(spec);
    if (!ran) {
        return std::unexpected(ran.error());
    }
    CommandResult result;
    result.exit_code = ran->term_signal != 0 ? 128 + ran->term_signal : ran->exit_code;
    result.out = std::move(ran->stdout_data);
    result.err = read_fd_to_end(err.get());
    return result;
}

} // namespace meshlink::test
