// `kubectl meshlink version --server` through real kubectl plugin discovery: the end-to-end path
// kubeconfig -> auth -> TLS -> REST.

#include "tests/integration/kube/common.hpp"
#include "util/subprocess.hpp"

#include <nlohmann/json.hpp>

using namespace meshlink;
using namespace meshlink::test;

namespace {

boost::test_tools::assertion_result kubectl_available(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result result(util::find_executable("kubectl").has_value());
    result.message() << "kubectl is not installed (scripts/install-deps installs it)";
    return result;
}

// The environment kubectl runs in: our build's bin directory first on PATH, a private HOME, the
// fakekube's kubeconfig.
std::vector<std::string> plugin_env(const TempDirectory& home, const std::filesystem::path& kubeconfig) {
    return environment_with({"PATH=" + bin_dir().string() + ":/usr/local/bin:/usr/bin:/bin",
                             "HOME=" + home.path().string(), "KUBECONFIG=" + kubeconfig.string()});
}

CommandResult run(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    auto result = run_command(argv, env);
    BOOST_TEST_REQUIRE(result.has_value(), error_message(result));
    return std::move(*result);
}

} // namespace

BOOST_AUTO_TEST_SUITE(plugin_version, *boost::unit_test::precondition(&kubectl_available))

BOOST_AUTO_TEST_CASE(version_server_prints_the_server_version_through_kubectl) {
    auto server = start_fakekube("e2e");
    TempDirectory home;
    const auto env = plugin_env(home, server.kubeconfig());

    // What kubectl itself reads from the server is the expected value.
    auto kubectl_version = run({"kubectl", "version", "-o", "json"}, env);
    BOOST_TEST_REQUIRE(kubectl_version.exit_code == 0, kubectl_version.err);
    const auto expected =
        nlohmann::json::parse(kubectl_version.out)["serverVersion"]["gitVersion"].get<std::string>();
    BOOST_TEST_REQUIRE(!expected.empty());

    auto ours = run({"kubectl", "meshlink", "version", "--server"}, env);
    BOOST_TEST(ours.exit_code == 0, ours.err);
    BOOST_TEST(contains(ours.out, "kubectl-meshlink "));
    BOOST_TEST(contains(ours.out, "\nServer Version: " + expected + "\n"), ours.out);
}

BOOST_AUTO_TEST_CASE(global_flags_after_the_plugin_name_choose_the_context) {
    auto first = start_fakekube("first");
    auto second = start_fakekube("second");
    TempDirectory home;
    // Both fakekubes' kubeconfigs merged through KUBECONFIG, current-context from the first file.
    auto env = environment_with(
        {"PATH=" + bin_dir().string() + ":/usr/local/bin:/usr/bin:/bin", "HOME=" + home.path().string(),
         "KUBECONFIG=" + first.kubeconfig().string() + ":" + second.kubeconfig().string()});
    auto with_context =
        run({"kubectl", "meshlink", "version", "--server", "--context", "second", "-v", "6"}, env);
    BOOST_TEST(with_context.exit_code == 0, with_context.err);
    BOOST_TEST(contains(with_context.out, "Server Version: "));
    // -v 6 shows which server answered.
    BOOST_TEST(contains(with_context.err, "GET " + second.url() + "/version 200 OK in "), with_context.err);

    auto unknown = run({"kubectl", "meshlink", "version", "--server", "--context", "nope"}, env);
    BOOST_TEST(unknown.exit_code == 2);
    BOOST_TEST(contains(unknown.err,
                        "unable to create Kubernetes client: context \"nope\" not found in kubeconfig "
                        "(contexts: first, second)"),
               unknown.err);

    auto bad_timeout = run({"kubectl", "meshlink", "version", "--server", "--request-timeout", "soon"}, env);
    BOOST_TEST(bad_timeout.exit_code == 2);
    BOOST_TEST(contains(bad_timeout.err, "--request-timeout"), bad_timeout.err);
}

BOOST_AUTO_TEST_CASE(a_stopped_server_is_a_clear_runtime_error) {
    auto server = start_fakekube("gone");
    TempDirectory home;
    const auto env = plugin_env(home, server.kubeconfig());
    const std::string url = server.url();
    BOOST_TEST_REQUIRE(server.stop().has_value());
    auto result = run({"kubectl", "meshlink", "version", "--server"}, env);
    BOOST_TEST(result.exit_code == 2);
    BOOST_TEST(contains(result.err, "unable to get the server version: GET " + url +
                                        "/version: cannot connect to "
                                        "server " +
                                        url + " (context \"gone\")"),
               result.err);
}

BOOST_AUTO_TEST_CASE(kubectl_plugin_list_shows_the_plugin_without_warnings) {
    TempDirectory home;
    auto env = environment_with(
        {"PATH=" + bin_dir().string() + ":/usr/local/bin:/usr/bin:/bin", "HOME=" + home.path().string()});
    auto listed = run({"kubectl", "plugin", "list"}, env);
    BOOST_TEST(listed.exit_code == 0, listed.err);
    BOOST_TEST(contains(listed.out, (bin_dir() / "kubectl-meshlink").string()), listed.out);
    BOOST_TEST(!contains(listed.err, "warning"), listed.err);
}

BOOST_AUTO_TEST_SUITE_END()
