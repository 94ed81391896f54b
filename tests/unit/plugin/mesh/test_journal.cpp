#include "memory_api.hpp"
#include "plugin/mesh/journal.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink;
namespace mesh = plugin::mesh;
using nlohmann::json;
using test::MemoryApi;

BOOST_AUTO_TEST_SUITE(mesh_journal)

BOOST_AUTO_TEST_CASE(round_trips_through_its_configmap) {
    MemoryApi api;
    mesh::Journal journal(api, "kube-system", false);
    BOOST_REQUIRE(journal.load("cluster1").has_value());
    BOOST_TEST(!journal.exists());
    journal.intend(mesh::Change{
        "services/meshlink-apiserver", mesh::Action::create, "pending", {"cluster2"}, {{"kind", "Service"}}});
    journal.set_step("cluster2", "expose", "ctx-2");
    BOOST_REQUIRE(journal.flush().has_value());
    BOOST_TEST(api.writes == 1);
    const json* stored = api.find(mesh::Kind::config_map, "kube-system", "meshlink-journal");
    BOOST_REQUIRE(stored != nullptr);
    BOOST_TEST(mesh::label(*stored, "app.kubernetes.io/managed-by") == "meshlink");
    const json doc = json::parse((*stored)["data"]["journal.json"].get<std::string>());
    BOOST_TEST(doc["format"] == 1);
    BOOST_TEST(doc["cluster"] == "cluster1");
    BOOST_TEST(doc["peers"]["cluster2"]["steps"]["expose"] == "done");
    BOOST_TEST(doc["peers"]["cluster2"]["context"] == "ctx-2");
    BOOST_TEST(doc["changes"][0]["state"] == "pending");

    mesh::Journal again(api, "kube-system", false);
    auto reloaded = again.load("cluster1");
    BOOST_REQUIRE_MESSAGE(reloaded.has_value(), meshlink::test::error_message(reloaded));
    BOOST_TEST(again.exists());
    BOOST_TEST(again.step_done("cluster2", "expose"));
    BOOST_TEST(!again.step_done("cluster2", "connect"));
    BOOST_TEST(again.find("services/meshlink-apiserver").has_value());
}

BOOST_AUTO_TEST_CASE(unchanged_journal_writes_nothing) {
    MemoryApi api;
    mesh::Journal journal(api, "kube-system", false);
    BOOST_REQUIRE(journal.load("cluster1").has_value());
    journal.intend(mesh::Change{"a", mesh::Action::create, "pending", {"cluster2"}, {}});
    journal.mark_applied("a");
    BOOST_REQUIRE(journal.flush().has_value());
    const int before = api.writes;
    // The same facts again: a re-run on a joined pair.
    journal.intend(mesh::Change{"a", mesh::Action::create, "pending", {"cluster2"}, {}});
    journal.mark_applied("a");
    BOOST_REQUIRE(journal.flush().has_value());
    BOOST_TEST(api.writes == before);
    BOOST_TEST(journal.find("a")->state == "applied"); // intend keeps an applied change applied
}

BOOST_AUTO_TEST_CASE(changes_are_counted_per_peer_and_released_newest_first) {
    MemoryApi api;
    mesh::Journal journal(api, "kube-system", false);
    BOOST_REQUIRE(journal.load("cluster1").has_value());
    journal.intend(mesh::Change{"shared", mesh::Action::create, "pending", {"cluster2"}, {}});
    journal.intend(mesh::Change{"only-2", mesh::Action::secret_key, "pending", {"cluster2"}, {}});
    journal.intend(mesh::Change{"shared", mesh::Action::create, "pending", {"cluster3"}, {}});
    journal.intend(mesh::Change{"later-2", mesh::Action::host_alias, "pending", {"cluster2"}, {}});
    const auto released = journal.release_peer("cluster2");
    BOOST_REQUIRE(released.size() == 2);
    BOOST_TEST(released[0].id == "later-2");
    BOOST_TEST(released[1].id == "only-2");
    BOOST_TEST(journal.find("shared")->peers == std::set<std::string>{"cluster3"});
    const auto rest = journal.release_peer("cluster3");
    BOOST_REQUIRE(rest.size() ==
                  3); // everything is unused now (the two above are still recorded until forgotten)
}

BOOST_AUTO_TEST_CASE(empty_journal_deletes_its_configmap_and_backup) {
    MemoryApi api;
    mesh::Journal journal(api, "kube-system", false);
    BOOST_REQUIRE(journal.load("cluster1").has_value());
    journal.intend(mesh::Change{"a", mesh::Action::create, "pending", {"cluster2"}, {}});
    journal.set_step("cluster2", "expose", "");
    BOOST_REQUIRE(journal.flush().has_value());
    BOOST_REQUIRE(journal.backup({{"cilium-ca.ca.key", "secret-key-material"}}).has_value());
    BOOST_REQUIRE(api.find(mesh::Kind::secret, "kube-system", "meshlink-journal-secrets") != nullptr);
    // Nothing secret in the ConfigMap.
    BOOST_TEST(api.find(mesh::Kind::config_map, "kube-system", "meshlink-journal")
                   ->dump()
                   .find("secret-key-material") == std::string::npos);
    auto restored = journal.restore({"cilium-ca.ca.key", "absent"});
    BOOST_REQUIRE(restored.has_value());
    BOOST_TEST(restored->at("cilium-ca.ca.key") == "secret-key-material");
    BOOST_TEST(!restored->contains("absent"));
    journal.release_peer("cluster2");
    journal.forget("a");
    journal.forget_peer("cluster2");
    BOOST_REQUIRE(journal.flush().has_value());
    BOOST_TEST(api.find(mesh::Kind::config_map, "kube-system", "meshlink-journal") == nullptr);
    BOOST_TEST(api.find(mesh::Kind::secret, "kube-system", "meshlink-journal-secrets") == nullptr);
}

BOOST_AUTO_TEST_CASE(dry_run_never_writes) {
    MemoryApi api;
    mesh::Journal journal(api, "kube-system", true);
    BOOST_REQUIRE(journal.load("cluster1").has_value());
    journal.intend(mesh::Change{"a", mesh::Action::create, "pending", {"cluster2"}, {}});
    BOOST_REQUIRE(journal.flush().has_value());
    BOOST_REQUIRE(journal.backup({{"k", "v"}}).has_value());
    BOOST_TEST(api.writes == 0);
}

BOOST_AUTO_TEST_CASE(a_journal_of_another_format_is_refused) {
    MemoryApi api;
    api.put(mesh::Kind::config_map,
            json{{"metadata", {{"name", "meshlink-journal"}, {"namespace", "kube-system"}}},
                 {"data", {{"journal.json", R"({"format": 9})"}}}});
    mesh::Journal journal(api, "kube-system", false);
    auto loaded = journal.load("cluster1");
    BOOST_REQUIRE(!loaded.has_value());
    BOOST_TEST(loaded.error().message.find("format 9") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_kind_of_change_keeps_its_name_in_the_configmap) {
    // A journal as meshlink has written it since format 1: every kind of change join records, and one from
    // a newer meshlink this one does not know. Reading and writing it back changes no action's name.
    const std::vector<std::string> actions = {"create",         "secret-key", "host-alias",
                                              "replace-secret", "node-port",  "cilium-cli",
                                              "helm",           "kubeconfig", "from-a-newer-meshlink"};
    json changes = json::array();
    for (const auto& action : actions) {
        changes.push_back({{"id", "change/" + action},
                           {"action", action},
                           {"state", "applied"},
                           {"peers", {"cluster2"}},
                           {"detail", json::object()}});
    }
    const json doc = {{"format", 1},
                      {"cluster", "cluster1"},
                      {"peers", {{"cluster2", {{"state", "joined"}, {"context", "ctx-2"}}}}},
                      {"changes", changes}};
    MemoryApi api;
    api.put(mesh::Kind::config_map,
            json{{"metadata", {{"name", "meshlink-journal"}, {"namespace", "kube-system"}}},
                 {"data", {{"journal.json", doc.dump()}}}});
    mesh::Journal journal(api, "kube-system", false);
    auto loaded = journal.load("cluster1");
    BOOST_REQUIRE_MESSAGE(loaded.has_value(), meshlink::test::error_message(loaded));
    BOOST_TEST((journal.find("change/from-a-newer-meshlink")->action == mesh::Action::unknown));
    journal.set_peer_state("cluster2", "joining"); // any edit, so the ConfigMap is written again
    BOOST_REQUIRE(journal.flush().has_value());
    const json* stored = api.find(mesh::Kind::config_map, "kube-system", "meshlink-journal");
    const json written = json::parse((*stored)["data"]["journal.json"].get<std::string>());
    BOOST_REQUIRE(written["changes"].size() == actions.size());
    for (std::size_t i = 0; i < actions.size(); ++i) {
        BOOST_TEST(written["changes"][i]["action"] == actions[i]);
    }
}

BOOST_AUTO_TEST_SUITE_END()
