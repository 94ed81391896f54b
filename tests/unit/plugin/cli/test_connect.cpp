// The one road from the global flags to clients: which context the flags are about, which overrides reach
// which context, one client per context.
#include "plugin/cli/connect.hpp"
#include "tests/unit/util/test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>

using namespace meshlink;
using plugin::cli::Contexts;
using plugin::cli::GlobalFlags;
using namespace std::chrono_literals;

namespace {

// Two contexts, each with its own cluster and namespace, no credentials (a client needs none to be built).
std::string kubeconfig(const std::string& current) {
    return "apiVersion: v1\nkind: Config\ncurrent-context: \"" + current +
           "\"\n"
           "clusters:\n"
           "- name: east\n  cluster: {server: https://east.example:6443}\n"
           "- name: west\n  cluster: {server: https://west.example:6443}\n"
           "- name: spare\n  cluster: {server: https://spare.example:6443}\n"
           "contexts:\n"
           "- name: east\n  context: {cluster: east, namespace: team-east}\n"
           "- name: west\n  context: {cluster: west, namespace: team-west}\n";
}

GlobalFlags flags_for(const test::ScratchDir& dir, const std::string& current) {
    GlobalFlags flags;
    flags.kubeconfig = dir.write("config", kubeconfig(current)).string();
    return flags;
}

} // namespace

BOOST_AUTO_TEST_SUITE(cli_connect)

BOOST_AUTO_TEST_CASE(cluster_user_and_namespace_change_the_first_context_only) {
    test::ScratchDir dir;
    GlobalFlags flags = flags_for(dir, "east");
    flags.context = "west";
    flags.cluster = "spare";
    flags.namespace_name = "flagged";
    flags.request_timeout = 7s;
    auto contexts = Contexts::load(flags);
    BOOST_TEST(contexts.first_context() == "west");

    auto first = contexts.client("west");
    BOOST_REQUIRE(first.has_value());
    BOOST_TEST((*first)->config().server == "https://spare.example:6443");
    BOOST_TEST((*first)->config().namespace_name == "flagged");
    BOOST_TEST(((*first)->config().timeout == 7s));

    // Another context (a peer) is used as the kubeconfig says, with the same request timeout.
    auto peer = contexts.client("east");
    BOOST_REQUIRE(peer.has_value());
    BOOST_TEST((*peer)->config().server == "https://east.example:6443");
    BOOST_TEST((*peer)->config().namespace_name == "team-east");
    BOOST_TEST(((*peer)->config().timeout == 7s));
}

BOOST_AUTO_TEST_CASE(each_context_gets_one_client) {
    test::ScratchDir dir;
    auto contexts = Contexts::load(flags_for(dir, "east"));
    auto once = contexts.client("east");
    auto again = contexts.client("east");
    BOOST_REQUIRE(once.has_value());
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(once->get() == again->get());
    BOOST_TEST(contexts.client("west")->get() != once->get());
}

BOOST_AUTO_TEST_CASE(a_missing_context_is_an_error_naming_it) {
    test::ScratchDir dir;
    auto contexts = Contexts::load(flags_for(dir, "east"));
    auto missing = contexts.client("north");
    BOOST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error().message.find("\"north\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_current_context_is_a_usage_error_saying_how_to_choose) {
    test::ScratchDir dir;
    auto contexts = Contexts::load(flags_for(dir, ""));
    try {
        (void)contexts.first_context(" (or --local)");
        BOOST_FAIL("first_context() chose a context although none is set");
    } catch (const util::UsageError& error) {
        const std::string message = error.what();
        BOOST_TEST(message.find("--context") != std::string::npos);
        BOOST_TEST(message.find("(or --local)") != std::string::npos);
    }
    // The same for the one-cluster road (version --server, agent).
    BOOST_CHECK_THROW(plugin::cli::connect(flags_for(dir, "")), util::UsageError);
}

BOOST_AUTO_TEST_SUITE_END()
