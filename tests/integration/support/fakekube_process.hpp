#pragma once
// Integration-test support: a real fakekube process (tests/fakekube) started on a free loopback port, and
// a helper to run real commands (kubectl, kubectl-meshlink) with a chosen environment.
//
//   auto server = FakekubeProcess::start(FakekubeOptions("c1")).value();
//   auto client = kube::Client::from_config(server.rest_config().value()).value();
//   ... server.stop();   // or let the destructor kill it

#include "kube/rest_config.hpp"
#include "util/error.hpp"
#include "util/fd.hpp"
#include "util/subprocess.hpp"

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace meshlink::test {

// Where the build put kubectl-meshlink, fakekube, ...: $MESHLINK_BIN_DIR (CTest sets it), else
// MESHLINK_BINARY_DIR/bin.
std::filesystem::path bin_dir();

// A directory under $TMPDIR removed with its contents on destruction.
class TempDirectory {
public:
    TempDirectory();
    TempDirectory(const TempDirectory&) = delete;
    TempDirectory& operator=(const TempDirectory&) = delete;
    TempDirectory(TempDirectory&& other) noexcept : m_path(std::exchange(other.m_path, {})) {}
    TempDirectory& operator=(TempDirectory&&) = delete;
    ~TempDirectory();
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    // Writes `text` to path()/name (creating folders) and returns the full path.
    std::filesystem::path write(const std::string& name, const std::string& text,
                                bool executable = false) const;

private:
    std::filesystem::path m_path;
};

struct FakekubeOptions {
    explicit FakekubeOptions(std::string server_name = "fakekube") : name(std::move(server_name)) {}

    std::string name;                                // context, cluster and user name in the kubeconfig
    std::vector<std::filesystem::path> seeds;        // --seed FILE...
    std::optional<std::filesystem::path> token_file; // --token-file (kube-apiserver token CSV)
    std::string faults;                              // --faults SPEC
    int latency_ms = 0;                              // --latency-ms
    std::vector<std::string> extra_args;
    std::chrono::seconds startup_timeout{60};
};

// One running fakekube. Move-only; the destructor kills (SIGKILL) and reaps a server still running.
class FakekubeProcess {
public:
    // Starts fakekube from bin_dir() and waits for its "listening on https://127.0.0.1:PORT" line.
    // Errors carry what the server printed when it did not come up.
    static util::Result<FakekubeProcess> start(FakekubeOptions options = FakekubeOptions());

    FakekubeProcess(FakekubeProcess&&) noexcept;
    FakekubeProcess& operator=(FakekubeProcess&&) = delete;
    ~FakekubeProcess();

    [[nodiscard]] const std::string& url() const { return m_state->url; } // https://127.0.0.1:PORT
    [[nodiscard]] int port() const { return m_state->port; }
    [[nodiscard]] const std::string& name() const { return m_state->name; }
    // The admin kubeconfig fakekube wrote (context, cluster and user all named name()).
    [[nodiscard]] const std::filesystem::path& kubeconfig() const { return m_state->kubeconfig; }
    // The CA certificate (PEM) from that kubeconfig.
    [[nodiscard]] util::Result<std::string> ca_pem() const;
    // The admin kubeconfig resolved into a RestConfig.
    [[nodiscard]] util::Result<kube::RestConfig>
    rest_config(const kube::ConfigOverrides& overrides = {}) const;

    // Sends SIGTERM and waits for a clean exit; an error when it does not exit 0 in time.
    util::Result<void> stop();

    // Everything fakekube printed on stdout so far.
    [[nodiscard]] std::string output() const;

private:
    struct State {
        std::string name;
        std::string url;
        int port = 0;
        std::filesystem::path kubeconfig;
        std::optional<TempDirectory> dir;
        util::ChildProcess child;
        util::Fd stdout_pipe;
        std::thread drainer;
        mutable std::mutex mutex;
        std::string stdout_text;
        ~State();
    };
    explicit FakekubeProcess(std::unique_ptr<State> state) : m_state(std::move(state)) {}
    std::unique_ptr<State> m_state;
};

struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs `argv` (argv[0] looked up on the PATH given in `env`, else ours) with exactly `env` as its
// environment, capturing stdout and stderr.
util::Result<CommandResult> run_command(const std::vector<std::string>& argv,
                                        const std::vector<std::string>& env,
                                        std::chrono::seconds timeout = std::chrono::seconds(120));

// The error message of a Result, or "" when it holds a value. Boost evaluates a check's message even when the
// check passes, so `BOOST_TEST(r.has_value(), r.error().message)` would read an error that is not there.
template <typename R>
std::string error_message(const R& result) {
    return result.has_value() ? std::string() : result.error().message;
}

// This process's environment with `overrides` ("NAME=value") applied.
std::vector<std::string> environment_with(const std::vector<std::string>& overrides);

} // namespace meshlink::test
