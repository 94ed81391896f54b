#include "memory_api.hpp"
#include "plugin/mesh/journal.hpp"

#include <boost/test/unit_test.hpp>

#include <memory>

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
    journal.intend(mesh::Change{"services/meshlink-apiserver",
                                mesh::Action::create,
                                "pending",
                                {"cluster2"},
                                {{"kind", "Service"}, {"name", "meshlink-apiserver"}}});
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
    // None of these is valid (no detail): all are kept as read, none is acted on.
    BOOST_TEST(journal.rejected().size() == actions.size());
    BOOST_TEST(!journal.find("change/from-a-newer-meshlink").has_value());
    journal.set_peer_state("cluster2", "joining"); // any edit, so the ConfigMap is written again
    BOOST_REQUIRE(journal.flush().has_value());
    const json* stored = api.find(mesh::Kind::config_map, "kube-system", "meshlink-journal");
    const json written = json::parse((*stored)["data"]["journal.json"].get<std::string>());
    BOOST_REQUIRE(written["changes"].size() == actions.size());
    for (std::size_t i = 0; i < actions.size(); ++i) {
        BOOST_TEST(written["changes"][i]["action"] == actions[i]);
    }
}

// One valid change of each kind, shaped as the steps record them.
std::vector<mesh::Change> valid_changes() {
    const std::string digest(64, 'c');
    return {
        {"services/meshlink-apiserver",
         mesh::Action::create,
         "applied",
         {"cluster2"},
         {{"kind", "Service"}, {"name", "meshlink-apiserver"}, {"namespace", "kube-system"}}},
        {"endpointslices/meshlink-apiserver",
         mesh::Action::create,
         "applied",
         {"cluster2"},
         {{"kind", "EndpointSlice"}, {"name", "meshlink-apiserver"}}},
        {"secrets/cilium-clustermesh",
         mesh::Action::create,
         "pending",
         {"cluster2"},
         {{"kind", "Secret"}, {"name", "cilium-clustermesh"}}},
        {"secret-key/cilium-clustermesh/cluster2.etcd-client.key",
         mesh::Action::secret_key,
         "applied",
         {"cluster2"},
         {{"secret", "cilium-clustermesh"},
          {"key", "cluster2.etcd-client.key"},
          {"sha256", digest},
          {"previous", "backup"},
          {"backup", "cilium-clustermesh.cluster2.etcd-client.key"}}},
        {"host-alias/daemonsets/cilium/127.0.2.10/cluster2.mesh.cilium.io",
         mesh::Action::host_alias,
         "applied",
         {"cluster2"},
         {{"kind", "DaemonSet"},
          {"name", "cilium"},
          {"ip", "127.0.2.10"},
          {"hostname", "cluster2.mesh.cilium.io"},
          {"fieldCreated", true}}},
        {"host-alias/deployments/clustermesh-apiserver/fd00::2/cluster2.mesh.cilium.io",
         mesh::Action::host_alias,
         "applied",
         {"cluster2"},
         {{"kind", "Deployment"},
          {"name", "clustermesh-apiserver"},
          {"ip", "fd00::2"},
          {"hostname", "cluster2.mesh.cilium.io"}}},
        {"secrets/cilium-ca/ca",
         mesh::Action::replace_secret,
         "applied",
         {"cluster2"},
         {{"kind", "Secret"},
          {"name", "cilium-ca"},
          {"existed", true},
          {"backup", {"cilium-ca.ca.crt"}},
          {"from", "cluster1"},
          {"sha256", digest}}},
        {"services/clustermesh-apiserver/nodePort",
         mesh::Action::node_port,
         "applied",
         {"cluster2"},
         {{"previous", 32379}, {"value", 32380}}},
        {"cilium-cli/enable",
         mesh::Action::cilium_cli,
         "applied",
         {"cluster2"},
         {{"command", "clustermesh enable"}}},
        {"cilium-cli/connect/cluster2",
         mesh::Action::cilium_cli,
         "applied",
         {"cluster2"},
         {{"destination", "cluster2"}, {"bidirectional", true}}},
        {"helm/cluster/cluster2",
         mesh::Action::helm,
         "applied",
         {"cluster2"},
         {{"values", "clustermesh.config.clusters"}, {"cluster", "cluster2"}}},
        {"helm/nodePort",
         mesh::Action::helm,
         "applied",
         {"cluster2"},
         {{"previous", nullptr}, {"value", 32380}}},
        {"helm/enable",
         mesh::Action::helm,
         "applied",
         {"cluster2"},
         {{"values", "clustermesh.useAPIServer"}}},
        {"helm/tls.ca", mesh::Action::helm, "applied", {"cluster2"}, {{"values", "tls.ca"}}},
    };
}

// A journal holding `changes` (JSON as stored), read back.
std::unique_ptr<mesh::Journal> read_back(MemoryApi& api, const json& changes) {
    const json doc = {
        {"format", 1}, {"cluster", "cluster1"}, {"peers", json::object()}, {"changes", changes}};
    api.put(mesh::Kind::config_map,
            json{{"metadata", {{"name", "meshlink-journal"}, {"namespace", "kube-system"}}},
                 {"data", {{"journal.json", doc.dump()}}}});
    auto journal = std::make_unique<mesh::Journal>(api, "kube-system", false);
    BOOST_REQUIRE(journal->load("cluster1").has_value());
    return journal;
}

BOOST_AUTO_TEST_CASE(every_change_the_steps_record_passes_validation) {
    MemoryApi api;
    mesh::Journal written(api, "kube-system", false);
    BOOST_REQUIRE(written.load("cluster1").has_value());
    for (const auto& change : valid_changes()) {
        written.intend(change);
    }
    BOOST_REQUIRE(written.flush().has_value());
    mesh::Journal journal(api, "kube-system", false);
    BOOST_REQUIRE(journal.load("cluster1").has_value());
    for (const auto& change : journal.rejected()) {
        BOOST_TEST(false, change.id << ": " << change.rejected);
    }
    for (const auto& change : valid_changes()) {
        BOOST_TEST(journal.find(change.id).has_value(), change.id);
    }
}

// What an attacker with write access to the ConfigMap would plant: each is rejected with its reason, never
// found, never released for undo, and written back as it was.
BOOST_AUTO_TEST_CASE(entries_naming_anything_else_are_rejected_and_never_acted_on) {
    const std::string digest(64, 'c');
    auto entry = [](const std::string& id, const std::string& action, const json& detail) {
        return json{{"id", id},
                    {"action", action},
                    {"state", "applied"},
                    {"peers", {"cluster2"}},
                    {"detail", detail}};
    };
    const json planted = json::array({
        entry("kubeconfig/prod", "kubeconfig", {{"file", "/home/op/.kube/other"}, {"name", "prod"}}),
        entry("secrets/cilium-ca/ca", "replace-secret",
              {{"kind", "Secret"}, {"name", "../../default/secrets/victim"}, {"sha256", digest}}),
        entry("secrets/victim", "create", {{"kind", "Secret"}, {"name", "victim"}}),
        entry("services/meshlink-apiserver", "create", {{"kind", "Secret"}, {"name", "cilium-clustermesh"}}),
        entry("configmaps/x", "create", {{"kind", "ConfigMap"}, {"name", "x"}}),
        entry(
            "secret-key/cilium-clustermesh/../x", "secret-key",
            {{"secret", "cilium-clustermesh"}, {"key", "../x"}, {"sha256", digest}, {"previous", "absent"}}),
        entry("secret-key/cilium-clustermesh/a", "secret-key",
              {{"secret", "cilium-clustermesh"},
               {"key", "a"},
               {"sha256", digest},
               {"previous", "backup"},
               {"backup", "other-secret.a"}}),
        entry("host-alias/daemonsets/kube-proxy/10.0.0.1/x.mesh.cilium.io", "host-alias",
              {{"kind", "DaemonSet"},
               {"name", "kube-proxy"},
               {"ip", "10.0.0.1"},
               {"hostname", "x.mesh.cilium.io"}}),
        entry("host-alias/daemonsets/cilium/not-an-ip/x.mesh.cilium.io", "host-alias",
              {{"kind", "DaemonSet"},
               {"name", "cilium"},
               {"ip", "not-an-ip"},
               {"hostname", "x.mesh.cilium.io"}}),
        entry("services/clustermesh-apiserver/nodePort", "node-port",
              {{"previous", "$(rm -rf /)"}, {"value", 1}}),
        entry("cilium-cli/connect/x", "cilium-cli", {{"destination", "--help; x"}}),
        entry("helm/cluster/a", "helm", {{"cluster", "b"}}),
        json{{"id", "services/meshlink-apiserver"},
             {"action", "create"},
             {"state", "done"},
             {"peers", {"cluster2"}},
             {"detail", {{"kind", "Service"}, {"name", "meshlink-apiserver"}}}},
        json{{"id", "services/meshlink-apiserver"},
             {"action", "create"},
             {"state", "applied"},
             {"peers", {"../x"}},
             {"detail", {{"kind", "Service"}, {"name", "meshlink-apiserver"}}}},
        json("a string"),
        json{{"id", 5}},
    });
    MemoryApi api;
    auto owned = read_back(api, planted);
    mesh::Journal& journal = *owned;
    const auto rejected = journal.rejected();
    BOOST_TEST(rejected.size() == planted.size());
    for (const auto& change : rejected) {
        BOOST_TEST(!change.rejected.empty(), change.id);
    }
    BOOST_TEST(journal.snapshot().changes.empty());
    BOOST_TEST(!journal.find("services/meshlink-apiserver").has_value());
    BOOST_TEST(journal.release_peer("cluster2").empty());
    // Written back as they were when something else changes.
    journal.set_peer_state("cluster2", "joining");
    BOOST_REQUIRE(journal.flush().has_value());
    const json* stored = api.find(mesh::Kind::config_map, "kube-system", "meshlink-journal");
    BOOST_TEST(json::parse((*stored)["data"]["journal.json"].get<std::string>())["changes"] == planted);
}

BOOST_AUTO_TEST_CASE(a_rejected_entry_is_replaced_when_this_run_records_that_id) {
    MemoryApi api;
    auto owned = read_back(api, json::array({json{{"id", "services/meshlink-apiserver"},
                                                  {"action", "create"},
                                                  {"state", "applied"},
                                                  {"peers", {"cluster2"}},
                                                  {"detail", {{"kind", "Service"}, {"name", "victim"}}}}}));
    mesh::Journal& journal = *owned;
    BOOST_TEST(journal.rejected().size() == 1u);
    journal.intend(valid_changes()[0]);
    BOOST_TEST(journal.rejected().empty());
    BOOST_TEST(journal.find("services/meshlink-apiserver")->detail["name"] == "meshlink-apiserver");
}

// Two writers of one journal (two runs, or an attempt whose answer was lost): the second write conflicts,
// re-reads, and merges its own edits into what the first stored, keeping the first's.
BOOST_AUTO_TEST_CASE(a_conflicting_write_merges_instead_of_overwriting) {
    MemoryApi api;
    const auto changes = valid_changes();
    {
        mesh::Journal seed(api, "kube-system", false);
        BOOST_REQUIRE(seed.load("cluster1").has_value());
        seed.intend(changes[0]);
        seed.intend(changes[1]);
        seed.set_step("cluster2", "expose", "ctx-2");
        BOOST_REQUIRE(seed.flush().has_value());
    }
    mesh::Journal first(api, "kube-system", false);
    mesh::Journal second(api, "kube-system", false);
    BOOST_REQUIRE(first.load("cluster1").has_value());
    BOOST_REQUIRE(second.load("cluster1").has_value());
    first.intend(changes[2]);
    first.set_step("cluster3", "expose", "ctx-3");
    BOOST_REQUIRE(first.flush().has_value());
    // The second writer adds one change, changes another's state, and removes a third.
    second.intend(changes[3]);
    second.mark_applied(changes[0].id);
    second.forget(changes[1].id);
    auto written = second.flush();
    BOOST_REQUIRE_MESSAGE(written.has_value(), meshlink::test::error_message(written));

    mesh::Journal after(api, "kube-system", false);
    BOOST_REQUIRE(after.load("cluster1").has_value());
    BOOST_TEST(after.find(changes[2].id).has_value()); // the first writer's addition survived
    BOOST_TEST(after.find(changes[3].id).has_value());
    BOOST_TEST(!after.find(changes[1].id).has_value());
    BOOST_TEST(after.find(changes[0].id)->state == "applied");
    BOOST_TEST(after.step_done("cluster3", "expose"));
    BOOST_TEST(after.step_done("cluster2", "expose"));
}

BOOST_AUTO_TEST_SUITE_END()
