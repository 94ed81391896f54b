// `kubectl meshlink <TAB>`: kubectl (1.26+) completes a plugin's arguments by running
// kubectl_complete-meshlink from PATH. These tests install the helper with `completion install` and ask real
// kubectl through its own
// `__complete` entry point, the one its shell scripts call, so they see exactly what a user's shell gets.

#include "tests/integration/support/fakekube_process.hpp"
#include "util/subprocess.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

using namespace meshlink;
using namespace meshlink::test;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_kubeconfig = R"(apiVersion: v1
kind: Config
current-context: alpha
clusters:
- name: cluster-alpha
  cluster: {server: "https://127.0.0.1:1"}
- name: cluster-beta
  cluster: {server: "https://127.0.0.1:2"}
users:
- name: user-alpha
  user: {token: not-a-secret}
contexts:
- name: alpha
  context: {cluster: cluster-alpha, user: user-alpha}
- name: beta
  context: {cluster: cluster-beta, user: user-alpha}
)";

// The built plugin (run_command looks names up on this process's PATH, not the child's).
std::string plugin() {
    return (bin_dir() / "kubectl-meshlink").string();
}

// A PATH with the helper's directory first, then the built plugin, then the system (kubectl).
struct Setup {
    TempDirectory dir;
    fs::path helper_dir;
    std::string path;
    fs::path kubeconfig;

    Setup() {
        helper_dir = dir.path() / "helpers";
        fs::create_directories(helper_dir);
        path = helper_dir.string() + ":" + bin_dir().string() + ":/usr/local/bin:/usr/bin:/bin";
        kubeconfig = dir.write("kubeconfig", std::string(k_kubeconfig));
    }

    std::vector<std::string> env() const {
        return environment_with({"PATH=" + path, "KUBECONFIG=" + kubeconfig.string(),
                                 "HOME=" + dir.path().string(), "NO_COLOR=1"});
    }

    CommandResult run(const std::vector<std::string>& argv) const {
        auto result = run_command(argv, env());
        BOOST_TEST_REQUIRE(result.has_value(), error_message(result));
        return std::move(*result);
    }

    void install() const {
        const auto installed = run({plugin(), "completion", "install", "--dir", helper_dir.string()});
        BOOST_TEST_REQUIRE(installed.exit_code == 0, installed.err);
    }
};

struct Answer {
    std::vector<std::string> values;
    std::string directive;
};

// `kubectl __complete meshlink <words>`: kubectl's own completion entry point.
Answer kubectl_complete(const Setup& setup, std::vector<std::string> words) {
    words.insert(words.begin(), {"kubectl", "__complete", "meshlink"});
    const auto result = setup.run(words);
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    Answer answer;
    std::istringstream lines(result.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with(":")) {
            answer.directive = line;
        } else if (!line.empty()) {
            answer.values.push_back(line.substr(0, line.find('\t')));
        }
    }
    return answer;
}

bool has(const Answer& answer, const std::string& value) {
    return std::find(answer.values.begin(), answer.values.end(), value) != answer.values.end();
}

std::string shown(const Answer& answer) {
    std::string text;
    for (const auto& value : answer.values) {
        text += value + " ";
    }
    return text + answer.directive;
}

} // namespace

BOOST_AUTO_TEST_CASE(kubectl_completes_verbs_subcommands_and_flags_through_the_installed_helper) {
    Setup setup;
    setup.install();
    BOOST_TEST(fs::exists(setup.helper_dir / "kubectl_complete-meshlink"));

    const auto verbs = kubectl_complete(setup, {""});
    for (const auto* verb :
         {"version", "kubeconfig", "preflight", "agent", "join", "status", "leave", "completion"}) {
        BOOST_TEST(has(verbs, verb), verb << " missing from: " << shown(verbs));
    }
    const auto partial = kubectl_complete(setup, {"pre"});
    BOOST_TEST(partial.values == std::vector<std::string>{"preflight"}, shown(partial));

    const auto agent = kubectl_complete(setup, {"agent", ""});
    BOOST_TEST((has(agent, "install") && has(agent, "uninstall") && has(agent, "status")), shown(agent));
    const auto kubeconfig = kubectl_complete(setup, {"kubeconfig", ""});
    BOOST_TEST((has(kubeconfig, "merge") && has(kubeconfig, "export") && has(kubeconfig, "list")),
               shown(kubeconfig));

    // The verb's own flags and the global ones.
    const auto join_flags = kubectl_complete(setup, {"join", "--"});
    BOOST_TEST((has(join_flags, "--peer-kubeconfig") && has(join_flags, "--dry-run") &&
                has(join_flags, "--context") && has(join_flags, "--kubeconfig")),
               shown(join_flags));
    const auto install_flags = kubectl_complete(setup, {"agent", "install", "--"});
    BOOST_TEST(has(install_flags, "--image"), shown(install_flags));
    BOOST_TEST(!has(install_flags, "--peer-kubeconfig"), shown(install_flags));
}

BOOST_AUTO_TEST_CASE(kubectl_completes_contexts_peers_clusters_users_and_output_formats) {
    Setup setup;
    setup.install();
    const auto contexts = kubectl_complete(setup, {"--context", ""});
    BOOST_TEST(contexts.values == (std::vector<std::string>{"alpha", "beta"}), shown(contexts));
    const auto inline_value = kubectl_complete(setup, {"preflight", "--context=b"});
    BOOST_TEST(inline_value.values == std::vector<std::string>{"--context=beta"}, shown(inline_value));
    const auto peers = kubectl_complete(setup, {"join", ""});
    BOOST_TEST(peers.values == (std::vector<std::string>{"alpha", "beta"}), shown(peers));
    const auto clusters = kubectl_complete(setup, {"status", "--cluster", ""});
    BOOST_TEST(clusters.values == (std::vector<std::string>{"cluster-alpha", "cluster-beta"}),
               shown(clusters));
    const auto users = kubectl_complete(setup, {"status", "--user", "user-"});
    BOOST_TEST(users.values == std::vector<std::string>{"user-alpha"}, shown(users));
    const auto formats = kubectl_complete(setup, {"preflight", "-o", ""});
    BOOST_TEST((has(formats, "table") && has(formats, "json")), shown(formats));

    // --kubeconfig on the line is the file whose contexts are offered.
    const auto other = setup.dir.write("other", "apiVersion: v1\nkind: Config\ncontexts:\n- name: gamma\n"
                                                "  context: {cluster: c, user: u}\n");
    const auto from_flag = kubectl_complete(setup, {"--kubeconfig", other.string(), "--context", ""});
    BOOST_TEST(from_flag.values == std::vector<std::string>{"gamma"}, shown(from_flag));
}

// Every flag completion offers is one the verb's --help lists: both come from the same declarations.
BOOST_AUTO_TEST_CASE(offered_flags_are_exactly_those_the_help_lists) {
    Setup setup;
    setup.install();
    for (const std::vector<std::string>& verb : {std::vector<std::string>{"join"},
                                                 {"leave"},
                                                 {"preflight"},
                                                 {"agent", "install"},
                                                 {"kubeconfig", "merge"}}) {
        auto words = verb;
        words.emplace_back("--");
        const auto offered = kubectl_complete(setup, words);
        auto help_argv = verb;
        help_argv.insert(help_argv.begin(), plugin());
        help_argv.emplace_back("--help");
        const auto help = setup.run(help_argv);
        const auto global = setup.run({plugin(), "help"});
        for (const auto& flag : offered.values) {
            BOOST_TEST(
                (help.out.find(flag) != std::string::npos || global.out.find(flag) != std::string::npos),
                flag << " offered for " << verb.front() << " but not in its help");
        }
    }
}

BOOST_AUTO_TEST_CASE(install_writes_the_helper_beside_the_plugin_on_path_or_refuses_a_dir_off_path) {
    Setup setup;
    // Without --dir: beside the kubectl-meshlink that PATH finds (Krew: ~/.krew/bin).
    const fs::path krew_bin = setup.dir.path() / "krew-bin";
    fs::create_directories(krew_bin);
    fs::create_symlink(bin_dir() / "kubectl-meshlink", krew_bin / "kubectl-meshlink");
    auto env =
        environment_with({"PATH=" + krew_bin.string() + ":/usr/local/bin:/usr/bin:/bin",
                          "KUBECONFIG=" + setup.kubeconfig.string(), "HOME=" + setup.dir.path().string()});
    auto installed = run_command({"kubectl", "meshlink", "completion", "install"}, env);
    BOOST_TEST_REQUIRE(installed.has_value(), error_message(installed));
    BOOST_TEST(installed->exit_code == 0, installed->err);
    const auto helper = krew_bin / "kubectl_complete-meshlink";
    BOOST_TEST_REQUIRE(fs::exists(helper));
    BOOST_TEST(((fs::status(helper).permissions() & fs::perms::owner_exec) != fs::perms::none));
    auto answered = run_command({"kubectl", "__complete", "meshlink", "ver"}, env);
    BOOST_TEST_REQUIRE(answered.has_value(), error_message(answered));
    BOOST_TEST(answered->out.starts_with("version\t"), answered->out);

    // --dir must be on PATH, or kubectl would never find the helper.
    const fs::path elsewhere = setup.dir.path() / "not-on-path";
    fs::create_directories(elsewhere);
    const auto refused = setup.run({plugin(), "completion", "install", "--dir", elsewhere.string()});
    BOOST_TEST(refused.exit_code == 2);
    BOOST_TEST(refused.err.find("not on PATH") != std::string::npos, refused.err);
    BOOST_TEST(!fs::exists(elsewhere / "kubectl_complete-meshlink"));
}

BOOST_AUTO_TEST_CASE(bash_script_completes_in_a_real_bash) {
    Setup setup;
    const auto script = setup.dir.write("completion.bash", setup.run({plugin(), "completion", "bash"}).out);
    const auto result =
        setup.run({"bash", "-c",
                   "source " + script.string() +
                       " && COMP_WORDS=(kubectl-meshlink join --dry) && COMP_CWORD=2 && _kubectl_meshlink"
                       " && printf '%s\\n' \"${COMPREPLY[@]}\" && COMP_WORDS=(kubectl-meshlink --context '') "
                       "&& COMP_CWORD=2"
                       " && _kubectl_meshlink && printf '%s\\n' \"${COMPREPLY[@]}\""});
    BOOST_TEST(result.exit_code == 0, result.err);
    BOOST_TEST(result.out == "--dry-run\nalpha\nbeta\n");
}

BOOST_AUTO_TEST_CASE(zsh_and_fish_scripts_parse, *boost::unit_test::precondition([](auto) {
                         return util::find_executable("zsh").has_value() ||
                                util::find_executable("fish").has_value();
                     })) {
    Setup setup;
    for (const auto* shell : {"zsh", "fish"}) {
        if (!util::find_executable(shell)) {
            BOOST_TEST_MESSAGE(shell << " is not installed: its script is not checked");
            continue;
        }
        const auto script = setup.dir.write(std::string("completion.") + shell,
                                            setup.run({plugin(), "completion", shell}).out);
        const auto parsed = setup.run({shell, "-n", script.string()});
        BOOST_TEST(parsed.exit_code == 0, shell << ": " << parsed.err);
    }
}
