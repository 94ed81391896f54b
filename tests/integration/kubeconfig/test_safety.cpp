// The user's file is sacred: malformed input, held locks, concurrent kubectl writers, kill -9 and file
// modes never cost an entry or leave a half-written file.

#include "harness.hpp"
#include "kube/kubeconfig_write.hpp"

#include <boost/test/unit_test.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace fs = std::filesystem;
using meshlink::test::read_file;
using meshlink::test::Workspace;
using nlohmann::json;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

int wait_for(int pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void check_untouched(const Workspace& ws, const fs::path& target, const std::string& before) {
    BOOST_TEST(read_file(target) == before);
    BOOST_TEST(meshlink::test::files_starting_with(ws.dir(), target.filename().string() + ".").empty(),
               "no backup, lock or temporary file next to " << target);
}

} // namespace

BOOST_AUTO_TEST_SUITE(kubeconfig_safety)

BOOST_AUTO_TEST_CASE(malformed_inputs_name_file_and_line_and_leave_the_target_alone) {
    Workspace ws;
    const fs::path target = ws.path("target");
    meshlink::test::copy_file(ws.fixture("kind.yaml"), target);
    const std::string before = read_file(target);
    meshlink::test::copy_file("/bin/true", ws.path("binary.yaml"));
    meshlink::test::write_file(ws.path("garbage.yaml"),
                               std::string("apiVersion: v1\n\x01\x02\x03\xff\xfe", 20));
    // File, line and what: the lines are where the fixtures put the fault.
    const std::vector<std::pair<fs::path, std::string>> cases{
        {ws.fixture("malformed/invalid-yaml.yaml"), "invalid-yaml.yaml:7: invalid YAML"},
        {ws.fixture("malformed/clusters-not-a-list.yaml"),
         "clusters-not-a-list.yaml:3: clusters: expected a list"},
        {ws.fixture("malformed/server-not-a-string.yaml"),
         "server-not-a-string.yaml:5: cluster \"mapping-server\": server: expected a string"},
        {ws.fixture("malformed/insecure-not-a-bool.yaml"),
         "insecure-not-a-bool.yaml:5: cluster \"quoted-bool\": insecure-skip-tls-verify: expected a boolean"},
        {ws.fixture("malformed/missing-name.yaml"), "missing-name.yaml:7: users: an entry has no name"},
        {ws.fixture("malformed/duplicate-names.yaml"),
         "duplicate-names.yaml:8: duplicate context name \"twice\""},
        {ws.fixture("malformed/bad-base64.yaml"),
         "bad-base64.yaml:5: cluster \"bad-data\": certificate-authority-data: invalid base64"},
        {ws.fixture("malformed/missing-cert-file.yaml"),
         "missing-cert-file.yaml:4: cluster \"missing-ca\": certificate-authority"},
        {ws.path("binary.yaml"), "binary.yaml:1: binary data"},
        {ws.path("garbage.yaml"), "garbage.yaml:2: binary data"},
        {ws.path("does-not-exist.yaml"), "does-not-exist.yaml: cannot open"},
    };
    for (const auto& [input, message] : cases) {
        BOOST_TEST_CONTEXT(input.filename()) {
            // The malformed file is the second input: nothing of the first may be written either.
            auto merged = ws.meshlink({"kubeconfig", "merge", "--into", target.string(),
                                       ws.fixture("token.yaml").string(), input.string()});
            BOOST_TEST(merged.code == 2);
            BOOST_TEST(contains(merged.err, message), merged.err);
            check_untouched(ws, target, before);
        }
    }
    // kubectl refuses the same files (except the missing name and certificate, which it only notices later).
    for (const char* name : {"invalid-yaml.yaml", "clusters-not-a-list.yaml", "server-not-a-string.yaml",
                             "insecure-not-a-bool.yaml", "duplicate-names.yaml", "bad-base64.yaml"}) {
        auto viewed = ws.kubectl({"config", "view"},
                                 {"KUBECONFIG=" + ws.fixture(std::string("malformed/") + name).string()});
        BOOST_TEST(viewed.code != 0, name);
    }
    // A malformed *target* is not overwritten either.
    meshlink::test::copy_file(ws.fixture("malformed/duplicate-names.yaml"), ws.path("bad-target"));
    const std::string bad_before = read_file(ws.path("bad-target"));
    auto into_bad = ws.meshlink(
        {"kubeconfig", "merge", "--into", ws.path("bad-target").string(), ws.fixture("kind.yaml").string()});
    BOOST_TEST(into_bad.code == 2);
    BOOST_TEST(contains(into_bad.err, "bad-target:8: duplicate context name"), into_bad.err);
    check_untouched(ws, ws.path("bad-target"), bad_before);
}

BOOST_AUTO_TEST_CASE(kubectl_and_meshlink_take_the_same_lock) {
    Workspace ws;
    const fs::path target = ws.path("locked");
    meshlink::test::copy_file(ws.fixture("kind.yaml"), target);
    const std::string before = read_file(target);

    // A lock left behind (as kubectl or a killed process leaves it): a clear error after the timeout.
    meshlink::test::write_file(ws.path("locked.lock"), "");
    auto blocked = ws.meshlink({"kubeconfig", "merge", "--lock-timeout", "300ms", "--into", target.string(),
                                ws.fixture("k3s.yaml").string()});
    BOOST_TEST(blocked.code == 2);
    BOOST_TEST(contains(blocked.err, target.string() + ".lock exists"), blocked.err);
    BOOST_TEST(contains(blocked.err, "rm " + target.string() + ".lock"), blocked.err);
    BOOST_TEST(read_file(target) == before);

    // Released while meshlink waits: the merge goes through.
    const int pid = ws.spawn_meshlink({"kubeconfig", "merge", "--lock-timeout", "60s", "--into",
                                       target.string(), ws.fixture("k3s.yaml").string()});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    fs::remove(ws.path("locked.lock"));
    BOOST_TEST(wait_for(pid) == 0);
    BOOST_TEST(meshlink::test::by_name(ws.kubectl_view({target}))["contexts"].contains("default"));
    BOOST_TEST(!fs::exists(ws.path("locked.lock")));

    // While meshlink's library holds the lock, kubectl cannot write the file.
    {
        auto lock = meshlink::kube::KubeconfigLock::acquire(target, std::chrono::seconds(0));
        BOOST_TEST_REQUIRE(lock.has_value(), lock.error().message);
        auto set =
            ws.kubectl({"--kubeconfig", target.string(), "config", "set-context", "blocked", "--cluster=x"});
        BOOST_TEST(set.code != 0);
        BOOST_TEST(contains(set.err, "locked.lock"), set.err);
    }
    auto set =
        ws.kubectl({"--kubeconfig", target.string(), "config", "set-context", "unblocked", "--cluster=x"});
    BOOST_TEST(set.code == 0, set.err);
}

BOOST_AUTO_TEST_CASE(concurrent_kubectl_writes_and_merges_lose_nothing) {
    Workspace ws;
    const fs::path target = ws.path("busy");
    meshlink::test::copy_file(ws.fixture("kubeadm-cluster01.yaml"), target);
    std::atomic<bool> done{false};
    std::vector<std::string> kubectl_wrote;
    std::thread writer([&] {
        // kubectl does not wait for a lock: some of these fail while meshlink writes, and say so.
        for (int i = 0; !done || i < 20; ++i) {
            const std::string name = "loop-" + std::to_string(i);
            auto set =
                ws.kubectl({"--kubeconfig", target.string(), "config", "set-context", name,
                            "--cluster=cluster.local", "--user=kubernetes-admin", "--namespace=ns-" + name});
            if (set.code == 0) {
                kubectl_wrote.push_back(name);
            }
            if (i > 200) {
                break;
            }
        }
    });
    const std::vector<std::string> inputs{
        "kind.yaml",          "k3s.yaml",   "eks-exec-v1beta1.yaml", "gke-exec.yaml",
        "aks-kubelogin.yaml", "token.yaml", "proxy-tls.yaml",        "extensions-preferences.yaml"};
    std::vector<std::string> merged;
    for (int round = 0; round < 2; ++round) {
        for (const auto& input : inputs) {
            auto result = ws.meshlink({"kubeconfig", "merge", "--lock-timeout", "60s", "--into",
                                       target.string(), ws.fixture(input).string()});
            BOOST_TEST(result.code == 0, input << ": " << result.err);
        }
    }
    done = true;
    writer.join();
    const json view = meshlink::test::by_name(ws.kubectl_view({target}));
    BOOST_TEST(!kubectl_wrote.empty());
    for (const auto& name : kubectl_wrote) {
        BOOST_TEST(view["contexts"].contains(name), "kubectl's context " << name << " was lost");
        BOOST_TEST(view["contexts"][name]["context"]["namespace"] == "ns-" + name);
    }
    for (const auto& input : inputs) {
        const json input_view = meshlink::test::by_name(ws.kubectl_view({ws.fixture(input)}));
        for (const auto& [name, entry] : input_view["contexts"].items()) {
            BOOST_TEST(view["contexts"].contains(name), "merged context " << name << " was lost");
        }
    }
    BOOST_TEST(view["contexts"].contains("kubernetes-admin@cluster.local"));
    BOOST_TEST(!fs::exists(ws.path("busy.lock")));
}

BOOST_AUTO_TEST_CASE(kill_9_during_a_merge_leaves_the_old_or_the_new_file) {
    Workspace ws;
    const fs::path many = ws.many_contexts("east", 2000);
    const fs::path original = ws.path("original");
    meshlink::test::copy_file(ws.fixture("kubeadm-cluster01.yaml"), original);
    // What an uninterrupted merge writes (merges are deterministic).
    const fs::path reference = ws.path("reference");
    meshlink::test::copy_file(original, reference);
    BOOST_TEST_REQUIRE(
        ws.meshlink({"kubeconfig", "merge", "--into", reference.string(), many.string()}).code == 0);
    const std::string old_text = read_file(original);
    const std::string new_text = read_file(reference);
    BOOST_TEST_REQUIRE(old_text != new_text);

    int saw_old = 0;
    int saw_new = 0;
    for (int delay_ms : {0, 1, 3, 10, 30, 60, 100, 150, 200, 300, 450, 700, 1000}) {
        const fs::path target = ws.path("killed");
        meshlink::test::copy_file(original, target);
        const int pid = ws.spawn_meshlink({"kubeconfig", "merge", "--into", target.string(), many.string()});
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        ::kill(pid, SIGKILL);
        wait_for(pid);
        const std::string now = read_file(target);
        BOOST_TEST_CONTEXT("killed after " << delay_ms << " ms") {
            BOOST_TEST((now == old_text || now == new_text),
                       "the target is neither the old nor the new file");
        }
        saw_old += now == old_text ? 1 : 0;
        saw_new += now == new_text ? 1 : 0;
        if (fs::exists(ws.path("killed.lock"))) {
            // The killed run's lock stays, like kubectl's would; the next run explains it.
            auto next = ws.meshlink({"kubeconfig", "merge", "--lock-timeout", "0s", "--into", target.string(),
                                     ws.fixture("kind.yaml").string()});
            BOOST_TEST(next.code == 2);
            BOOST_TEST(contains(next.err, "rm " + target.string() + ".lock"), next.err);
            fs::remove(ws.path("killed.lock"));
        }
        // A later merge completes and cleans up the killed run's temporary file.
        auto after =
            ws.meshlink({"kubeconfig", "merge", "--into", target.string(), ws.fixture("kind.yaml").string()});
        BOOST_TEST(after.code == 0, after.err);
        BOOST_TEST(meshlink::test::files_starting_with(ws.dir(), "killed.meshlink-tmp-").empty());
        for (const auto& leftover : meshlink::test::files_starting_with(ws.dir(), "killed.")) {
            fs::remove(leftover);
        }
    }
    BOOST_TEST_MESSAGE("kill -9 outcomes: " << saw_old << " old, " << saw_new << " new");
}

BOOST_AUTO_TEST_CASE(mode_owner_symlinks_and_backups_are_kept) {
    Workspace ws;
    const fs::path target = ws.path("kept");
    meshlink::test::copy_file(ws.fixture("kind.yaml"), target);
    ::chmod(target.c_str(), 0640);
    const bool root = ::geteuid() == 0;
    if (root) {
        BOOST_TEST_REQUIRE(::chown(target.c_str(), 65534, 65534) == 0);
    }
    std::vector<std::string> contents{read_file(target)};
    const std::vector<std::string> inputs{
        "k3s.yaml",           "token.yaml",     "eks-exec-v1beta1.yaml",      "gke-exec.yaml",
        "aks-kubelogin.yaml", "proxy-tls.yaml", "extensions-preferences.yaml"};
    for (const auto& input : inputs) {
        auto merged =
            ws.meshlink({"kubeconfig", "merge", "--into", target.string(), ws.fixture(input).string()});
        BOOST_TEST_REQUIRE(merged.code == 0, merged.err);
        contents.push_back(read_file(target));
    }
    struct stat info {};
    BOOST_TEST_REQUIRE(::stat(target.c_str(), &info) == 0);
    BOOST_TEST((info.st_mode & 07777) == 0640U);
    if (root) {
        BOOST_TEST(info.st_uid == 65534U);
        BOOST_TEST(info.st_gid == 65534U);
    }
    // The newest five backups, each the content before one of the last five merges.
    const auto backups = meshlink::kube::kubeconfig_backups(target);
    BOOST_TEST_REQUIRE(backups.size() == 5U);
    for (std::size_t i = 0; i < backups.size(); ++i) {
        BOOST_TEST(read_file(backups[i]) == contents[contents.size() - 2 - i], backups[i]);
        BOOST_TEST(backups[i].filename().string().starts_with("kept.meshlink-"));
        BOOST_TEST(backups[i].filename().string().ends_with("Z.bak"));
        // Copies readable by the owner alone, whatever the file's mode (0640 here), and owned like it.
        struct stat backup {};
        BOOST_TEST_REQUIRE(::stat(backups[i].c_str(), &backup) == 0);
        BOOST_TEST((backup.st_mode & 07777) == 0600U, backups[i]);
        BOOST_TEST(backup.st_nlink == 1U);
        if (root) {
            BOOST_TEST(backup.st_uid == 65534U);
        }
    }

    // A symlinked kubeconfig (dotfile managers) stays a symlink; the file it points to is updated.
    const fs::path real = ws.path("dotfiles-kubeconfig");
    meshlink::test::copy_file(ws.fixture("kind.yaml"), real);
    const fs::path link = ws.path("linked-config");
    fs::create_symlink(real, link);
    auto merged =
        ws.meshlink({"kubeconfig", "merge", "--into", link.string(), ws.fixture("k3s.yaml").string()});
    BOOST_TEST_REQUIRE(merged.code == 0, merged.err);
    BOOST_TEST(fs::is_symlink(link));
    BOOST_TEST(meshlink::test::by_name(ws.kubectl_view({real}))["contexts"].contains("default"));
}

BOOST_AUTO_TEST_SUITE_END()
