// Merging, judged by real kubectl: the merged file must read exactly like kubectl's own merge of the same
// files, every merged context must work with `kubectl config use-context`, and conflicts are refused
// without touching the target.

#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;
using meshlink::test::Workspace;
using nlohmann::json;

namespace {

struct RequireKubectl {
    RequireKubectl() {
        if (!meshlink::test::have_kubectl()) {
            std::cerr
                << "kubectl is not on PATH: the kubeconfig integration tests compare with it; skipping\n";
            std::exit(77);
        }
    }
};

// The corpus: every realistic kubeconfig with names no other one uses.
const std::vector<std::string> k_distinct_corpus{"kind.yaml",
                                                 "k3s.yaml",
                                                 "eks-exec-v1beta1.yaml",
                                                 "gke-exec.yaml",
                                                 "aks-kubelogin.yaml",
                                                 "token.yaml",
                                                 "tokenfile/config",
                                                 "relative-paths/config",
                                                 "proxy-tls.yaml",
                                                 "extensions-preferences.yaml"};

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// kubectl's view keeps relative tokenFile and exec.command as written (it resolves them when it uses them,
// against the file that defined the entry); the merged file has them absolute. Resolve the reference view's
// the same way so that both say the same thing.
void resolve_like_client_go(json& view, const std::map<std::string, fs::path>& user_origin) {
    for (auto it = view["users"].begin(); it != view["users"].end(); ++it) {
        auto origin = user_origin.find(it.key());
        if (origin == user_origin.end()) {
            continue;
        }
        json& user = it.value()["user"];
        const fs::path dir = origin->second.parent_path();
        if (user.contains("tokenFile") && !fs::path(user["tokenFile"].get<std::string>()).is_absolute()) {
            user["tokenFile"] = (dir / user["tokenFile"].get<std::string>()).lexically_normal().string();
        }
        if (user.contains("exec") && user["exec"].contains("command")) {
            const std::string command = user["exec"]["command"];
            if (command.find('/') != std::string::npos && !fs::path(command).is_absolute()) {
                user["exec"]["command"] = (dir / command).lexically_normal().string();
            }
        }
    }
}

// Which file defines each user first, by kubectl's reading of each file alone.
std::map<std::string, fs::path> user_origins(const Workspace& ws, const std::vector<fs::path>& files) {
    std::map<std::string, fs::path> origin;
    for (const auto& file : files) {
        if (!fs::exists(file)) {
            continue;
        }
        const json view = meshlink::test::by_name(ws.kubectl_view({file}));
        for (const auto& [name, entry] : view["users"].items()) {
            origin.try_emplace(name, file);
        }
    }
    return origin;
}

// Merges `inputs` into `target` with meshlink and checks the result against kubectl's view of
// KUBECONFIG=target:inputs..., entry by entry.
void check_merge_matches_kubectl(Workspace& ws, const fs::path& target, const std::vector<fs::path>& inputs) {
    const fs::path before = ws.path(target.filename().string() + ".before");
    const bool existed = fs::exists(target);
    if (existed) {
        meshlink::test::copy_file(target, before);
    }
    std::vector<std::string> args{"kubeconfig", "merge", "--into", target.string()};
    for (const auto& input : inputs) {
        args.push_back(input.string());
    }
    auto merged = ws.meshlink(args);
    BOOST_TEST_REQUIRE(merged.code == 0, merged.err);

    std::vector<fs::path> chain;
    if (existed) {
        chain.push_back(before);
    }
    chain.insert(chain.end(), inputs.begin(), inputs.end());
    json expected = meshlink::test::by_name(ws.kubectl_view(chain));
    resolve_like_client_go(expected, user_origins(ws, chain));
    const json actual = meshlink::test::by_name(ws.kubectl_view({target}));
    for (const char* list : {"clusters", "users", "contexts"}) {
        BOOST_TEST(actual[list].size() == expected[list].size(), list);
        for (const auto& [name, entry] : expected[list].items()) {
            BOOST_TEST_CONTEXT(list << " " << name) {
                BOOST_TEST_REQUIRE(actual[list].contains(name));
                BOOST_TEST(actual[list][name] == entry,
                           "meshlink: " << actual[list][name].dump() << "\nkubectl:  " << entry.dump());
            }
        }
    }
    BOOST_TEST(actual["current-context"] == expected["current-context"]);
    BOOST_TEST(actual["preferences"] == expected["preferences"]);
    BOOST_TEST(actual["extensions"] == expected["extensions"]);
}

std::vector<std::string> context_names(const Workspace& ws, const fs::path& file) {
    auto names = ws.kubectl({"--kubeconfig", file.string(), "config", "get-contexts", "-o", "name"});
    BOOST_TEST_REQUIRE(names.code == 0, names.err);
    std::vector<std::string> out;
    std::stringstream lines(names.out);
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty()) {
            out.push_back(line);
        }
    }
    return out;
}

} // namespace

BOOST_TEST_GLOBAL_FIXTURE(RequireKubectl);
BOOST_TEST_DONT_PRINT_LOG_VALUE(std::filesystem::perms)

BOOST_AUTO_TEST_SUITE(kubeconfig_merge)

BOOST_AUTO_TEST_CASE(corpus_is_realistic_and_kubectl_reads_every_file) {
    Workspace ws;
    std::vector<std::string> corpus = k_distinct_corpus;
    corpus.insert(corpus.end(), {"kubeadm-cluster01.yaml", "kubeadm-cluster02.yaml", "duplicates/first.yaml",
                                 "duplicates/second.yaml"});
    BOOST_TEST(corpus.size() >= 12U);
    const fs::path many = ws.many_contexts("fleet", 2000);
    BOOST_TEST(context_names(ws, many).size() == 2000U);
    for (const auto& name : corpus) {
        BOOST_TEST_CONTEXT(name) {
            const auto kubectl_contexts = context_names(ws, ws.fixture(name));
            BOOST_TEST(!kubectl_contexts.empty());
            auto listed =
                ws.meshlink({"--kubeconfig", ws.fixture(name).string(), "kubeconfig", "list", "-o", "json"});
            BOOST_TEST_REQUIRE(listed.code == 0, listed.err);
            std::vector<std::string> ours;
            for (const auto& item : json::parse(listed.out)) {
                ours.push_back(item["name"]);
            }
            std::vector<std::string> theirs = kubectl_contexts;
            std::sort(theirs.begin(), theirs.end());
            BOOST_TEST(ours == theirs, boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(each_file_into_a_new_target_reads_like_the_original) {
    Workspace ws;
    for (const auto& name : k_distinct_corpus) {
        BOOST_TEST_CONTEXT(name) {
            const fs::path target = ws.path("new-" + std::to_string(std::hash<std::string>{}(name)));
            check_merge_matches_kubectl(ws, target, {ws.fixture(name)});
            BOOST_TEST((fs::status(target).permissions() & fs::perms::all) ==
                       (fs::perms::owner_read | fs::perms::owner_write));
        }
    }
}

BOOST_AUTO_TEST_CASE(whole_corpus_into_a_kubeadm_config_reads_like_kubectls_merge) {
    Workspace ws;
    const fs::path target = ws.path("config");
    meshlink::test::copy_file(ws.fixture("kubeadm-cluster01.yaml"), target);
    std::vector<fs::path> inputs;
    for (const auto& name : k_distinct_corpus) {
        inputs.push_back(ws.fixture(name));
    }
    check_merge_matches_kubectl(ws, target, inputs);

    // Every merged context works for kubectl.
    const auto contexts = context_names(ws, target);
    BOOST_TEST(contexts.size() == 13U); // 1 + 12 from the corpus
    const fs::path copy = ws.path("use-context-copy");
    meshlink::test::copy_file(target, copy);
    for (const auto& context : contexts) {
        BOOST_TEST_CONTEXT(context) {
            auto used = ws.kubectl({"--kubeconfig", copy.string(), "config", "use-context", context});
            BOOST_TEST(used.code == 0, used.err);
            auto current = ws.kubectl({"--kubeconfig", copy.string(), "config", "current-context"});
            BOOST_TEST(current.out == context + "\n");
        }
    }

    // Merging the same files again changes nothing: every entry is identical.
    const std::string before = meshlink::test::read_file(target);
    std::vector<std::string> again{"kubeconfig", "merge", "--into", target.string()};
    for (const auto& input : inputs) {
        again.push_back(input.string());
    }
    auto rerun = ws.meshlink(again);
    BOOST_TEST(rerun.code == 0, rerun.err);
    BOOST_TEST(meshlink::test::read_file(target) == before);
}

BOOST_AUTO_TEST_CASE(kubectl_first_wins_over_files_with_shared_names) {
    Workspace ws;
    // "shared" is identical in both files (skipped); "staging" differs: refused by default.
    const fs::path target = ws.path("dup-target");
    check_merge_matches_kubectl(ws, target, {ws.fixture("duplicates/first.yaml")});
    const std::string before = meshlink::test::read_file(target);
    auto refused =
        ws.meshlink({"kubeconfig", "merge", "--into", target.string(), ws.fixture("duplicates/second.yaml")});
    BOOST_TEST(refused.code == 2);
    BOOST_TEST(contains(refused.err, "cluster \"staging\""), refused.err);
    BOOST_TEST(!contains(refused.err, "cluster \"shared\""), refused.err);
    BOOST_TEST(meshlink::test::read_file(target) == before);

    // --rename-on-conflict: the other "staging" arrives as "staging-2", its context follows it.
    auto renamed = ws.meshlink({"kubeconfig", "merge", "--rename-on-conflict", "--into", target.string(),
                                ws.fixture("duplicates/second.yaml")});
    BOOST_TEST_REQUIRE(renamed.code == 0, renamed.err);
    const json view = meshlink::test::by_name(ws.kubectl_view({target}));
    const json second = meshlink::test::by_name(ws.kubectl_view({ws.fixture("duplicates/second.yaml")}));
    BOOST_TEST(view["clusters"]["staging"]["cluster"]["server"] == "https://10.2.0.1:6443");
    BOOST_TEST(view["clusters"]["staging-2"]["cluster"] == second["clusters"]["staging"]["cluster"]);
    BOOST_TEST(view["contexts"]["staging-2"]["context"]["cluster"] == "staging-2");
    BOOST_TEST(view["contexts"]["qa"]["context"] == second["contexts"]["qa"]["context"]);
    // The same again is a no-op: "staging-2" already holds that entry.
    const std::string after_rename = meshlink::test::read_file(target);
    auto rerun = ws.meshlink({"kubeconfig", "merge", "--rename-on-conflict", "--into", target.string(),
                              ws.fixture("duplicates/second.yaml")});
    BOOST_TEST(rerun.code == 0, rerun.err);
    BOOST_TEST(meshlink::test::read_file(target) == after_rename);

    // --overwrite replaces "staging" with the second file's.
    auto overwritten = ws.meshlink({"kubeconfig", "merge", "--overwrite", "--into", target.string(),
                                    ws.fixture("duplicates/second.yaml")});
    BOOST_TEST_REQUIRE(overwritten.code == 0, overwritten.err);
    BOOST_TEST(meshlink::test::by_name(ws.kubectl_view({target}))["clusters"]["staging"] ==
               second["clusters"]["staging"]);
}

BOOST_AUTO_TEST_CASE(two_kubeadm_clusters_need_as_and_get_complete_distinct_contexts) {
    Workspace ws;
    const fs::path one = ws.fixture("kubeadm-cluster01.yaml");
    const fs::path two = ws.fixture("kubeadm-cluster02.yaml");

    // Without --as the second admin.conf collides with the first on all three names: refused, untouched.
    const fs::path plain = ws.path("plain-config");
    BOOST_TEST_REQUIRE(ws.meshlink({"kubeconfig", "merge", "--into", plain.string(), one.string()}).code ==
                       0);
    const std::string before = meshlink::test::read_file(plain);
    auto refused = ws.meshlink({"kubeconfig", "merge", "--into", plain.string(), two.string()});
    BOOST_TEST(refused.code == 2);
    for (const char* entry : {"cluster \"cluster.local\"", "user \"kubernetes-admin\"",
                              "context \"kubernetes-admin@cluster.local\""}) {
        BOOST_TEST(contains(refused.err, entry), refused.err);
    }
    BOOST_TEST(contains(refused.err, "--as"));
    BOOST_TEST(meshlink::test::read_file(plain) == before);
    BOOST_TEST(meshlink::test::files_starting_with(ws.dir(), "plain-config.").empty());

    // With --as: two complete contexts, each with its own server, CA and credentials.
    const fs::path target = ws.path("mesh-config");
    auto first =
        ws.meshlink({"kubeconfig", "merge", "--as", "cluster01", "--into", target.string(), one.string()});
    BOOST_TEST_REQUIRE(first.code == 0, first.err);
    auto second = ws.meshlink({"kubeconfig", "merge", "--as", "cluster02", "--set-current", "--into",
                               target.string(), two.string()});
    BOOST_TEST_REQUIRE(second.code == 0, second.err);
    BOOST_TEST(context_names(ws, target) == (std::vector<std::string>{"cluster01", "cluster02"}),
               boost::test_tools::per_element());
    const json original_one = meshlink::test::by_name(ws.kubectl_view({one}));
    const json original_two = meshlink::test::by_name(ws.kubectl_view({two}));
    for (const auto& [name, original] :
         {std::pair{"cluster01", original_one}, std::pair{"cluster02", original_two}}) {
        BOOST_TEST_CONTEXT(name) {
            const json minified = meshlink::test::by_name(ws.kubectl_view({target}, true, name));
            BOOST_TEST(minified["contexts"][name]["context"] == (json{{"cluster", name}, {"user", name}}));
            BOOST_TEST(minified["clusters"][name]["cluster"] ==
                       original["clusters"]["cluster.local"]["cluster"]);
            BOOST_TEST(minified["users"][name]["user"] == original["users"]["kubernetes-admin"]["user"]);
        }
    }
    auto current = ws.kubectl({"--kubeconfig", target.string(), "config", "current-context"});
    BOOST_TEST(current.out == "cluster02\n");

    // join's use: the exposed API server address replaces the server.
    auto exposed =
        ws.meshlink({"kubeconfig", "merge", "--as", "cluster03", "--server", "https://203.0.113.9:6443",
                     "--tls-server-name", "kubernetes", "--into", target.string(), two.string()});
    BOOST_TEST_REQUIRE(exposed.code == 0, exposed.err);
    const json view = meshlink::test::by_name(ws.kubectl_view({target}));
    BOOST_TEST(view["clusters"]["cluster03"]["cluster"]["server"] == "https://203.0.113.9:6443");
    BOOST_TEST(view["clusters"]["cluster03"]["cluster"]["tls-server-name"] == "kubernetes");
    BOOST_TEST(view["clusters"]["cluster02"]["cluster"]["server"] == "https://192.168.20.11:6443");
}

BOOST_AUTO_TEST_CASE(default_target_is_where_kubectl_writes_new_entries) {
    Workspace ws;
    // KUBECONFIG=missing:existing: kubectl writes new entries to the first existing file.
    const fs::path existing = ws.path("existing");
    meshlink::test::copy_file(ws.fixture("token.yaml"), existing);
    const std::string list = ws.path("missing").string() + ":" + existing.string();
    auto merged =
        ws.meshlink({"kubeconfig", "merge", ws.fixture("kind.yaml").string()}, {"KUBECONFIG=" + list});
    BOOST_TEST_REQUIRE(merged.code == 0, merged.err);
    BOOST_TEST(!fs::exists(ws.path("missing")));
    BOOST_TEST(meshlink::test::by_name(ws.kubectl_view({existing}))["contexts"].contains("kind-kind"));
    // kubectl agrees on where a new context goes.
    auto set = ws.kubectl({"config", "set-context", "probe", "--cluster=kind-kind"}, {"KUBECONFIG=" + list});
    BOOST_TEST_REQUIRE(set.code == 0, set.err);
    BOOST_TEST(meshlink::test::by_name(ws.kubectl_view({existing}))["contexts"].contains("probe"));

    // Without KUBECONFIG: ~/.kube/config, created 0600.
    auto home = ws.meshlink({"kubeconfig", "merge", ws.fixture("k3s.yaml").string()});
    BOOST_TEST_REQUIRE(home.code == 0, home.err);
    const fs::path config = ws.dir() / "home" / ".kube" / "config";
    BOOST_TEST(fs::exists(config));
    BOOST_TEST((fs::status(config).permissions() & fs::perms::all) ==
               (fs::perms::owner_read | fs::perms::owner_write));
}

BOOST_AUTO_TEST_CASE(dry_run_writes_nothing_and_redacts_secrets) {
    Workspace ws;
    const fs::path target = ws.path("dry");
    meshlink::test::copy_file(ws.fixture("kind.yaml"), target);
    const std::string before = meshlink::test::read_file(target);
    auto dry = ws.meshlink({"kubeconfig", "merge", "--dry-run", "--into", target.string(),
                            ws.fixture("token.yaml").string(), ws.fixture("proxy-tls.yaml").string()});
    BOOST_TEST_REQUIRE(dry.code == 0, dry.err);
    BOOST_TEST(meshlink::test::read_file(target) == before);
    BOOST_TEST(contains(dry.out, "ci@staging"));
    BOOST_TEST(!contains(dry.out, "throwaway-ci-token-0123456789abcdef"));
    BOOST_TEST(!contains(dry.out, "\"0000\""));       // lab-basic's password
    BOOST_TEST(!contains(dry.out, "LS0tLS1CRUdJTi")); // any base64 PEM
    BOOST_TEST(contains(dry.out, "REDACTED"));
    // Every exec argument and env value (their names say nothing about what they hold), and the user
    // information of a proxy-url, as the README promises.
    const fs::path exec = ws.path("exec.yaml");
    std::ofstream(exec)
        << "apiVersion: v1\nkind: Config\nclusters:\n- name: e\n  cluster:\n"
           "    server: https://e.example:6443\n"
           "    proxy-url: http://proxyuser:proxy-pass-42@proxy.corp:3128\n"
           "users:\n- name: e\n  user:\n    exec:\n"
           "      apiVersion: client.authentication.k8s.io/v1\n      command: vault-login\n"
           "      args: [--token=arg-secret-1]\n      env:\n      - name: ROLE_ID\n"
           "        value: env-secret-2\ncontexts:\n- name: e\n  context: {cluster: e, user: e}\n";
    auto exec_dry =
        ws.meshlink({"kubeconfig", "merge", "--dry-run", "--into", target.string(), exec.string()});
    BOOST_TEST_REQUIRE(exec_dry.code == 0, exec_dry.err);
    for (const char* secret : {"arg-secret-1", "env-secret-2", "proxy-pass-42", "proxyuser"}) {
        BOOST_TEST(!contains(exec_dry.out + exec_dry.err, secret), secret << ":\n" << exec_dry.out);
    }
    BOOST_TEST(contains(exec_dry.out, "command: vault-login"), exec_dry.out);
    BOOST_TEST(contains(exec_dry.out, "proxy-url: http://REDACTED@proxy.corp:3128"), exec_dry.out);
    BOOST_TEST(meshlink::test::read_file(target) == before);
    auto raw = ws.meshlink({"kubeconfig", "merge", "--dry-run", "--raw", "--into", target.string(),
                            ws.fixture("token.yaml").string()});
    BOOST_TEST(raw.code == 0, raw.err);
    BOOST_TEST(contains(raw.out, "throwaway-ci-token-0123456789abcdef"));
    BOOST_TEST(meshlink::test::read_file(target) == before);
}

BOOST_AUTO_TEST_CASE(a_mistyped_subcommand_names_the_closest_one_and_the_help) {
    Workspace ws;
    auto typo = ws.meshlink({"kubeconfig", "mrege", "a.yaml"});
    BOOST_TEST(typo.code == 2);
    BOOST_TEST(typo.out.empty());
    BOOST_TEST(contains(typo.err, "unknown command \"mrege\" for \"kubectl meshlink kubeconfig\""), typo.err);
    BOOST_TEST(contains(typo.err, "Did you mean this?\n\tmerge\n"), typo.err);
    BOOST_TEST(contains(typo.err, "Run 'kubectl meshlink kubeconfig --help' for usage."), typo.err);
}

BOOST_AUTO_TEST_SUITE_END()
