// The journal is data, not instructions (README "Security model"): whoever can write
// kube-system/meshlink-journal in a cluster (a peer cluster's admin, say) must not steer join or leave, which
// run with the operator's credentials on the operator's machine. Each case plants what an attacker would and
// shows the harmless outcome.
#include "tests/integration/mesh/harness.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <fstream>
#include <sstream>

using namespace meshlink::test;

namespace {

const std::string k_journal = "/api/v1/namespaces/kube-system/configmaps/meshlink-journal";

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Stores `text` as cluster `index`'s journal, as an admin of that cluster could.
void plant_text(const Mesh& m, int index, const std::string& text) {
    const json object = {{"apiVersion", "v1"},
                         {"kind", "ConfigMap"},
                         {"metadata", {{"name", "meshlink-journal"}, {"namespace", "kube-system"}}},
                         {"data", {{"journal.json", text}}}};
    const auto file = m.dir().write(fmt::format("planted-{}.json", index), object.dump());
    auto applied =
        m.kubectl({"--context", fmt::format("kind-cluster{}", index), "apply", "-f", file.string()});
    BOOST_REQUIRE_MESSAGE(applied.exit_code == 0, applied.err);
}

// Adds `changes` (and `peers` records) to cluster `index`'s journal (creating it when absent), as an admin of
// that cluster would.
void plant(const Mesh& m, int index, const json& changes, const json& peers = json::object()) {
    const json current = m.get(static_cast<std::size_t>(index - 1), k_journal);
    json doc = current.is_object() ? json::parse(current["data"]["journal.json"].get<std::string>())
                                   : json{{"format", 1},
                                          {"cluster", fmt::format("cluster{}", index)},
                                          {"peers", json::object()},
                                          {"changes", json::array()}};
    for (const auto& change : changes) {
        doc["changes"].push_back(change);
    }
    for (const auto& [name, record] : peers.items()) {
        doc["peers"][name] = record;
    }
    plant_text(m, index, doc.dump());
}

json change(const std::string& id, const std::string& action, const json& detail) {
    return {
        {"id", id}, {"action", action}, {"state", "applied"}, {"peers", {"cluster2"}}, {"detail", detail}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(mesh_trust)

// leave undoes only what meshlink itself writes: planted entries naming a kubeconfig file of the operator, a
// file under a missing directory, and objects outside meshlink's own (by a "../" name climbing out of
// kube-system) are reported, skipped and kept; nothing they name changes.
BOOST_AUTO_TEST_CASE(a_planted_journal_cannot_steer_leave) {
    Mesh m({mesh_cluster(1, 2), mesh_cluster(2, 2)});
    auto joined = m.meshlink({"join", "kind-cluster2", "--yes"});
    BOOST_REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);

    // An unrelated kubeconfig of the operator, and a Secret and a ConfigMap elsewhere in the cluster.
    const auto other = m.dir().write("other.kubeconfig", read_file(m.kubeconfig()));
    const std::string other_before = read_file(other);
    const auto missing = m.dir().path() / "no-such-dir" / "config";
    for (const char* kind : {"secret generic", "configmap"}) {
        std::vector<std::string> args{"--context", "kind-cluster1", "-n", "default", "create"};
        std::istringstream words(kind);
        for (std::string word; words >> word;) {
            args.push_back(word);
        }
        args.insert(args.end(), {"victim", "--from-literal=a=b"});
        auto created = m.kubectl(args);
        BOOST_REQUIRE_MESSAGE(created.exit_code == 0, created.err);
    }
    plant(m, 1,
          json::array({
              change("kubeconfig/prod", "kubeconfig", {{"file", other.string()}, {"name", "kind-cluster1"}}),
              change("kubeconfig/x", "kubeconfig", {{"file", missing.string()}, {"name", "x"}}),
              change("secrets/cilium-ca/ca", "replace-secret",
                     {{"kind", "Secret"},
                      {"name", "../../default/secrets/victim"},
                      {"existed", false},
                      {"sha256", std::string(64, 'a')}}),
              change("secrets/victim", "create",
                     {{"kind", "Secret"}, {"name", "../../default/secrets/victim"}}),
              change("configmaps/victim", "create", {{"kind", "ConfigMap"}, {"name", "victim"}}),
              change("host-alias/daemonsets/cilium/10.0.0.1/evil", "host-alias",
                     {{"kind", "DaemonSet"}, {"name", "cilium"}, {"ip", "10.0.0.1"}, {"hostname", "evil"}}),
              change("secret-key/victim/a", "secret-key",
                     {{"secret", "victim"},
                      {"key", "a"},
                      {"sha256", std::string(64, 'b')},
                      {"previous", "absent"}}),
              json("not even an object"),
          }));

    auto left = m.meshlink({"leave", "kind-cluster2", "--yes"});
    const std::string output = left.out + left.err;
    BOOST_REQUIRE_MESSAGE(left.exit_code == 0, output);
    for (const char* id :
         {"kubeconfig/prod", "kubeconfig/x", "secrets/cilium-ca/ca", "secrets/victim", "configmaps/victim",
          "host-alias/daemonsets/cilium/10.0.0.1/evil", "secret-key/victim/a", "\"not even an object\""}) {
        BOOST_TEST(
            output.find(fmt::format("warning: journal entry {} (ConfigMap kube-system/meshlink-journal) is "
                                    "not one meshlink writes",
                                    id)) != std::string::npos,
            id << "\n"
               << output);
    }
    BOOST_TEST(output.find("kept as it is and never acted on") != std::string::npos, output);
    BOOST_TEST(m.get(0, "/api/v1/namespaces/default/secrets/victim").is_object());
    BOOST_TEST(m.get(0, "/api/v1/namespaces/default/configmaps/victim").is_object());
    BOOST_TEST(read_file(other) == other_before);
    BOOST_TEST(!std::filesystem::exists(missing.parent_path()));
    // The planted entries stay, as they were: meshlink removes nothing it did not write.
    const json journal = m.get(0, k_journal);
    BOOST_REQUIRE(journal.is_object());
    const json stored = json::parse(journal["data"]["journal.json"].get<std::string>());
    BOOST_TEST(stored["changes"].size() == 8u);
}

// Overwrite permission for kubeconfig entries comes only from this machine's own record: a planted "applied"
// kubeconfig entry does not let join repoint the operator's context named like the peer at the peer.
BOOST_AUTO_TEST_CASE(a_planted_kubeconfig_entry_gives_no_permission_to_overwrite) {
    Mesh m({mesh_cluster(1, 2), mesh_cluster(2, 2)});
    // The operator's own context "cluster2" reaches cluster1 (another cluster than the peer).
    auto view = m.kubectl(
        {"config", "view", "--flatten", "--raw", "--minify", "--context", "kind-cluster1", "-o", "json"});
    BOOST_REQUIRE_MESSAGE(view.exit_code == 0, view.err);
    json doc = json::parse(view.out);
    for (const char* list : {"clusters", "users", "contexts"}) {
        doc[list][0]["name"] = "cluster2";
    }
    doc["contexts"][0]["context"]["cluster"] = "cluster2";
    doc["contexts"][0]["context"]["user"] = "cluster2";
    doc["current-context"] = "cluster2";
    const auto mine = m.dir().write("mine.kubeconfig", doc.dump(2));
    const std::string before[] = {read_file(m.kubeconfig()), read_file(mine)};
    plant(m, 1,
          json::array({change("kubeconfig/cluster2", "kubeconfig",
                              {{"file", m.kubeconfig().string()}, {"name", "cluster2"}, {"server", "x"}})}));

    auto joined = m.meshlink({"join", "kind-cluster2", "--context", "kind-cluster1", "--yes"}, false,
                             {"KUBECONFIG=" + m.kubeconfig().string() + ":" + mine.string()});
    const std::string output = joined.out + joined.err;
    BOOST_TEST(joined.exit_code != 0, output);
    BOOST_TEST(output.find("already has entries named \"cluster2\" for another cluster") != std::string::npos,
               output);
    BOOST_TEST(read_file(m.kubeconfig()) == before[0]);
    BOOST_TEST(read_file(mine) == before[1]);
}

// status opens the context a journal's peer record names only to read the cluster that record is about, and
// prints peer names from a journal with their control characters escaped.
BOOST_AUTO_TEST_CASE(status_reads_only_the_cluster_a_peer_record_names) {
    Mesh m({mesh_cluster(1, 2), mesh_cluster(2, 2)});
    plant(m, 1, json::array(),
          {{"cluster9", {{"state", "joined"}, {"context", "kind-cluster2"}, {"steps", json::object()}}},
           {"evil\u001b[2Jname", {{"state", "joined"}, {"context", "kind-cluster2"}}}});
    auto status = m.meshlink({"status"});
    const std::string output = status.out + status.err;
    BOOST_TEST(status.exit_code == 0, output);
    BOOST_TEST(output.find('\x1b') == std::string::npos, output);
    BOOST_TEST(output.find("journal peer record \"evil\\x1b[2Jname\"") != std::string::npos, output);
    auto document = m.meshlink({"status", "-o", "json"});
    BOOST_REQUIRE_MESSAGE(document.exit_code == 0, document.err);
    const json doc = json::parse(document.out);
    bool refused = false;
    for (const auto& pair : doc["peers"]) {
        if (pair["name"] == "cluster9") {
            refused = pair.value("error", "") ==
                      "context \"kind-cluster2\" reaches cluster cluster2, not cluster9; not read";
            BOOST_TEST(!pair.contains("peer"));
        }
    }
    BOOST_TEST(refused, doc.dump(2));
}

// A journal nested 100,000 levels deep parses (nlohmann's parser is iterative), but copying it recursed until
// the stack overflowed: join, leave and status died with SIGSEGV. Now the text's depth is judged first, and
// every verb stops with an error naming the ConfigMap, before writing anything.
BOOST_AUTO_TEST_CASE(a_journal_nested_too_deep_is_an_error_not_a_crash) {
    Mesh m({mesh_cluster(1, 2), mesh_cluster(2, 2)});
    plant_text(m, 1,
               R"({"format":1,"cluster":"cluster1","peers":{},"changes":[)" + std::string(100000, '[') +
                   std::string(100000, ']') + "]}");
    const long writes[] = {m.writes(0), m.writes(1)};
    for (const std::vector<std::string>& verb : {std::vector<std::string>{"join", "kind-cluster2", "--yes"},
                                                 {"leave", "kind-cluster2", "--yes"},
                                                 {"status"}}) {
        BOOST_TEST_CONTEXT(verb.front()) {
            auto result = m.meshlink(verb);
            const std::string output = result.out + result.err;
            BOOST_TEST(result.exit_code == 2, output);
            BOOST_TEST(output.find("ConfigMap kube-system/meshlink-journal: data.journal.json is nested more "
                                   "than 1000 levels deep") != std::string::npos,
                       output);
        }
    }
    BOOST_TEST(m.writes(0) == writes[0]);
    BOOST_TEST(m.writes(1) == writes[1]);
}

BOOST_AUTO_TEST_SUITE_END()
