#include "tests/integration/mesh/harness.hpp"

#include "kube/client.hpp"
#include "util/base64.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace meshlink::test {

CiliumClusterSpec mesh_cluster(int index, int clusters) {
    CiliumClusterSpec s = healthy_cluster(index);
    s.context = fmt::format("kind-cluster{}", index);
    s.cluster_name = fmt::format("cluster{}", index);
    s.helm_release = false;
    s.helm_owned_objects = false;
    for (std::size_t n = 0; n < s.nodes.size(); ++n) {
        s.nodes[n].internal_ip = fmt::format("127.0.{}.{}", index, 10 + n);
        s.nodes[n].external_ip = fmt::format("203.0.113.{}", index * 10 + static_cast<int>(n));
    }
    std::vector<std::string> peers;
    for (int other = 1; other <= clusters; ++other) {
        if (other != index) {
            peers.push_back(fmt::format("cluster{}", other));
        }
    }
    s.agent_status = agent_status_document(peers);
    return s;
}

Mesh::Mesh(std::vector<CiliumClusterSpec> specs, const MeshOptions& options) : m_specs(std::move(specs)) {
    m_home = m_dir.path() / "home";
    std::filesystem::create_directories(m_home / ".kube");
    std::string kubeconfigs;
    for (const auto& spec : m_specs) {
        FakekubeOptions fk = fakekube_options(spec, m_dir);
        fk.faults = options.faults;
        fk.latency_ms = options.latency_ms;
        if (!options.admin_token.empty()) {
            // Next to the seed's own tokens (a read-only user's), if it has any.
            std::string tokens;
            if (fk.token_file) {
                std::ifstream in(*fk.token_file);
                tokens.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            }
            tokens += options.admin_token + ",mesh-admin,3001,\"system:masters\"\n";
            fk.token_file = m_dir.write(spec.context + ".tokens", tokens);
        }
        fk.extra_args.push_back("--controller-delay-ms");
        fk.extra_args.push_back("20");
        auto server = FakekubeProcess::start(fk);
        if (!server) {
            throw std::runtime_error("fakekube " + spec.context + ": " + server.error().message);
        }
        kubeconfigs += (kubeconfigs.empty() ? "" : ":") + server->kubeconfig().string();
        m_servers.push_back(std::move(*server));
    }
    // One kubeconfig with every context, as a user would have it.
    auto view = run_command({"kubectl", "config", "view", "--flatten", "--raw"},
                            environment_with({"KUBECONFIG=" + kubeconfigs, "HOME=" + m_home.string()}));
    if (!view || view->exit_code != 0) {
        throw std::runtime_error("kubectl config view: " + (view ? view->err : view.error().message));
    }
    m_dir.write("home/.kube/config", view->out);
    std::filesystem::permissions(kubeconfig(),
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    auto use = run_command({"kubectl", "config", "use-context", m_specs.front().context}, env());
    if (!use || use->exit_code != 0) {
        throw std::runtime_error("kubectl config use-context failed");
    }
}

std::vector<std::string> Mesh::env(bool standin, const std::vector<std::string>& extra) const {
    std::string path = bin_dir().string();
    if (standin) {
        path = (std::filesystem::path(MESHLINK_SOURCE_DIR) / "tests/integration/mesh/standin").string() +
               ":" + path;
    }
    const char* system_path = std::getenv("PATH");
    path += ":" + std::string(system_path != nullptr ? system_path : "/usr/bin:/bin");
    std::vector<std::string> overrides = {"HOME=" + m_home.string(), "KUBECONFIG=" + kubeconfig().string(),
                                          "PATH=" + path, "MESHLINK_STANDIN_LOG=" + standin_log().string(),
                                          "NO_COLOR=1"};
    overrides.insert(overrides.end(), extra.begin(), extra.end());
    return environment_with(overrides);
}

CommandResult Mesh::meshlink(const std::vector<std::string>& args, bool standin,
                             const std::vector<std::string>& extra_env) const {
    std::vector<std::string> argv = {"kubectl", "meshlink"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run_command(argv, env(standin, extra_env), std::chrono::seconds(300));
    if (!result) {
        throw std::runtime_error("kubectl meshlink: " + result.error().message);
    }
    return *result;
}

CommandResult Mesh::kubectl(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"kubectl"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run_command(argv, env());
    if (!result) {
        throw std::runtime_error("kubectl: " + result.error().message);
    }
    return *result;
}

namespace {

kube::Client admin(const FakekubeProcess& server) {
    auto config = server.rest_config();
    if (!config) {
        throw std::runtime_error(config.error().message);
    }
    auto client = kube::Client::from_config(std::move(*config));
    if (!client) {
        throw std::runtime_error(client.error().message);
    }
    return std::move(*client);
}

void strip(json& object) {
    if (!object.is_object() || !object.contains("metadata")) {
        return;
    }
    auto& meta = object["metadata"];
    for (const char* field : {"resourceVersion", "generation", "managedFields"}) {
        meta.erase(field);
    }
    // Status is the controllers' (fakekube fills it in after every change of a workload).
    if (object.contains("status") && object.value("kind", "") != "Node") {
        object.erase("status");
    }
}

} // namespace

json Mesh::get(std::size_t i, const std::string& path) const {
    auto client = admin(m_servers[i]);
    auto object = client.get(path);
    if (!object) {
        if (object.error().kind == util::ErrorKind::not_found) {
            return nullptr;
        }
        throw std::runtime_error("GET " + path + ": " + object.error().message);
    }
    return *object;
}

json Mesh::dump(std::size_t i) const {
    auto client = admin(m_servers[i]);
    json out = json::object();
    const std::vector<std::pair<std::string, std::string>> kinds = {
        {"ConfigMap", "/api/v1/configmaps"},
        {"Secret", "/api/v1/secrets"},
        {"Service", "/api/v1/services"},
        {"EndpointSlice", "/apis/discovery.k8s.io/v1/endpointslices"},
        {"Deployment", "/apis/apps/v1/deployments"},
        {"DaemonSet", "/apis/apps/v1/daemonsets"},
        {"Pod", "/api/v1/pods"},
        {"Node", "/api/v1/nodes"},
    };
    for (const auto& [kind, path] : kinds) {
        auto list = client.list(path);
        if (!list) {
            throw std::runtime_error("LIST " + path + ": " + list.error().message);
        }
        for (auto item : (*list)["items"]) {
            strip(item);
            const auto& meta = item["metadata"];
            out[kind + "/" + meta.value("namespace", "") + "/" + meta.value("name", "")] = item;
        }
    }
    return out;
}

json Mesh::stats(std::size_t i) const {
    auto stats = fakekube_stats(m_servers[i]);
    if (!stats) {
        throw std::runtime_error("stats: " + stats.error().message);
    }
    return *stats;
}

long Mesh::writes(std::size_t i) const {
    const json s = stats(i);
    return s.value("POST", 0L) + s.value("PUT", 0L) + s.value("PATCH", 0L) + s.value("DELETE", 0L);
}

std::string secret_value(const json& secret, const std::string& key) {
    if (!secret.is_object() || !secret.contains("data") || !secret["data"].contains(key)) {
        return {};
    }
    return util::base64_decode(secret["data"][key].get<std::string>()).value_or("");
}

bool leaks(const std::string& text, const std::string& pem) {
    if (text.find(util::base64_encode(pem)) != std::string::npos) {
        return true;
    }
    std::istringstream lines(pem);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.size() >= 40 && line.find("-----") == std::string::npos &&
            text.find(line) != std::string::npos) {
            return true;
        }
    }
    return false;
}

} // namespace meshlink::test
