// What step 3 decides for each cluster against the user's kubeconfig (every KUBECONFIG file), from the files
// alone: which entries are the user's, when the given context is enough, and when entries are written.
#include "kube/kubeconfig.hpp"
#include "plugin/mesh/step_kubeconfig.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <string>

using namespace meshlink;
namespace mesh = plugin::mesh;

namespace {

const char* const k_ca = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=";

// A kubeconfig with one context `name` whose cluster and user carry the same name.
std::string one_context(const std::string& name, const std::string& server, const std::string& token) {
    return fmt::format(R"(apiVersion: v1
kind: Config
clusters:
- name: {0}
  cluster:
    server: {1}
    certificate-authority-data: {3}
users:
- name: {0}
  user:
    token: {2}
contexts:
- name: {0}
  context:
    cluster: {0}
    user: {0}
current-context: {0}
)",
                       name, server, token, k_ca);
}

kube::Kubeconfig load(const std::vector<std::pair<std::string, std::string>>& files) {
    std::vector<kube::KubeconfigFile> parsed;
    for (const auto& [path, text] : files) {
        parsed.push_back(kube::parse_kubeconfig(text, path).value());
    }
    return kube::merge_kubeconfig_files(std::move(parsed)).value();
}

// Cilium cluster `name` reached through `context` of `config`, exposed at `exposed`.
mesh::Cluster reached(const kube::Kubeconfig& config, const std::string& name, const std::string& context,
                      const std::string& exposed) {
    mesh::Cluster c;
    c.name = name;
    const auto& ctx = config.contexts.at(context);
    c.source = {context, config.clusters.at(ctx.value.cluster), config.users.at(ctx.value.user), ctx.origin};
    c.exposed_server = exposed;
    return c;
}

} // namespace

BOOST_AUTO_TEST_SUITE(kubeconfig_step)

BOOST_AUTO_TEST_CASE(a_given_context_at_an_address_other_machines_reach_is_enough) {
    for (const std::string server :
         {"https://10.0.0.5:6443", "https://203.0.113.7", "https://api.example.com"}) {
        const auto config = load({{"/home/u/.kube/config", one_context("prod-east", server, "t1")}});
        const auto c = reached(config, "cluster1", "prod-east", "https://10.0.0.10:30000");
        const auto decision = mesh::decide_entries(config, c, false);
        BOOST_TEST((decision.choice == mesh::EntryChoice::keep_given), server);
        BOOST_TEST(decision.file == "/home/u/.kube/config");
        BOOST_TEST(decision.why.find(
                       "context \"prod-east\" in /home/u/.kube/config already reaches this cluster at " +
                       server) != std::string::npos,
                   decision.why);
    }
}

BOOST_AUTO_TEST_CASE(a_loopback_or_cluster_internal_server_gets_entries_at_the_exposed_address) {
    for (const std::string server :
         {"https://127.0.0.1:40345", "https://localhost:6443", "https://[::1]:6443",
          "https://kubernetes.default.svc", "https://169.254.10.1:6443"}) {
        const auto config = load({{"/home/u/.kube/config", one_context("kind-east", server, "t1")}});
        const auto c = reached(config, "cluster1", "kind-east", "https://10.0.0.10:30000");
        const auto decision = mesh::decide_entries(config, c, false);
        BOOST_TEST((decision.choice == mesh::EntryChoice::write), server);
        BOOST_TEST(decision.why.find("an address other machines cannot reach") != std::string::npos,
                   decision.why);
    }
}

BOOST_AUTO_TEST_CASE(the_exposed_server_itself_is_enough_even_on_loopback) {
    const auto config = load({{"/k/a", one_context("east", "https://127.0.1.10:30000", "t1")}});
    const auto c = reached(config, "cluster1", "east", "https://127.0.1.10:30000");
    const auto decision = mesh::decide_entries(config, c, false);
    BOOST_TEST((decision.choice == mesh::EntryChoice::keep_given));
    BOOST_TEST(decision.why.find("(the exposed API server)") != std::string::npos, decision.why);
}

BOOST_AUTO_TEST_CASE(a_context_named_after_the_cluster_in_another_file_is_the_users) {
    // The procedure's naming: cluster01's entries in one file, cluster02's in another; join was given
    // cluster01 and reaches cluster02 through a context of another name, same CA and credentials.
    const auto config = load({{"/k/one", one_context("cluster01", "https://127.0.0.1:1111", "t1")},
                              {"/k/two", one_context("cluster02", "https://127.0.0.1:2222", "t2")},
                              {"/k/three", one_context("admin@two", "https://127.0.0.1:2223", "t2")}});
    const auto c = reached(config, "cluster02", "admin@two", "https://10.0.0.20:30000");
    const auto decision = mesh::decide_entries(config, c, false);
    BOOST_TEST((decision.choice == mesh::EntryChoice::keep_named));
    BOOST_TEST(decision.file == "/k/two");

    // Other credentials under that name: not the same cluster, so not the user's entries for it.
    const auto other = load({{"/k/two", one_context("cluster02", "https://127.0.0.1:2222", "someone-else")},
                             {"/k/three", one_context("admin@two", "https://127.0.0.1:2223", "t2")}});
    BOOST_TEST((mesh::decide_entries(
                    other, reached(other, "cluster02", "admin@two", "https://10.0.0.20:30000"), false)
                    .choice == mesh::EntryChoice::write));
}

BOOST_AUTO_TEST_CASE(a_peer_from_another_file_gets_entries) {
    const auto users = load({{"/k/mine", one_context("east", "https://10.0.0.5:6443", "t1")}});
    const auto peer_file = load({{"/k/peer", one_context("west", "https://10.0.0.6:6443", "t2")}});
    auto c = reached(peer_file, "cluster2", "west", "https://10.0.0.20:30000");
    const auto decision = mesh::decide_entries(users, c, false);
    BOOST_TEST((decision.choice == mesh::EntryChoice::write));
    BOOST_TEST(decision.why == "its context \"west\" comes from /k/peer, not from the user's kubeconfig");
}

BOOST_AUTO_TEST_CASE(entries_an_earlier_join_wrote_stay_joins) {
    const auto config = load({{"/k/a", one_context("east", "https://10.0.0.5:6443", "t1")}});
    const auto decision =
        mesh::decide_entries(config, reached(config, "cluster1", "east", "https://x:1"), true);
    BOOST_TEST((decision.choice == mesh::EntryChoice::write));
}

BOOST_AUTO_TEST_SUITE_END()
