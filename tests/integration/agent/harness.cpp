#include "tests/integration/agent/harness.hpp"

#include "yaml/yaml.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <regex>
#include <sstream>

namespace meshlink::test {

AgentProcess::State::~State() {
    child.kill_and_reap();
    if (drainer.joinable()) {
        drainer.join();
    }
}

AgentProcess::AgentProcess(AgentProcess&&) noexcept = default;
AgentProcess::~AgentProcess() = default;

util::Result<AgentProcess> AgentProcess::start(const std::vector<std::string>& args,
                                               const std::vector<std::string>& launcher) {
    const auto program = bin_dir() / "meshlink-agent";
    if (::access(program.c_str(), X_OK) != 0) {
        return util::fail(util::ErrorKind::not_found,
                          program.string() + " is missing; build meshlink-agent first");
    }
    std::vector<std::string> argv = launcher;
    argv.push_back(program.string());
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> c_argv;
    for (auto& arg : argv) {
        c_argv.push_back(arg.data());
    }
    c_argv.push_back(nullptr);
    // No NODE_NAME, KUBERNETES_SERVICE_* or KUBECONFIG from the test's environment: only what the args say.
    auto env = util::environment_with({"NODE_NAME=", "KUBERNETES_SERVICE_HOST=", "KUBECONFIG="});
    std::vector<char*> c_env;
    for (auto& entry : env) {
        c_env.push_back(entry.data());
    }
    c_env.push_back(nullptr);

    int fds[2] = {-1, -1};
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return util::fail(util::ErrorKind::io, fmt::format("pipe: {}", std::strerror(errno)));
    }
    util::Fd read_end(fds[0]);
    util::Fd write_end(fds[1]);
    util::Fd dev_null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        return util::fail(util::ErrorKind::io, fmt::format("fork: {}", std::strerror(errno)));
    }
    if (pid == 0) {
        // Only async-signal-safe calls until exec. The agent dies with the test, never outlives it.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        ::dup2(dev_null.get(), STDIN_FILENO);
        ::dup2(dev_null.get(), STDOUT_FILENO);
        ::dup2(write_end.get(), STDERR_FILENO);
        // The test process may block signals in its threads; the agent must start with a clean mask.
        sigset_t empty;
        ::sigemptyset(&empty);
        ::sigprocmask(SIG_SETMASK, &empty, nullptr);
        ::execve(c_argv[0], c_argv.data(), c_env.data());
        ::_exit(127);
    }
    auto state = std::make_unique<State>();
    state->child = util::ChildProcess(pid);
    write_end.reset();
    state->stderr_pipe = std::move(read_end);
    State* raw = state.get();
    state->drainer = std::thread([raw] {
        char buffer[4096];
        for (;;) {
            const ssize_t n = ::read(raw->stderr_pipe.get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return;
            }
            std::lock_guard lock(raw->mutex);
            raw->text.append(buffer, static_cast<std::size_t>(n));
        }
    });
    const std::regex address(R"(on http://[^\s:]+:([0-9]+))");
    const bool up = wait_for(
        [&] {
            std::lock_guard lock(raw->mutex);
            std::smatch match;
            if (std::regex_search(raw->text, match, address)) {
                raw->port = std::stoi(match[1]);
                return true;
            }
            return false;
        },
        std::chrono::seconds(60));
    if (!up) {
        std::lock_guard lock(raw->mutex);
        return util::fail(util::ErrorKind::timeout, "meshlink-agent did not start serving: " + raw->text);
    }
    return AgentProcess(std::move(state));
}

void AgentProcess::signal(int signo) const {
    ::kill(m_state->child.pid(), signo);
}

std::optional<int> AgentProcess::wait_exit(std::chrono::seconds timeout) {
    return m_state->child.wait_until(std::chrono::steady_clock::now() + timeout);
}

std::string AgentProcess::log() const {
    std::lock_guard lock(m_state->mutex);
    return m_state->text;
}

std::vector<std::string> fixture_serve_args(const std::filesystem::path& kubeconfig,
                                            const std::string& node) {
    const auto fixture = std::filesystem::path(MESHLINK_SOURCE_DIR) / "tests/fixtures/nodes/centos7";
    return {"serve",
            "--kubeconfig",
            kubeconfig.string(),
            "--node-name",
            node,
            "--skip-bpf",
            "--root",
            (fixture / "root").string(),
            "--proc",
            (fixture / "proc").string(),
            "--sys",
            (fixture / "sys").string(),
            "--listen-address",
            "127.0.0.1",
            "--port",
            "0",
            "--log-target",
            "stderr"};
}

util::Result<std::filesystem::path> token_kubeconfig(const FakekubeProcess& server, const TempDirectory& dir,
                                                     const std::string& token, const std::string& label) {
    const std::string user = label.empty() ? token : label;
    const auto path = dir.path() / (user + ".kubeconfig");
    std::filesystem::copy_file(server.kubeconfig(), path);
    const auto env = environment_with({"KUBECONFIG=" + path.string()});
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {"kubectl", "config", "set-credentials", user, "--token=" + token},
             {"kubectl", "config", "set-context", "--current", "--user=" + user}}) {
        auto result = run_command(argv, env);
        if (!result) {
            return std::unexpected(result.error());
        }
        if (result->exit_code != 0) {
            return util::fail(util::ErrorKind::generic, "kubectl config: " + result->err);
        }
    }
    return path;
}

util::Result<std::string> agent_pod_token(const FakekubeProcess& server, const TempDirectory& dir,
                                          const std::string& node) {
    const std::string pod = "meshlink-agent-" + node;
    const json manifest = {
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata",
         {{"name", pod},
          {"namespace", "meshlink-system"},
          {"labels", {{"app.kubernetes.io/name", "meshlink-agent"}}}}},
        {"spec",
         {{"serviceAccountName", "meshlink-agent"},
          {"nodeName", node},
          {"containers", json::array({{{"name", "agent"}, {"image", "meshlink-agent:test"}}})}}}};
    const auto env = environment_with({"KUBECONFIG=" + server.kubeconfig().string()});
    auto created =
        run_command({"kubectl", "create", "-f", dir.write(pod + ".json", manifest.dump()).string()}, env);
    if (!created) {
        return std::unexpected(created.error());
    }
    if (created->exit_code != 0) {
        return util::fail(util::ErrorKind::generic, "kubectl create pod " + pod + ": " + created->err);
    }
    auto token = run_command({"kubectl", "create", "token", "meshlink-agent", "-n", "meshlink-system",
                              "--bound-object-kind", "Pod", "--bound-object-name", pod},
                             env);
    if (!token) {
        return std::unexpected(token.error());
    }
    if (token->exit_code != 0 || token->out.empty()) {
        return util::fail(util::ErrorKind::generic, "kubectl create token: " + token->err);
    }
    return token->out;
}

util::Result<HttpAnswer> http_get(int port, const std::string& path) {
    util::Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) {
        return util::fail(util::ErrorKind::io, fmt::format("socket: {}", std::strerror(errno)));
    }
    timeval timeout{10, 0};
    ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        return util::fail(util::ErrorKind::unavailable,
                          fmt::format("connect 127.0.0.1:{}: {}", port, std::strerror(errno)));
    }
    const std::string request =
        fmt::format("GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", path, port);
    if (::send(sock.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
        return util::fail(util::ErrorKind::io, "send failed");
    }
    std::string raw;
    char buffer[8192];
    for (;;) {
        const ssize_t n = ::recv(sock.get(), buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        raw.append(buffer, static_cast<std::size_t>(n));
    }
    const auto header_end = raw.find("\r\n\r\n");
    if (header_end == std::string::npos || !raw.starts_with("HTTP/1.")) {
        return util::fail(util::ErrorKind::parse, "not an HTTP answer: " + raw.substr(0, 200));
    }
    HttpAnswer answer;
    answer.status = std::stoi(raw.substr(9, 3));
    std::istringstream headers(raw.substr(0, header_end));
    std::string line;
    bool chunked = false;
    while (std::getline(headers, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        std::string lower = line;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        if (lower.starts_with("content-type:")) {
            answer.content_type = line.substr(line.find(':') + 2);
        } else if (lower.starts_with("transfer-encoding:") && lower.find("chunked") != std::string::npos) {
            chunked = true;
        }
    }
    std::string body = raw.substr(header_end + 4);
    if (chunked) {
        std::string decoded;
        std::size_t pos = 0;
        while (pos < body.size()) {
            const auto eol = body.find("\r\n", pos);
            const auto size = std::stoul(body.substr(pos, eol - pos), nullptr, 16);
            if (size == 0) {
                break;
            }
            decoded += body.substr(eol + 2, size);
            pos = eol + 2 + size + 2;
        }
        body = std::move(decoded);
    }
    answer.body = std::move(body);
    return answer;
}

bool wait_for(const std::function<bool()>& condition, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return condition();
}

json fakekube_stats(kube::Client& client) {
    kube::Request request;
    request.path = "/fakekube/stats";
    auto response = client.send(request);
    if (!response || response->status != 200) {
        throw std::runtime_error("GET /fakekube/stats failed");
    }
    return json::parse(response->body).at("requests");
}

void reset_fakekube_stats(kube::Client& client) {
    kube::Request request;
    request.method = "DELETE";
    request.path = "/fakekube/stats";
    auto response = client.send(request);
    if (!response || response->status != 200) {
        throw std::runtime_error("DELETE /fakekube/stats failed");
    }
}

int write_count(const json& stats) {
    int total = 0;
    for (const char* verb : {"POST", "PUT", "PATCH", "DELETE"}) {
        total += stats.value(verb, 0);
    }
    return total;
}

std::vector<json> yaml_stream_to_json(const std::string& text) {
    std::vector<json> out;
    for (const auto& document : YAML::LoadAll(text)) {
        if (document.IsNull()) {
            continue;
        }
        out.push_back(yaml::to_json(document));
    }
    return out;
}

std::map<std::string, json> by_identity(const std::vector<json>& objects) {
    std::map<std::string, json> out;
    for (const auto& object : objects) {
        const auto& metadata = object.at("metadata");
        out[fmt::format("{}/{}/{}", object.value("kind", ""), metadata.value("namespace", ""),
                        metadata.value("name", ""))] = object;
    }
    return out;
}

std::map<std::string, double> parse_metrics(const std::string& text) {
    std::map<std::string, double> out;
    std::istringstream lines(text);
    std::string line;
    const std::regex sample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+))");
    const std::regex label(R"lbl(([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)")lbl");
    while (std::getline(lines, line)) {
        std::smatch m;
        if (line.starts_with("#") || !std::regex_match(line, m, sample)) {
            continue;
        }
        std::vector<std::string> labels;
        const std::string label_text = m[3];
        for (std::sregex_iterator it(label_text.begin(), label_text.end(), label), end; it != end; ++it) {
            labels.push_back(fmt::format("{}=\"{}\"", (*it)[1].str(), (*it)[2].str()));
        }
        std::sort(labels.begin(), labels.end());
        std::string key = m[1];
        if (!labels.empty()) {
            key += "{";
            for (std::size_t i = 0; i < labels.size(); ++i) {
                key += (i == 0 ? "" : ",") + labels[i];
            }
            key += "}";
        }
        out[key] = std::stod(m[4]);
    }
    return out;
}

} // namespace meshlink::test
