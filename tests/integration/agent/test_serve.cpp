// `meshlink-agent serve` against fakekube: it publishes its report on its own Node, writes nothing when
// nothing changed, survives a faulty API server, serves its endpoints and stops cleanly on SIGTERM.

#include "kube/exec_credential.hpp"
#include "tests/integration/agent/harness.hpp"
#include "util/time.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

using namespace meshlink;
using namespace meshlink::test;

namespace {

const std::filesystem::path k_fixtures = std::filesystem::path(MESHLINK_SOURCE_DIR) / "tests/fixtures/nodes";
constexpr const char* k_annotation = "meshlink.io/node-report";

// Two nodes, and the agent's namespace (agent install creates it) where the agents keep their Leases.
std::filesystem::path seed_nodes(const TempDirectory& dir) {
    return dir.write("nodes.yaml", R"(apiVersion: v1
kind: Namespace
metadata:
  name: meshlink-system
---
apiVersion: v1
kind: Node
metadata:
  name: n1
  labels:
    kubernetes.io/hostname: n1
---
apiVersion: v1
kind: Node
metadata:
  name: n2
  labels:
    kubernetes.io/hostname: n2
)");
}

FakekubeProcess start_server(const TempDirectory& dir, const std::string& faults = "") {
    FakekubeOptions options("agent-it");
    options.seeds.push_back(seed_nodes(dir));
    options.faults = faults;
    auto server = FakekubeProcess::start(options);
    BOOST_TEST_REQUIRE(server.has_value(), error_message(server));
    return std::move(*server);
}

kube::Client admin(const FakekubeProcess& server) {
    auto config = server.rest_config();
    BOOST_TEST_REQUIRE(config.has_value(), error_message(config));
    auto client = kube::Client::from_config(*config);
    BOOST_TEST_REQUIRE(client.has_value(), error_message(client));
    return std::move(*client);
}

// The agent on the centos7 fixture (kernel 3.10: fails every Cilium minimum), judged for Cilium 1.16.
AgentProcess start_agent(const FakekubeProcess& server, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = fixture_serve_args(server.kubeconfig(), "n1");
    args.insert(args.end(), {"--cilium-version", "1.16"});
    args.insert(args.end(), extra.begin(), extra.end());
    auto agent = AgentProcess::start(args);
    BOOST_TEST_REQUIRE(agent.has_value(), error_message(agent));
    return std::move(*agent);
}

json node_metadata(kube::Client& client, const std::string& name) {
    auto node = client.get("/api/v1/nodes/" + name);
    BOOST_TEST_REQUIRE(node.has_value(), error_message(node));
    return (*node)["metadata"];
}

std::optional<json> lease_of(kube::Client& client, const std::string& node) {
    auto lease =
        client.get("/apis/coordination.k8s.io/v1/namespaces/meshlink-system/leases/meshlink-agent-" + node);
    return lease ? std::optional<json>(std::move(*lease)) : std::nullopt;
}

bool has_report(kube::Client& client, const std::string& name) {
    auto node = client.get("/api/v1/nodes/" + name);
    return node && (*node)["metadata"].contains("annotations") &&
           (*node)["metadata"]["annotations"].contains(k_annotation);
}

std::map<std::string, double> scrape(const AgentProcess& agent) {
    auto answer = http_get(agent.port(), "/metrics");
    BOOST_TEST_REQUIRE(answer.has_value(), error_message(answer));
    BOOST_TEST_REQUIRE(answer->status == 200);
    return parse_metrics(answer->body);
}

double metric(const AgentProcess& agent, const std::string& key) {
    const auto metrics = scrape(agent);
    auto it = metrics.find(key);
    return it == metrics.end() ? -1 : it->second;
}

void stop_cleanly(AgentProcess& agent) {
    agent.signal(SIGTERM);
    const auto status = agent.wait_exit(std::chrono::seconds(60));
    BOOST_TEST_REQUIRE(status.has_value(), "meshlink-agent still running after SIGTERM:\n" << agent.log());
    BOOST_TEST(WIFEXITED(*status));
    BOOST_TEST(WEXITSTATUS(*status) == 0, agent.log());
}

} // namespace

BOOST_AUTO_TEST_SUITE(agent_serve)

BOOST_AUTO_TEST_CASE(publishes_report_and_labels_on_its_own_node) {
    TempDirectory dir;
    auto server = start_server(dir);
    auto client = admin(server);
    auto agent = start_agent(server, {"--interval", "7m"});
    BOOST_TEST_REQUIRE(wait_for([&] { return has_report(client, "n1"); }), "no report on n1:\n"
                                                                               << agent.log());

    const json metadata = node_metadata(client, "n1");
    BOOST_TEST(metadata["labels"]["meshlink.io/kernel-ready"] == "false");
    BOOST_TEST(metadata["labels"]["meshlink.io/kernel-version"] == "3.10.0-1160.119.1.el7.x86_64");
    BOOST_TEST(metadata["labels"]["kubernetes.io/hostname"] == "n1");
    const json report = json::parse(metadata["annotations"][k_annotation].get<std::string>());
    BOOST_TEST(report["schemaVersion"] == 1);
    BOOST_TEST(report["node"] == "n1");
    BOOST_TEST(report["ciliumVersion"] == "1.16");
    BOOST_TEST(report["intervalSeconds"] == 420);
    const auto observed = util::parse_rfc3339(report["observedAt"].get<std::string>());
    BOOST_TEST_REQUIRE(observed.has_value());
    BOOST_TEST(std::chrono::abs(std::chrono::system_clock::now() - *observed) < std::chrono::hours(1));
    bool kernel_failed = false;
    for (const auto& check : report["checks"]) {
        kernel_failed |= check["id"] == "node.kernel.version" && check["status"] == "fail";
    }
    BOOST_TEST(kernel_failed);

    // Its Lease: held by the node for three intervals, owned by the Node (deleted with it).
    const auto lease = lease_of(client, "n1");
    BOOST_TEST_REQUIRE(lease.has_value());
    BOOST_TEST((*lease)["spec"]["holderIdentity"] == "n1");
    BOOST_TEST((*lease)["spec"]["leaseDurationSeconds"] == 3 * 420);
    BOOST_TEST((*lease)["metadata"]["ownerReferences"][0]["uid"] == metadata["uid"]);
    BOOST_TEST(util::parse_rfc3339((*lease)["spec"]["renewTime"].get<std::string>()).has_value());

    // Only its own node.
    BOOST_TEST(!has_report(client, "n2"));
    BOOST_TEST(!lease_of(client, "n2").has_value());
    BOOST_TEST(!node_metadata(client, "n2")["labels"].contains("meshlink.io/kernel-ready"));

    // Real kubectl sees the same, and can select nodes by the label.
    const auto env = environment_with({"KUBECONFIG=" + server.kubeconfig().string()});
    auto selected =
        run_command({"kubectl", "get", "nodes", "-l", "meshlink.io/kernel-ready=false", "-o", "name"}, env);
    BOOST_TEST_REQUIRE(selected.has_value(), error_message(selected));
    BOOST_TEST(selected->exit_code == 0, selected->err);
    BOOST_TEST(selected->out == "node/n1\n");
    auto annotation = run_command({"kubectl", "get", "node", "n1", "-o",
                                   R"(jsonpath={.metadata.annotations.meshlink\.io/node-report})"},
                                  env);
    BOOST_TEST_REQUIRE(annotation.has_value(), error_message(annotation));
    BOOST_TEST(json::parse(annotation->out) == report);

    stop_cleanly(agent);
}

// A steady cluster writes nothing to Nodes: over several intervals (1 s here) of an unchanged node, the agent
// only reads its Node and renews its Lease, one PUT per interval; the Node's resourceVersion never moves.
BOOST_AUTO_TEST_CASE(a_steady_cluster_writes_nothing_to_nodes) {
    TempDirectory dir;
    auto server = start_server(dir);
    auto client = admin(server);
    auto agent = start_agent(server, {"--interval", "1s"});
    BOOST_TEST_REQUIRE(wait_for([&] { return metric(agent, "meshlink_node_publish_attempts_total") >= 1; }),
                       agent.log());
    BOOST_TEST_REQUIRE(has_report(client, "n1"));
    BOOST_TEST(metric(agent, "meshlink_node_publish_writes_total") == 1);
    const auto first_lease = lease_of(client, "n1");
    BOOST_TEST_REQUIRE(first_lease.has_value());

    reset_fakekube_stats(client);
    const std::string node_version = node_metadata(client, "n1")["resourceVersion"];
    const double attempts = metric(agent, "meshlink_node_publish_attempts_total");
    constexpr int k_intervals = 5;
    BOOST_TEST_REQUIRE(wait_for([&] {
                           return metric(agent, "meshlink_node_publish_attempts_total") >=
                                  attempts + k_intervals;
                       }),
                       agent.log());
    // The counters are read before the last scrape's numbers, so they cover at least k_intervals publishes.
    const auto stats = fakekube_stats(client);
    const double published = metric(agent, "meshlink_node_publish_attempts_total") - attempts;
    BOOST_TEST(metric(agent, "meshlink_node_publish_errors_total") == 0, agent.log());
    BOOST_TEST(stats.value("PATCH", 0) == 0, stats.dump()); // no Node write
    BOOST_TEST(stats.value("POST", 0) == 0, stats.dump());  // the Lease exists already
    BOOST_TEST(stats.value("DELETE", 0) == 0, stats.dump());
    BOOST_TEST(stats.value("PUT", 0) >= k_intervals, stats.dump()); // one Lease renewal per interval
    BOOST_TEST(stats.value("PUT", 0) <= stats.value("GET", 0),
               stats.dump()); // each publish reads the Node first
    BOOST_TEST(published >= k_intervals);
    BOOST_TEST(node_metadata(client, "n1")["resourceVersion"] == node_version);
    BOOST_TEST(metric(agent, "meshlink_node_publish_writes_total") == 1);
    const auto renewed = lease_of(client, "n1");
    BOOST_TEST_REQUIRE(renewed.has_value());
    BOOST_TEST((*util::parse_rfc3339((*renewed)["spec"]["renewTime"].get<std::string>()) >
                *util::parse_rfc3339((*first_lease)["spec"]["renewTime"].get<std::string>())));

    // The counter does see a write when one is due: someone flips our label, the next probe puts it back.
    auto tampered = client.patch("/api/v1/nodes/n1", kube::PatchType::merge,
                                 json{{"metadata", {{"labels", {{"meshlink.io/kernel-ready", "true"}}}}}});
    BOOST_TEST_REQUIRE(tampered.has_value(), error_message(tampered));
    BOOST_TEST_REQUIRE(wait_for([&] {
                           return node_metadata(client, "n1")["labels"]["meshlink.io/kernel-ready"] ==
                                  "false";
                       }),
                       agent.log());
    BOOST_TEST(metric(agent, "meshlink_node_publish_writes_total") == 2);

    stop_cleanly(agent);
}

// A report from this agent in steady state is fresh for `agent status` although its observedAt is older than
// three intervals: the Lease says the agent is alive.
BOOST_AUTO_TEST_CASE(agent_status_judges_a_steady_report_by_its_lease) {
    TempDirectory dir;
    auto server = start_server(dir);
    auto client = admin(server);
    auto agent = start_agent(server, {"--interval", "1s"});
    BOOST_TEST_REQUIRE(wait_for([&] { return has_report(client, "n1"); }), agent.log());
    const json report =
        json::parse(node_metadata(client, "n1")["annotations"][k_annotation].get<std::string>());
    const auto observed = util::parse_rfc3339(report["observedAt"].get<std::string>());
    BOOST_TEST_REQUIRE(observed.has_value());
    // Wait until observedAt alone would call the report stale (3 intervals of 1 s, whole seconds).
    BOOST_TEST_REQUIRE(
        wait_for([&] { return std::chrono::system_clock::now() - *observed > std::chrono::seconds(5); }));
    auto status = run_command({(bin_dir() / "kubectl-meshlink").string(), "agent", "status", "-o", "json",
                               "--kubeconfig", server.kubeconfig().string()},
                              environment_with({}));
    BOOST_TEST_REQUIRE(status.has_value(), error_message(status));
    BOOST_TEST_REQUIRE(status->exit_code == 0, status->err);
    const json out = json::parse(status->out);
    BOOST_TEST(out["leases"]["readable"] == true);
    for (const auto& node : out["nodes"]) {
        if (node["name"] == "n1") {
            BOOST_TEST(node["report"] == "fresh", node.dump());
            BOOST_TEST(node["liveness"] == "lease", node.dump());
            BOOST_TEST(node["observedAt"] == report["observedAt"]); // the report was not rewritten
        } else {
            BOOST_TEST(node["report"] == "missing", node.dump());
        }
    }
    stop_cleanly(agent);
}

BOOST_AUTO_TEST_CASE(metrics_match_the_published_report) {
    TempDirectory dir;
    auto server = start_server(dir);
    auto client = admin(server);
    auto agent = start_agent(server);
    BOOST_TEST_REQUIRE(wait_for([&] { return has_report(client, "n1"); }), agent.log());
    BOOST_TEST_REQUIRE(wait_for([&] { return metric(agent, "meshlink_node_publish_attempts_total") >= 1; }));

    auto answer = http_get(agent.port(), "/metrics");
    BOOST_TEST_REQUIRE(answer.has_value(), error_message(answer));
    BOOST_TEST(answer->content_type.find("text/plain; version=0.0.4") == 0, answer->content_type);
    BOOST_TEST(answer->body.find("# TYPE meshlink_node_check_status gauge") != std::string::npos);
    const auto metrics = parse_metrics(answer->body);

    const json report =
        json::parse(node_metadata(client, "n1")["annotations"][k_annotation].get<std::string>());
    BOOST_TEST_REQUIRE(report["checks"].size() > 5u);
    for (const auto& check : report["checks"]) {
        for (const char* status : {"pass", "warn", "fail", "unknown"}) {
            const std::string key = fmt::format("meshlink_node_check_status{{check=\"{}\",status=\"{}\"}}",
                                                check["id"].get<std::string>(), status);
            auto it = metrics.find(key);
            BOOST_TEST_REQUIRE((it != metrics.end()), key);
            BOOST_TEST(it->second == (check["status"] == status ? 1.0 : 0.0), key);
        }
    }
    BOOST_TEST(metrics.at("meshlink_node_kernel_ready") == 0);
    BOOST_TEST(metrics.at("meshlink_node_probe_duration_seconds") >= 0);
    BOOST_TEST(metrics.at("meshlink_node_last_publish_success_timestamp_seconds") > 1.7e9);

    auto health = http_get(agent.port(), "/healthz");
    BOOST_TEST_REQUIRE(health.has_value());
    BOOST_TEST(health->status == 200);
    auto ready = http_get(agent.port(), "/readyz");
    BOOST_TEST_REQUIRE(ready.has_value());
    BOOST_TEST(ready->status == 200, ready->body);
    auto unknown = http_get(agent.port(), "/nope");
    BOOST_TEST_REQUIRE(unknown.has_value());
    BOOST_TEST(unknown->status == 404);

    stop_cleanly(agent);
}

BOOST_AUTO_TEST_CASE(survives_a_faulty_api_server) {
    TempDirectory dir;
    // Three requests in ten fail (500/503/429), some connections are reset.
    auto server = start_server(dir, "rate=0.3,reset=0.05,status=500|503|429,retry-after=1,seed=11");
    auto client = admin(server);
    auto agent = start_agent(server, {"-v", "6"}); // -v 6 logs every API answer, faulted ones included
    BOOST_TEST_REQUIRE(wait_for([&] { return has_report(client, "n1"); }, std::chrono::seconds(180)),
                       "no report on n1 under faults:\n"
                           << agent.log());
    // More rounds under faults until the agent has met some (at 35% per request that takes a few rounds;
    // 30 rounds without one would be a broken fault injector). The endpoints answer throughout.
    const std::regex faulted(R"( (500|503|429) |reset|connection)");
    int round = 0;
    for (; round < 30 && (round < 4 || !std::regex_search(agent.log(), faulted)); ++round) {
        agent.signal(SIGHUP);
        BOOST_TEST_REQUIRE(wait_for([&] { return metric(agent, "meshlink_node_probes_total") >= round + 2; },
                                    std::chrono::seconds(120)),
                           agent.log());
        auto health = http_get(agent.port(), "/healthz");
        BOOST_TEST_REQUIRE(health.has_value());
        BOOST_TEST(health->status == 200);
    }
    BOOST_TEST(std::regex_search(agent.log(), faulted),
               "no fault reached the agent in " << round << " rounds");
    BOOST_TEST_REQUIRE(wait_for([&] {
        return metric(agent, "meshlink_node_publish_attempts_total") -
                   metric(agent, "meshlink_node_publish_errors_total") >=
               1;
    }));
    const json metadata = node_metadata(client, "n1");
    BOOST_TEST(metadata["labels"]["meshlink.io/kernel-ready"] == "false");
    BOOST_TEST(metadata["labels"]["meshlink.io/kernel-version"] == "3.10.0-1160.119.1.el7.x86_64");
    BOOST_TEST(json::parse(metadata["annotations"][k_annotation].get<std::string>())["node"] == "n1");
    stop_cleanly(agent);
}

BOOST_AUTO_TEST_CASE(keeps_serving_while_the_api_server_is_gone_and_stops_on_sigterm) {
    TempDirectory dir;
    auto server = start_server(dir);
    auto agent = start_agent(server);
    BOOST_TEST_REQUIRE(wait_for([&] { return metric(agent, "meshlink_node_publish_writes_total") >= 1; }),
                       agent.log());
    BOOST_TEST_REQUIRE(server.stop().has_value());
    agent.signal(SIGHUP);
    BOOST_TEST_REQUIRE(wait_for([&] { return metric(agent, "meshlink_node_publish_errors_total") >= 1; }),
                       agent.log());
    auto health = http_get(agent.port(), "/healthz");
    BOOST_TEST_REQUIRE(health.has_value());
    BOOST_TEST(health->status == 200);
    auto ready = http_get(agent.port(), "/readyz");
    BOOST_TEST_REQUIRE(ready.has_value());
    BOOST_TEST(ready->status == 503, ready->body); // the API server does not answer at all
    // A SIGTERM during the retry backoff still ends the process, with exit 0.
    stop_cleanly(agent);
    BOOST_TEST(agent.log().find("SIGTERM: shutting down") != std::string::npos, agent.log());
}

// The journal is reached through its socket; a private mount namespace gives the agent one at the standard
// path without touching the host's /run. A listener stands in for journald and keeps every datagram.
struct CanUnshare {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result result(true);
        if (::geteuid() != 0) {
            result = false;
            result.message() << "needs root for a private mount namespace";
        } else if (!util::find_executable("unshare") || !util::find_executable("python3")) {
            result = false;
            result.message() << "needs unshare and python3";
        }
        return result;
    }
};

BOOST_AUTO_TEST_CASE(logs_to_the_journal_when_its_socket_exists,
                     *boost::unit_test::precondition(CanUnshare())) {
    TempDirectory dir;
    auto server = start_server(dir);
    const auto listener = dir.write("journald.py", R"(import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/run/systemd/journal/socket")
s.settimeout(60)
with open(sys.argv[1], "wb") as out:
    while True:
        data = s.recv(65536)
        out.write(data + b"\n--\n")
        out.flush()
        if b"MESSAGE=stopped" in data:
            break
)");
    const auto out = dir.path() / "journal.out";
    const auto fixture = k_fixtures / "centos7";
    // Node "ghost" does not exist: the publish fails, which must be logged as a warning.
    const std::string script = fmt::format(
        "mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal || exit 90\n"
        "python3 {} {} & listener=$!\n"
        "for i in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done\n"
        "{} serve --kubeconfig {} --node-name ghost --skip-bpf --root {} --proc {} --sys {} --listen-address "
        "127.0.0.1 "
        "--port 0 & agent=$!\n"
        "for i in $(seq 300); do grep -q 'MESSAGE=publishing' {} 2>/dev/null && break; sleep 0.1; done\n"
        "kill -TERM $agent; wait $agent; code=$?; wait $listener; exit $code\n",
        listener.string(), out.string(), (bin_dir() / "meshlink-agent").string(),
        server.kubeconfig().string(), (fixture / "root").string(), (fixture / "proc").string(),
        (fixture / "sys").string(), out.string());
    auto ran =
        run_command({"unshare", "-m", "--propagation", "private", "sh", "-c", script}, environment_with({}));
    BOOST_TEST_REQUIRE(ran.has_value(), error_message(ran));
    BOOST_TEST(ran->exit_code == 0, ran->err);
    BOOST_TEST(ran->err.find("info") == std::string::npos, "logged to stderr instead:\n" << ran->err);

    std::ifstream in(out);
    std::stringstream text;
    text << in.rdbuf();
    const std::string journal = text.str();
    // One datagram per entry, in journald's native format: FIELD=value lines.
    BOOST_TEST(journal.find("SYSLOG_IDENTIFIER=meshlink-agent\n") != std::string::npos, journal);
    BOOST_TEST(journal.find("MESHLINK_NODE=ghost\n") != std::string::npos, journal);
    const std::regex started(R"(MESSAGE=meshlink-agent [^\n]* on node "ghost"[^\n]*\nPRIORITY=6\n)");
    BOOST_TEST(std::regex_search(journal, started), journal);
    const std::regex failed(R"(MESSAGE=publishing the report on node "ghost" failed[^\n]*\nPRIORITY=4\n)");
    BOOST_TEST(std::regex_search(journal, failed), journal);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2) {
    auto no_node =
        run_command({(bin_dir() / "meshlink-agent").string(), "serve", "--kubeconfig", "/nonexistent"},
                    environment_with({"NODE_NAME="}));
    BOOST_TEST_REQUIRE(no_node.has_value());
    BOOST_TEST(no_node->exit_code == 2);
    BOOST_TEST(no_node->err.find("--node-name") != std::string::npos, no_node->err);
    auto bad_interval = run_command(
        {(bin_dir() / "meshlink-agent").string(), "serve", "--node-name", "n1", "--interval", "soon"},
        environment_with({}));
    BOOST_TEST_REQUIRE(bad_interval.has_value());
    BOOST_TEST(bad_interval->exit_code == 2);
    BOOST_TEST(bad_interval->err.find("--interval") != std::string::npos, bad_interval->err);
    // Readers refuse reports with an interval beyond a week, so the agent does not take one.
    auto too_long = run_command(
        {(bin_dir() / "meshlink-agent").string(), "serve", "--node-name", "n1", "--interval", "200h"},
        environment_with({}));
    BOOST_TEST_REQUIRE(too_long.has_value());
    BOOST_TEST(too_long->exit_code == 2);
    BOOST_TEST(too_long->err.find("from 1s to 168h0m0s") != std::string::npos, too_long->err);
}

BOOST_AUTO_TEST_SUITE_END()
