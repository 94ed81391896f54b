// fakekube: a stand-in kube-apiserver over HTTPS for meshlink's tests and demos (see README.md).
#include "tests/fakekube/apiserver.hpp"
#include "tests/fakekube/certs.hpp"
#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/seed.hpp"
#include "tests/fakekube/server.hpp"
#include "util/error.hpp"

#include <arpa/inet.h>
#include <cxxopts.hpp>
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

namespace fk = meshlink::fakekube;
namespace kube = meshlink::kube;
namespace util = meshlink::util;

namespace {

struct Listen {
    std::string host;
    uint16_t port = 0;
};

util::Result<Listen> parse_listen(const std::string& text, bool allow_non_loopback) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
        return util::fail(util::ErrorKind::usage, "--listen: expected HOST:PORT, got \"" + text + "\"");
    }
    Listen listen{text.substr(0, colon), 0};
    try {
        const int port = std::stoi(text.substr(colon + 1));
        if (port < 0 || port > 65535) {
            throw std::out_of_range("port");
        }
        listen.port = static_cast<uint16_t>(port);
    } catch (const std::exception&) {
        return util::fail(util::ErrorKind::usage,
                          "--listen: \"" + text.substr(colon + 1) + "\" is not a port");
    }
    in_addr addr{};
    if (inet_pton(AF_INET, listen.host.c_str(), &addr) != 1) {
        return util::fail(util::ErrorKind::usage, "--listen: \"" + listen.host + "\" is not an IPv4 address");
    }
    const bool loopback = (ntohl(addr.s_addr) >> 24) == 127;
    if (!loopback && !allow_non_loopback) {
        return util::fail(util::ErrorKind::usage,
                          "--listen: " + listen.host +
                              " is not a loopback address; fakekube listens on 127.0.0.0/8 only "
                              "(--allow-non-loopback overrides)");
    }
    return listen;
}

int run(int argc, char** argv) {
    cxxopts::Options options("fakekube", "A stand-in kube-apiserver over HTTPS for tests and demos");
    options.add_options()("name", "cluster name: kubeconfig context, cluster and user",
                          cxxopts::value<std::string>())(
        "listen", "HOST:PORT to listen on (port 0 picks a free one)",
        cxxopts::value<std::string>()->default_value("127.0.0.1:0"))(
        "kubeconfig-out", "where to write the admin kubeconfig (mode 0600)",
        cxxopts::value<std::string>())("seed", "YAML/JSON objects to load at start (repeatable)",
                                       cxxopts::value<std::vector<std::string>>())(
        "token-file", "static bearer tokens: token,user,uid,\"group1,group2\" per line",
        cxxopts::value<std::string>())(
        "faults", "fault injection, e.g. rate=0.2,status=500|503|429,reset=0.05,retry-after=1",
        cxxopts::value<std::string>())("latency-ms", "delay every response by this many milliseconds",
                                       cxxopts::value<int>()->default_value("0"))(
        "service-cidr", "ClusterIP range", cxxopts::value<std::string>()->default_value("10.96.0.0/12"))(
        "pod-cidr", "Pod IP range: a /24 of it per Node (a Node's spec.podCIDR wins)",
        cxxopts::value<std::string>()->default_value("10.244.0.0/16"))(
        "controller-delay-ms", "delay before the built-in controllers fill in status",
        cxxopts::value<int>()->default_value("200"))(
        "authorization-mode", "AlwaysAllow or RBAC",
        cxxopts::value<std::string>()->default_value("AlwaysAllow"))(
        "threads", "worker threads", cxxopts::value<int>()->default_value("4"))(
        "runtime-config",
        "switch an API resource off, like kube-apiserver: GROUP/VERSION/RESOURCE=false "
        "(repeatable), e.g. networking.k8s.io/v1/servicecidrs=false for a cluster before 1.33",
        cxxopts::value<std::vector<std::string>>())("allow-non-loopback",
                                                    "allow --listen on a non-loopback address")(
        "exit-with-parent", "stop (SIGTERM) when the process that started fakekube dies, so a crashed test "
                            "leaves no server behind")("h,help", "show this help");
    cxxopts::ParseResult args;
    try {
        args = options.parse(argc, argv);
    } catch (const cxxopts::exceptions::exception& error) {
        std::cerr << "fakekube: error: " << error.what() << "\n" << options.help() << std::flush;
        return 2;
    }
    if (args.count("help") != 0) {
        std::cout << options.help() << std::flush;
        return 0;
    }
    if (args.count("name") == 0 || args.count("kubeconfig-out") == 0) {
        std::cerr << "fakekube: error: --name and --kubeconfig-out are required\n"
                  << options.help() << std::flush;
        return 2;
    }
    if (args.count("exit-with-parent") != 0) {
        const pid_t parent = ::getppid();
        if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || ::getppid() != parent) {
            return 2; // the parent is already gone
        }
    }
    const std::string name = args["name"].as<std::string>();
    const std::string mode = args["authorization-mode"].as<std::string>();
    if (mode != "AlwaysAllow" && mode != "RBAC") {
        throw util::UsageError("--authorization-mode must be AlwaysAllow or RBAC, not \"" + mode + "\"");
    }
    auto listen = util::value_or_throw(
        parse_listen(args["listen"].as<std::string>(), args.count("allow-non-loopback") != 0));

    fk::TransportConfig transport;
    transport.threads = args["threads"].as<int>();
    transport.latency = std::chrono::milliseconds(std::max(0, args["latency-ms"].as<int>()));
    if (args.count("faults") != 0) {
        transport.faults = util::value_or_throw(fk::parse_faults(args["faults"].as<std::string>()));
    }
    if (args.count("token-file") != 0) {
        transport.tokens = util::value_or_throw(fk::TokenFile::load(args["token-file"].as<std::string>()));
    }

    auto server = util::value_or_throw(fk::HttpsServer::listen(listen.host, listen.port));
    const std::string address = listen.host + ":" + std::to_string(server->port());
    auto credentials = util::value_or_throw(fk::make_credentials(name, listen.host));
    util::value_or_throw(fk::write_kubeconfig(args["kubeconfig-out"].as<std::string>(), name,
                                              "https://" + address, credentials));

    if (args.count("runtime-config") != 0) {
        std::vector<std::string> names;
        for (const auto& entry : args["runtime-config"].as<std::vector<std::string>>()) {
            const auto eq = entry.rfind('=');
            if (eq == std::string::npos || entry.substr(eq + 1) != "false") {
                throw util::UsageError("--runtime-config: expected GROUP/VERSION/RESOURCE=false, got \"" +
                                       entry + "\" (fakekube serves everything else already)");
            }
            names.push_back(entry.substr(0, eq));
        }
        if (const std::string unknown = fk::disable_resources(names); !unknown.empty()) {
            throw util::UsageError("--runtime-config: fakekube serves no resource \"" + unknown +
                                   "\" (e.g. networking.k8s.io/v1/servicecidrs, v1/events)");
        }
    }
    fk::ServerConfig config;
    config.service_cidr = args["service-cidr"].as<std::string>();
    config.pod_cidr = args["pod-cidr"].as<std::string>();
    config.controller_delay = std::chrono::milliseconds(std::max(0, args["controller-delay-ms"].as<int>()));
    config.rbac = mode == "RBAC";
    config.server_address = address;
    config.ca_pem = credentials.ca.cert_pem;
    auto api = util::value_or_throw(fk::ApiServer::create(config));
    if (args.count("seed") != 0) {
        for (const auto& path : args["seed"].as<std::vector<std::string>>()) {
            auto objects = util::value_or_throw(fk::read_seed_file(path));
            for (size_t i = 0; i < objects.size(); ++i) {
                util::value_or_throw(
                    api->load_seed(std::move(objects[i]), path + ": object " + std::to_string(i + 1)));
            }
        }
    }

    transport.serving = credentials.serving;
    transport.ca_pem = credentials.ca.cert_pem;
    util::value_or_throw(server->serve(*api, std::move(transport), [&address] {
        std::cout << "listening on https://" << address << std::endl;
    }));
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const util::Fatal& error) {
        std::cerr << "fakekube: error: " << error.what() << std::endl;
        return error.exit_code();
    } catch (const std::exception& error) {
        // A bug, not a user error; still say what happened instead of aborting.
        std::cerr << "fakekube: internal error: " << error.what() << std::endl;
        return 2;
    }
}
