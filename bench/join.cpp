// bench/join: `kubectl meshlink join` of two fakekube clusters seeded as Cilium 1.16 installs, each answering
// every API request after --latency-ms (default 20), against the peer: the same outcome reached the manual
// way, one kubectl command after the other (what the procedure in README "Join" does by hand: read each
// cluster, expose the API servers, write the cilium-clustermesh entries and the hostAliases, check the
// agents). Prints wall time and API requests of both, requests per join, the ratios, and the requests of a
// re-run on the joined pair (zero writes). meshlink runs the two clusters' independent steps concurrently;
// kubectl cannot.
//
// Usage: join [--latency-ms N] [--runs N]

#include "kube/pki.hpp"
#include "tests/integration/support/cilium_cluster.hpp"
#include "tests/integration/support/fakekube_process.hpp"
#include "util/base64.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

using namespace meshlink;
using namespace meshlink::test;

namespace {

struct Pair {
    TempDirectory dir;
    std::vector<CiliumClusterSpec> specs;
    std::vector<FakekubeProcess> servers;
    std::filesystem::path home;
    std::vector<std::string> env;
};

CiliumClusterSpec spec_for(int index) {
    CiliumClusterSpec s = healthy_cluster(index);
    s.context = fmt::format("kind-cluster{}", index);
    s.cluster_name = fmt::format("cluster{}", index);
    s.helm_release = false;
    s.helm_owned_objects = false;
    for (std::size_t n = 0; n < s.nodes.size(); ++n) {
        s.nodes[n].internal_ip = fmt::format("127.0.{}.{}", index, 10 + n);
    }
    s.agent_status = agent_status_document({fmt::format("cluster{}", 3 - index)});
    return s;
}

std::unique_ptr<Pair> start_pair(int latency_ms) {
    auto pair = std::make_unique<Pair>();
    pair->home = pair->dir.path() / "home";
    std::filesystem::create_directories(pair->home / ".kube");
    pair->specs = {spec_for(1), spec_for(2)};
    pair->specs[1].ca = pair->specs[0].ca;
    std::string configs;
    for (const auto& spec : pair->specs) {
        auto options = fakekube_options(spec, pair->dir);
        options.latency_ms = latency_ms;
        options.extra_args.insert(options.extra_args.end(), {"--controller-delay-ms", "20"});
        auto server = FakekubeProcess::start(options);
        if (!server) {
            throw std::runtime_error(server.error().message);
        }
        configs += (configs.empty() ? "" : ":") + server->kubeconfig().string();
        pair->servers.push_back(std::move(*server));
    }
    const std::string path =
        bin_dir().string() + ":" + std::string(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
    pair->env = environment_with({"HOME=" + pair->home.string(),
                                  "KUBECONFIG=" + (pair->home / ".kube/config").string(), "PATH=" + path});
    auto view = run_command({"kubectl", "config", "view", "--flatten", "--raw"},
                            environment_with({"KUBECONFIG=" + configs}));
    if (!view || view->exit_code != 0) {
        throw std::runtime_error("kubectl config view failed");
    }
    pair->dir.write("home/.kube/config", view->out);
    run_command({"kubectl", "config", "use-context", "kind-cluster1"}, pair->env);
    return pair;
}

std::map<std::string, long> counters(const Pair& pair) {
    std::map<std::string, long> out;
    for (const auto& server : pair.servers) {
        auto stats = fakekube_stats(server);
        if (!stats) {
            throw std::runtime_error(stats.error().message);
        }
        for (const auto& [verb, count] : stats->items()) {
            out[verb] += count.get<long>();
        }
    }
    return out;
}

struct Sample {
    double wall_ms = 0;
    std::map<std::string, long> requests;
    long total = 0;
    long writes = 0;
};

Sample measure(const Pair& pair, const std::vector<std::vector<std::string>>& commands) {
    const auto before = counters(pair);
    const auto start = std::chrono::steady_clock::now();
    for (const auto& argv : commands) {
        auto result = run_command(argv, pair.env, std::chrono::seconds(600));
        if (!result || result->exit_code != 0) {
            throw std::runtime_error(fmt::format("{} failed: {}", fmt::join(argv, " "),
                                                 result ? result->err : result.error().message));
        }
    }
    Sample sample;
    sample.wall_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    for (const auto& [verb, count] : counters(pair)) {
        const long delta = count - (before.contains(verb) ? before.at(verb) : 0);
        if (delta != 0) {
            sample.requests[verb] = delta;
        }
        sample.total += delta;
        if (verb == "POST" || verb == "PUT" || verb == "PATCH" || verb == "DELETE") {
            sample.writes += delta;
        }
    }
    return sample;
}

// The manual procedure's API work for the same outcome, kubectl command by kubectl command.
std::vector<std::vector<std::string>> manual_commands(const Pair& pair) {
    std::vector<std::vector<std::string>> out;
    for (int i = 0; i < 2; ++i) {
        const std::string ctx = fmt::format("kind-cluster{}", i + 1);
        const std::string service =
            pair.dir
                .write(
                    fmt::format("svc{}.json", i),
                    R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"meshlink-apiserver","namespace":"kube-system"},)"
                    R"("spec":{"type":"NodePort","selector":{"component":"kube-apiserver","tier":"control-plane"},)"
                    R"("ports":[{"name":"https","port":6443,"targetPort":6443}]}})")
                .string();
        out.push_back({"kubectl", "--context", ctx, "-n", "kube-system", "get", "configmap", "cilium-config",
                       "-o", "json"});
        out.push_back({"kubectl", "--context", ctx, "-n", "kube-system", "get", "service",
                       "clustermesh-apiserver", "-o", "json"});
        out.push_back({"kubectl", "--context", ctx, "get", "nodes", "-o", "wide"});
        out.push_back(
            {"kubectl", "--context", ctx, "-n", "kube-system", "get", "secret", "cilium-ca", "-o", "json"});
        out.push_back({"kubectl", "--context", ctx, "create", "-f", service});
    }
    for (int i = 0; i < 2; ++i) {
        const int peer = 2 - i;
        const std::string ctx = fmt::format("kind-cluster{}", i + 1);
        const std::string entry = util::base64_encode(
            fmt::format("endpoints:\n- https://cluster{0}.mesh.cilium.io:{1}\ntrusted-ca-file: "
                        "/var/lib/cilium/clustermesh/common-etcd-client-ca.crt\n"
                        "key-file: /var/lib/cilium/clustermesh/common-etcd-client.key\ncert-file: "
                        "/var/lib/cilium/clustermesh/common-etcd-client.crt\n",
                        peer, *pair.specs[peer - 1].clustermesh_node_port));
        const std::string secret =
            pair.dir
                .write(
                    fmt::format("cm{}.json", i),
                    fmt::format(
                        R"({{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"cilium-clustermesh","namespace":"kube-system"}},"data":{{"cluster{}":"{}"}}}})",
                        peer, entry))
                .string();
        out.push_back({"kubectl", "--context", ctx, "apply", "-f", secret});
        out.push_back(
            {"kubectl", "--context", ctx, "-n", "kube-system", "patch", "daemonset", "cilium", "--type",
             "strategic", "-p",
             fmt::format(
                 R"({{"spec":{{"template":{{"spec":{{"hostAliases":[{{"ip":"127.0.{0}.10","hostnames":["cluster{0}.mesh.cilium.io"]}}]}}}}}}}})",
                 peer)});
        for (int pod = 0; pod < 3; ++pod) {
            auto pods = run_command({"kubectl", "--context", ctx, "-n", "kube-system", "get", "pods", "-l",
                                     "k8s-app=cilium", "-o",
                                     fmt::format("jsonpath={{.items[{}].metadata.name}}", pod)},
                                    pair.env);
            out.push_back({"kubectl", "--context", ctx, "-n", "kube-system", "exec", pods->out, "-c",
                           "cilium-agent", "--", "cilium-dbg", "status", "-o", "json"});
        }
    }
    return out;
}

std::string text(const std::map<std::string, long>& requests) {
    std::string out;
    for (const auto& [verb, count] : requests) {
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", verb, count);
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    int latency = 20;
    int runs = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--latency-ms") {
            latency = std::atoi(argv[i + 1]);
        } else if (flag == "--runs") {
            runs = std::max(1, std::atoi(argv[i + 1]));
        }
    }
    try {
        std::vector<double> meshlink_ms;
        std::vector<double> kubectl_ms;
        std::vector<double> rerun_ms;
        Sample join;
        Sample rerun;
        Sample manual;
        for (int run = 0; run < runs; ++run) {
            {
                auto pair = start_pair(latency);
                join = measure(*pair, {{"kubectl", "meshlink", "join", "kind-cluster2", "--yes"}});
                meshlink_ms.push_back(join.wall_ms);
                rerun = measure(*pair, {{"kubectl", "meshlink", "join", "kind-cluster2", "--yes"}});
                rerun_ms.push_back(rerun.wall_ms);
            }
            auto pair = start_pair(latency);
            const auto commands = manual_commands(*pair);
            manual = measure(*pair, commands);
            kubectl_ms.push_back(manual.wall_ms);
        }
        auto median = [](std::vector<double> v) {
            std::sort(v.begin(), v.end());
            return v[v.size() / 2];
        };
        std::cout << fmt::format("join of two clusters, --latency-ms {} on both, median of {} runs\n",
                                 latency, runs);
        std::cout << fmt::format(
            "  kubectl meshlink join     {:8.0f} ms  {:4} requests per join ({}); {} writes\n",
            median(meshlink_ms), join.total, text(join.requests), join.writes);
        std::cout << fmt::format("  re-run on the joined pair {:8.0f} ms  {:4} requests ({}); {} writes\n",
                                 median(rerun_ms), rerun.total, text(rerun.requests), rerun.writes);
        std::cout << fmt::format("  kubectl, by hand          {:8.0f} ms  {:4} requests ({}) in 26 commands, "
                                 "no checks, no journal\n",
                                 median(kubectl_ms), manual.total, text(manual.requests));
        std::cout << fmt::format("  ratio meshlink/kubectl: wall {:.2f}, requests {:.2f}\n",
                                 median(meshlink_ms) / median(kubectl_ms),
                                 static_cast<double>(join.total) / static_cast<double>(manual.total));
    } catch (const std::exception& error) {
        std::cerr << "bench/join: " << error.what() << "\n";
        return 2;
    }
    return 0;
}
