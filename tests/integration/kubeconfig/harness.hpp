#pragma once
// What the kubeconfig integration tests share: running kubectl and kubectl-meshlink in a private HOME,
// the fixture corpus instantiated with freshly generated certificates, and kubectl's own view of files.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::test {

struct Run {
    int code = -1; // exit code, or 128 + signal
    std::string out;
    std::string err;
};

// The fixture corpus copied into a fresh directory with certificates made for this run.
class Workspace {
public:
    Workspace();
    ~Workspace();
    Workspace(const Workspace&) = delete;
    Workspace& operator=(const Workspace&) = delete;

    [[nodiscard]] const std::filesystem::path& dir() const { return m_dir; }
    // A corpus file by its path under tests/fixtures/kubeconfig ("kind.yaml", "relative-paths/config").
    [[nodiscard]] std::filesystem::path fixture(const std::string& name) const;
    // A path for a new file in the workspace.
    [[nodiscard]] std::filesystem::path path(const std::string& name) const { return m_dir / name; }
    // The PEM and base64 forms of the generated material: "ca", "ca2", "client", "client2".
    [[nodiscard]] std::string cert_pem(const std::string& which) const;
    // A kubeconfig with `count` contexts made by the corpus generator script.
    std::filesystem::path many_contexts(const std::string& prefix, int count);

    // Runs a program (no shell) with HOME set to the workspace and KUBECONFIG unset unless given in `env`.
    Run run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) const;
    Run meshlink(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) const;
    Run kubectl(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) const;
    // Starts kubectl-meshlink without waiting; returns its pid.
    int spawn_meshlink(const std::vector<std::string>& args) const;

    // `kubectl config view --flatten --raw -o json` of a KUBECONFIG list; fails the test when kubectl does.
    nlohmann::json kubectl_view(const std::vector<std::filesystem::path>& files, bool minify = false,
                                const std::string& context = {}) const;

private:
    std::filesystem::path m_dir;
    std::vector<std::pair<std::string, std::string>> m_material; // name -> PEM
};

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& text);
void copy_file(const std::filesystem::path& from, const std::filesystem::path& to);

// kubectl's view as {"clusters": {name: entry}, "users": ..., "contexts": ..., "current-context": ...,
// "preferences": ...}, so two views compare entry by entry.
nlohmann::json by_name(const nlohmann::json& view);

// Files in `dir` whose name starts with `prefix`.
std::vector<std::filesystem::path> files_starting_with(const std::filesystem::path& dir,
                                                       const std::string& prefix);

// True when kubectl is on PATH.
bool have_kubectl();

} // namespace meshlink::test
