#pragma once
// Shared by the kube integration tests: a fakekube plus a client, kubeconfigs for other users, log capture.

#include "kube/client.hpp"
#include "tests/integration/support/fakekube_process.hpp"
#include "util/base64.hpp"
#include "util/log.hpp"
#include "yaml/yaml.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <mutex>
#include <string>
#include <vector>

namespace meshlink::test {

inline FakekubeProcess start_fakekube(FakekubeOptions options) {
    auto server = FakekubeProcess::start(std::move(options));
    BOOST_TEST_REQUIRE(server.has_value(), error_message(server));
    return std::move(*server);
}

inline FakekubeProcess start_fakekube(const std::string& name) {
    return start_fakekube(FakekubeOptions(name));
}

// A GET (or other bodiless) request for `path`.
inline kube::Request request_for(std::string path, std::string method = "GET") {
    kube::Request request;
    request.method = std::move(method);
    request.path = std::move(path);
    return request;
}

inline kube::Client client_for(const kube::RestConfig& config, kube::ClientOptions options = {}) {
    auto client = kube::Client::from_config(config, std::move(options));
    BOOST_TEST_REQUIRE(client.has_value(), error_message(client));
    return std::move(*client);
}

inline kube::Client admin_client(const FakekubeProcess& server, kube::ClientOptions options = {}) {
    auto config = server.rest_config();
    BOOST_TEST_REQUIRE(config.has_value(), error_message(config));
    return client_for(*config, std::move(options));
}

// A kubeconfig for `server` whose user stanza is `user_yaml` (indented under `user:`), context "it".
inline std::filesystem::path write_kubeconfig(const TempDirectory& dir, const FakekubeProcess& server,
                                              const std::string& user_yaml,
                                              const std::string& cluster_extra = "",
                                              const std::string& file = "kubeconfig") {
    auto ca = server.ca_pem();
    BOOST_TEST_REQUIRE(ca.has_value(), error_message(ca));
    std::string text =
        "apiVersion: v1\nkind: Config\ncurrent-context: it\nclusters:\n- name: it\n  cluster:\n"
        "    server: " +
        server.url() + "\n";
    if (cluster_extra.empty()) {
        text += "    certificate-authority-data: " + util::base64_encode(*ca) + "\n";
    } else {
        text += cluster_extra;
    }
    text += "contexts:\n- name: it\n  context: {cluster: it, user: it}\nusers:\n- name: it\n  user:\n" +
            user_yaml;
    return dir.write(file, text);
}

inline kube::RestConfig load_config(const std::filesystem::path& kubeconfig) {
    kube::LoadingRules rules;
    rules.explicit_path = kubeconfig;
    auto config = kube::load_rest_config(rules, {}, kube::InClusterEnvironment{});
    BOOST_TEST_REQUIRE(config.has_value(), error_message(config));
    return std::move(*config);
}

inline void create_namespace(kube::Client& client, const std::string& name) {
    auto created = client.create(
        "/api/v1/namespaces", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}});
    BOOST_TEST_REQUIRE(created.has_value(), error_message(created));
}

inline nlohmann::json config_map(const std::string& name, const std::string& value,
                                 const nlohmann::json& labels = nlohmann::json::object()) {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"labels", labels}}},
            {"data", {{"value", value}}}};
}

// Captures kube::log output at a verbosity for one scope.
class LogCapture {
public:
    explicit LogCapture(int verbosity) : m_saved(util::log::verbosity()) {
        util::log::set_verbosity(verbosity);
        util::log::set_sink([this](util::log::Severity, std::string_view line) {
            std::lock_guard lock(m_mutex);
            m_lines.emplace_back(line);
        });
    }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;
    ~LogCapture() {
        util::log::set_sink(nullptr);
        util::log::set_verbosity(m_saved);
    }
    std::vector<std::string> lines() const {
        std::lock_guard lock(m_mutex);
        return m_lines;
    }
    std::string text() const {
        std::string all;
        for (const auto& line : lines()) {
            all += line + "\n";
        }
        return all;
    }
    int count(const std::string& part) const {
        int n = 0;
        for (const auto& line : lines()) {
            n += line.find(part) != std::string::npos ? 1 : 0;
        }
        return n;
    }

private:
    int m_saved;
    mutable std::mutex m_mutex;
    std::vector<std::string> m_lines;
};

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace meshlink::test
