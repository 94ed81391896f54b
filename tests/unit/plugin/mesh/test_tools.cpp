// Who drives a cluster (--backend and what is installed) and what runs when Helm owns Cilium.
#include "kube/pki.hpp"
#include "memory_api.hpp"
#include "plugin/mesh/step_enable.hpp"
#include "plugin/mesh/tools.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink;
namespace mesh = plugin::mesh;
using nlohmann::json;
using test::MemoryApi;
using test::ScriptedHost;

namespace {

mesh::Cluster helm_cluster(MemoryApi& api) {
    mesh::Cluster c;
    c.name = "cluster2";
    c.context = "ctx-2";
    c.tool_context = "ctx-2";
    c.api = &api;
    c.cilium_version = "1.16.12";
    c.helm = mesh::HelmRelease{"cilium", "kube-system", 3, "1.16.12", json::object()};
    c.journal = std::make_unique<mesh::Journal>(api, "kube-system", false);
    BOOST_REQUIRE(c.journal->load("cluster2").has_value());
    // What step 5 reads again once it enabled a clustermesh-apiserver.
    api.put(mesh::Kind::config_map,
            json{{"metadata", {{"name", "cilium-config"}, {"namespace", "kube-system"}}},
                 {"data", {{"cluster-name", "cluster2"}, {"cluster-id", "2"}}}});
    return c;
}

mesh::JoinOptions with_backend(mesh::Backend backend) {
    mesh::JoinOptions options;
    options.backend = backend;
    return options;
}

} // namespace

BOOST_AUTO_TEST_SUITE(mesh_tools)

BOOST_AUTO_TEST_CASE(drivers_follow_ownership_and_what_is_installed) {
    MemoryApi api;
    ScriptedHost host;
    mesh::Cluster helm = helm_cluster(api);
    mesh::Cluster plain;
    plain.name = "cluster1";
    {
        mesh::Session session(with_backend(mesh::Backend::automatic), host, nullptr, nullptr);
        BOOST_TEST((mesh::choose_driver(session, plain).value() == mesh::Driver::native));
        auto none = mesh::choose_driver(session, helm);
        BOOST_REQUIRE(!none.has_value()); // a Helm release and neither tool: guidance, not a native write
        BOOST_TEST(none.error().message.find("neither is on PATH") != std::string::npos);
        host.programs = {"helm"};
        BOOST_TEST((mesh::choose_driver(session, helm).value() == mesh::Driver::helm));
        host.programs = {"helm", "cilium"};
        BOOST_TEST((mesh::choose_driver(session, helm).value() == mesh::Driver::cilium_cli));
    }
    {
        mesh::Session session(with_backend(mesh::Backend::native), host, nullptr, nullptr);
        auto refused = mesh::choose_driver(session, helm);
        BOOST_REQUIRE(!refused.has_value());
        BOOST_TEST(refused.error().message.find("Helm release") != std::string::npos);
    }
    {
        mesh::Session session(with_backend(mesh::Backend::cilium_cli), host, nullptr, nullptr);
        auto refused = mesh::choose_driver(session, plain);
        BOOST_REQUIRE(!refused.has_value());
        BOOST_TEST(refused.error().message.find("release: not found") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(helm_enable_sets_the_documented_values_on_helms_stdin) {
    MemoryApi api;
    ScriptedHost host;
    std::vector<std::string> said;
    mesh::Session session(
        with_backend(mesh::Backend::helm), host, [&](const std::string& line) { said.push_back(line); },
        nullptr);
    mesh::Cluster c = helm_cluster(api);
    c.driver = mesh::Driver::helm;
    json values;
    host.on_run = [&](const mesh::ToolRun& run) {
        BOOST_REQUIRE(run.stdin_data.has_value());
        values = json::parse(*run.stdin_data);
        // The tool created what it was asked for.
        api.put(mesh::Kind::deployment,
                json{{"metadata", {{"name", "clustermesh-apiserver"}, {"namespace", "kube-system"}}}});
        api.put(
            mesh::Kind::service,
            json{{"metadata", {{"name", "clustermesh-apiserver"}, {"namespace", "kube-system"}}},
                 {"spec",
                  {{"type", "NodePort"}, {"ports", json::array({{{"port", 2379}, {"nodePort", 32379}}})}}}});
        return util::SubprocessResult{};
    };
    std::vector<mesh::Cluster*> clusters = {&c};
    BOOST_REQUIRE(mesh::step_enable(session, clusters).has_value());
    BOOST_REQUIRE(host.runs.size() == 1);
    const auto& argv = host.runs[0].argv;
    // `--values -`: helm reads the values from stdin; no file names them.
    BOOST_TEST(argv == (std::vector<std::string>{"helm", "upgrade", "cilium", "cilium", "--repo",
                                                 "https://helm.cilium.io", "--version", "1.16.12",
                                                 "--namespace", "kube-system", "--kube-context", "ctx-2",
                                                 "--reuse-values", "--values", "-"}));
    // docs/cilium-clustermesh.md, "Enabling the clustermesh-apiserver": the values the cilium CLI sets, and a
    // NodePort of meshlink's choosing.
    BOOST_TEST(values["clustermesh"]["useAPIServer"] == true);
    BOOST_TEST(values["clustermesh"]["config"]["enabled"] == true);
    BOOST_TEST(values["clustermesh"]["apiserver"]["service"]["type"] == "NodePort");
    BOOST_TEST(values["clustermesh"]["apiserver"]["service"]["nodePort"] == 32379);
    BOOST_TEST(values["clustermesh"]["apiserver"]["tls"]["auto"]["method"] == "cronJob");
    BOOST_TEST(c.apiserver.node_port.value_or(0) == 32379);
}

BOOST_AUTO_TEST_CASE(a_failing_tool_stops_with_its_command) {
    MemoryApi api;
    ScriptedHost host;
    mesh::Session session(with_backend(mesh::Backend::cilium_cli), host, nullptr, nullptr);
    mesh::Cluster c = helm_cluster(api);
    c.driver = mesh::Driver::cilium_cli;
    host.on_run = [](const mesh::ToolRun&) {
        util::SubprocessResult failed;
        failed.exit_code = 1;
        return failed;
    };
    std::vector<mesh::Cluster*> clusters = {&c};
    auto enabled = mesh::step_enable(session, clusters);
    BOOST_REQUIRE(!enabled.has_value());
    BOOST_TEST(
        enabled.error().message.find(
            "`cilium clustermesh enable --context ctx-2 --service-type NodePort` failed (exit code 1)") !=
        std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
