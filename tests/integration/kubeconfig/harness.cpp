#include "harness.hpp"

#include "kube/pki.hpp"
#include "util/base64.hpp"
#include "yaml/yaml.hpp"

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

extern char** environ;

namespace meshlink::test {
namespace fs = std::filesystem;

namespace {

fs::path fixtures_dir() {
    return fs::path(MESHLINK_SOURCE_DIR) / "tests" / "fixtures" / "kubeconfig";
}

fs::path meshlink_binary() {
    const char* dir = std::getenv("MESHLINK_BIN_DIR");
    return fs::path(dir != nullptr ? dir : MESHLINK_BINARY_DIR "/bin") / "kubectl-meshlink";
}

std::vector<std::string> environment(const fs::path& home, const std::vector<std::string>& overrides) {
    std::vector<std::string> env;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string value(*entry);
        if (!value.starts_with("KUBECONFIG=") && !value.starts_with("HOME=")) {
            env.push_back(value);
        }
    }
    env.push_back("HOME=" + home.string());
    env.push_back("NO_COLOR=1");
    for (const auto& item : overrides) {
        env.push_back(item);
    }
    return env;
}

int spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, const fs::path& out,
          const fs::path& err) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char*> args;
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& item : env) {
        envp.push_back(const_cast<char*>(item.c_str()));
    }
    envp.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, argv.front().c_str(), &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    BOOST_TEST_REQUIRE(rc == 0, "spawn " << argv.front() << ": " << std::strerror(rc));
    return pid;
}

std::string substitute(std::string text, const std::vector<std::pair<std::string, std::string>>& values) {
    for (const auto& [token, value] : values) {
        for (std::size_t at = text.find(token); at != std::string::npos;
             at = text.find(token, at + value.size())) {
            text.replace(at, token.size(), value);
        }
    }
    return text;
}

} // namespace

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

void copy_file(const fs::path& from, const fs::path& to) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

bool have_kubectl() {
    for (const char* dir : {"/usr/local/bin", "/usr/bin", "/bin"}) {
        if (::access((fs::path(dir) / "kubectl").c_str(), X_OK) == 0) {
            return true;
        }
    }
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        if (!dir.empty() && ::access((fs::path(dir) / "kubectl").c_str(), X_OK) == 0) {
            return true;
        }
    }
    return false;
}

Workspace::Workspace() {
    std::string pattern = (fs::temp_directory_path() / "meshlink-kubeconfig-it-XXXXXX").string();
    m_dir = ::mkdtemp(pattern.data());
    using kube::pki::CertificateSpec;
    auto make = [this](const std::string& ca_name, const std::string& client_name, const std::string& cn) {
        CertificateSpec ca_spec;
        ca_spec.common_name = cn + "-ca";
        auto ca = kube::pki::generate_ca(ca_spec);
        BOOST_TEST_REQUIRE(ca.has_value());
        CertificateSpec client_spec;
        client_spec.common_name = "kubernetes-admin";
        client_spec.organizations = {"system:masters"};
        client_spec.ext_key_usage = {kube::pki::ExtKeyUsage::client_auth};
        client_spec.validity = std::chrono::hours(24 * 20); // inside the 30-day warning window on purpose
        auto client = kube::pki::generate_signed(client_spec, *ca);
        BOOST_TEST_REQUIRE(client.has_value());
        m_material.emplace_back(ca_name, ca->cert_pem);
        m_material.emplace_back(ca_name + "-key", ca->key_pem);
        m_material.emplace_back(client_name, client->cert_pem);
        m_material.emplace_back(client_name + "-key", client->key_pem);
    };
    make("ca", "client", "cluster01");
    make("ca2", "client2", "cluster02");
    const std::vector<std::pair<std::string, std::string>> values{
        {"@@CA_DATA@@", util::base64_encode(cert_pem("ca"))},
        {"@@CA2_DATA@@", util::base64_encode(cert_pem("ca2"))},
        {"@@CLIENT_CERT_DATA@@", util::base64_encode(cert_pem("client"))},
        {"@@CLIENT_KEY_DATA@@", util::base64_encode(cert_pem("client-key"))},
        {"@@CLIENT2_CERT_DATA@@", util::base64_encode(cert_pem("client2"))},
        {"@@CLIENT2_KEY_DATA@@", util::base64_encode(cert_pem("client2-key"))},
    };
    for (const auto& entry : fs::recursive_directory_iterator(fixtures_dir())) {
        if (!entry.is_regular_file()) {
            continue;
        }
        const fs::path relative = fs::relative(entry.path(), fixtures_dir());
        write_file(m_dir / "fixtures" / relative, substitute(read_file(entry.path()), values));
    }
    const fs::path pki = m_dir / "fixtures" / "relative-paths" / "pki";
    write_file(pki / "ca.crt", cert_pem("ca"));
    write_file(pki / "admin.crt", cert_pem("client"));
    write_file(pki / "admin.key", cert_pem("client-key"));
    write_file(m_dir / "fixtures" / "relative-paths" / "bin" / "cred-helper", "#!/bin/sh\nexit 1\n");
    fs::create_directories(m_dir / "home");
}

Workspace::~Workspace() {
    if (std::getenv("MESHLINK_KEEP_TEST_DIR") == nullptr) {
        std::error_code ec;
        fs::remove_all(m_dir, ec);
    } else {
        std::cerr << "kept " << m_dir << "\n";
    }
}

fs::path Workspace::fixture(const std::string& name) const {
    return m_dir / "fixtures" / name;
}

std::string Workspace::cert_pem(const std::string& which) const {
    for (const auto& [name, pem] : m_material) {
        if (name == which) {
            return pem;
        }
    }
    BOOST_FAIL("no test material named " << which);
    return {};
}

fs::path Workspace::many_contexts(const std::string& prefix, int count) {
    const fs::path out = m_dir / (prefix + "-" + std::to_string(count) + ".yaml");
    if (fs::exists(out)) {
        return out;
    }
    write_file(m_dir / "pki" / "ca.crt", cert_pem("ca"));
    write_file(m_dir / "pki" / "client.crt", cert_pem("client"));
    write_file(m_dir / "pki" / "client.key", cert_pem("client-key"));
    Run generated =
        run({"python3", (fixtures_dir() / "generate-many-contexts.py").string(), "--count",
             std::to_string(count), "--prefix", prefix, "--ca", (m_dir / "pki/ca.crt").string(), "--cert",
             (m_dir / "pki/client.crt").string(), "--key", (m_dir / "pki/client.key").string()});
    BOOST_TEST_REQUIRE(generated.code == 0, generated.err);
    write_file(out, generated.out);
    return out;
}

Run Workspace::run(const std::vector<std::string>& argv, const std::vector<std::string>& env) const {
    static std::atomic<int> counter{0};
    const fs::path out = m_dir / ("run-" + std::to_string(++counter) + ".out");
    const fs::path err = m_dir / (out.stem().string() + ".err");
    const int pid = spawn(argv, environment(m_dir / "home", env), out, err);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    Run result;
    result.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = read_file(out);
    result.err = read_file(err);
    fs::remove(out);
    fs::remove(err);
    return result;
}

Run Workspace::meshlink(const std::vector<std::string>& args, const std::vector<std::string>& env) const {
    std::vector<std::string> argv{meshlink_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, env);
}

Run Workspace::kubectl(const std::vector<std::string>& args, const std::vector<std::string>& env) const {
    std::vector<std::string> argv{"kubectl"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, env);
}

int Workspace::spawn_meshlink(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{meshlink_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return spawn(argv, environment(m_dir / "home", {}), m_dir / "spawned.out", m_dir / "spawned.err");
}

nlohmann::json Workspace::kubectl_view(const std::vector<fs::path>& files, bool minify,
                                       const std::string& context) const {
    std::string list;
    for (const auto& file : files) {
        list += (list.empty() ? "" : ":") + file.string();
    }
    std::vector<std::string> args{"config", "view", "--flatten", "--raw", "-o", "json"};
    if (minify) {
        args.push_back("--minify");
    }
    if (!context.empty()) {
        args.push_back("--context=" + context);
    }
    Run view = kubectl(args, {"KUBECONFIG=" + list});
    BOOST_TEST_REQUIRE(view.code == 0, "kubectl config view of " << list << ": " << view.err);
    return nlohmann::json::parse(view.out);
}

nlohmann::json by_name(const nlohmann::json& view) {
    nlohmann::json out = nlohmann::json::object();
    for (const char* list : {"clusters", "users", "contexts"}) {
        out[list] = nlohmann::json::object();
        if (view.contains(list) && view[list].is_array()) {
            for (const auto& entry : view[list]) {
                out[list][entry.value("name", "")] = entry;
            }
        }
    }
    out["current-context"] = view.value("current-context", "");
    out["preferences"] = view.value("preferences", nlohmann::json::object());
    out["extensions"] = view.value("extensions", nlohmann::json::array());
    return out;
}

std::vector<fs::path> files_starting_with(const fs::path& dir, const std::string& prefix) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().filename().string().starts_with(prefix)) {
            found.push_back(entry.path());
        }
    }
    return found;
}

} // namespace meshlink::test
