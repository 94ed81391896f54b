// export and list, judged by kubectl's view and openssl's reading of the same certificates.

#include "harness.hpp"
#include "kube/pki.hpp"
#include "util/base64.hpp"
#include "yaml/yaml.hpp"

#include <arpa/inet.h>
#include <boost/test/unit_test.hpp>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace fs = std::filesystem;
using meshlink::test::Workspace;
using nlohmann::json;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// openssl's notAfter of a PEM certificate, as RFC 3339 UTC.
std::string openssl_not_after(const Workspace& ws, const std::string& pem) {
    const fs::path file = ws.path("cert-for-openssl.pem");
    meshlink::test::write_file(file, pem);
    auto end =
        ws.run({"openssl", "x509", "-noout", "-enddate", "-dateopt", "iso_8601", "-in", file.string()});
    BOOST_TEST_REQUIRE(end.code == 0, end.err);
    // "notAfter=2025-01-02 03:04:05Z"
    std::string text = end.out.substr(end.out.find('=') + 1);
    text = text.substr(0, text.find_first_of("\r\n"));
    text[10] = 'T';
    return text;
}

// A free TCP port on 127.0.0.1 (bound and released: nothing listens on it afterwards).
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

bool accepts(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
}

} // namespace

BOOST_AUTO_TEST_SUITE(kubeconfig_export_list)

BOOST_AUTO_TEST_CASE(list_check_contacts_servers_without_credentials) {
    Workspace ws;
    // A real TLS server (openssl s_server) with a certificate for 127.0.0.1 from the test CA.
    meshlink::kube::pki::CertificateSpec spec;
    spec.common_name = "kube-apiserver";
    spec.ip_addresses = {"127.0.0.1"};
    spec.ext_key_usage = {meshlink::kube::pki::ExtKeyUsage::server_auth};
    const meshlink::kube::pki::KeyPair ca{ws.cert_pem("ca"), ws.cert_pem("ca-key")};
    auto server = meshlink::kube::pki::generate_signed(spec, ca);
    BOOST_TEST_REQUIRE(server.has_value());
    meshlink::test::write_file(ws.path("server.crt"), server->cert_pem);
    meshlink::test::write_file(ws.path("server.key"), server->key_pem);
    const int up = free_port();
    const int down = free_port();
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept",
                 ("127.0.0.1:" + std::to_string(up)).c_str(), "-cert", ws.path("server.crt").c_str(), "-key",
                 ws.path("server.key").c_str(), nullptr);
        ::_exit(127);
    }
    for (int i = 0; i < 200 && !accepts(up); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50)); // readiness only, nothing is timed
    }
    BOOST_TEST_REQUIRE(accepts(up), "openssl s_server did not start");

    // The exec plugin would leave a marker: --check must not run it.
    const fs::path marker = ws.path("exec-ran");
    meshlink::test::write_file(ws.path("plugin.sh"), "#!/bin/sh\ntouch " + marker.string() + "\nexit 1\n");
    ::chmod(ws.path("plugin.sh").c_str(), 0755);
    const std::string ca_data = meshlink::util::base64_encode(ws.cert_pem("ca"));
    const fs::path config = ws.path("check-config");
    meshlink::test::write_file(
        config,
        "apiVersion: v1\nkind: Config\nclusters:\n"
        "- name: up\n  cluster:\n    server: https://127.0.0.1:" +
            std::to_string(up) + "\n    certificate-authority-data: " + ca_data +
            "\n- name: down\n  cluster:\n    server: https://127.0.0.1:" + std::to_string(down) +
            "\n    certificate-authority-data: " + ca_data +
            "\nusers:\n- name: exec\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
            "      interactiveMode: Never\n      command: " +
            ws.path("plugin.sh").string() +
            "\ncontexts:\n- name: up\n  context: {cluster: up, user: exec}\n"
            "- name: down\n  context: {cluster: down, user: exec}\n");
    auto checked =
        ws.meshlink({"--kubeconfig", config.string(), "kubeconfig", "list", "--check", "-o", "json"});
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    BOOST_TEST(checked.code == 1, checked.err); // one server does not answer
    const json list = json::parse(checked.out);
    BOOST_TEST_REQUIRE(list.size() == 2U);
    for (const auto& item : list) {
        if (item["name"] == "up") {
            BOOST_TEST(item["check"]["reachable"] == true, item.dump());
        } else {
            BOOST_TEST(item["check"]["reachable"] == false, item.dump());
        }
    }
    BOOST_TEST(!fs::exists(marker), "--check ran the exec plugin");
}

BOOST_AUTO_TEST_CASE(export_is_self_contained_and_warns_when_it_will_not_travel) {
    Workspace ws;
    struct Case {
        std::string fixture;
        std::string context;
        bool flatten;
        std::vector<std::string> warnings;
    };
    const std::vector<Case> cases{
        {"kubeadm-cluster01.yaml", "kubernetes-admin@cluster.local", false, {}},
        {"kind.yaml", "kind-kind", false, {"is loopback"}},
        {"eks-exec-v1beta1.yaml", "arn:aws:eks:eu-west-1:123456789012:cluster/prod-eu", false, {"runs aws"}},
        {"gke-exec.yaml",
         "gke_demo-project-123456_europe-west1-b_mesh-a",
         false,
         {"runs gke-gcloud-auth-plugin"}},
        {"tokenfile/config", "prometheus@in-cluster-copy", true, {"reads its token from"}},
        {"relative-paths/config", "minikube", true, {}},
        {"relative-paths/config", "minikube", false, {"use --flatten"}},
        {"extensions-preferences.yaml", "oidc", false, {"auth-provider"}},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.fixture << " " << c.context << (c.flatten ? " --flatten" : "")) {
            std::vector<std::string> args{"--kubeconfig", ws.fixture(c.fixture).string(), "kubeconfig",
                                          "export", c.context};
            if (c.flatten) {
                args.push_back("--flatten");
            }
            auto exported = ws.meshlink(args);
            BOOST_TEST_REQUIRE(exported.code == 0, exported.err);
            for (const auto& warning : c.warnings) {
                BOOST_TEST(contains(exported.err, warning), exported.err);
            }
            if (c.warnings.empty()) {
                BOOST_TEST(exported.err.empty(), exported.err);
            }
            // Moved elsewhere, it reads like kubectl's minified view of the original.
            const fs::path out = ws.path("exported");
            meshlink::test::write_file(out, exported.out);
            const json theirs =
                meshlink::test::by_name(ws.kubectl_view({ws.fixture(c.fixture)}, true, c.context));
            const json ours = meshlink::test::by_name(ws.kubectl_view({out}));
            BOOST_TEST(ours["clusters"] == theirs["clusters"]);
            BOOST_TEST(ours["contexts"] == theirs["contexts"]);
            BOOST_TEST(ours["current-context"] == c.context);
            if (!c.fixture.starts_with("tokenfile")) {
                BOOST_TEST(ours["users"] == theirs["users"]);
            } else {
                BOOST_TEST(ours["users"]["prometheus"]["user"]["tokenFile"] ==
                           ws.fixture("tokenfile/token").string());
            }
        }
    }
    auto missing =
        ws.meshlink({"--kubeconfig", ws.fixture("kind.yaml").string(), "kubeconfig", "export", "nope"});
    BOOST_TEST(missing.code == 2);
    BOOST_TEST(contains(missing.err, "context \"nope\" not found in kubeconfig (contexts: kind-kind)"),
               missing.err);
}

BOOST_AUTO_TEST_CASE(list_reports_what_kubectl_and_openssl_see) {
    Workspace ws;
    std::string chain;
    std::vector<fs::path> files;
    for (const char* name :
         {"kubeadm-cluster01.yaml", "kind.yaml", "eks-exec-v1beta1.yaml", "token.yaml", "tokenfile/config",
          "proxy-tls.yaml", "relative-paths/config", "aks-kubelogin.yaml"}) {
        files.push_back(ws.fixture(name));
        chain += (chain.empty() ? "" : ":") + ws.fixture(name).string();
    }
    auto listed = ws.meshlink({"kubeconfig", "list", "-o", "json"}, {"KUBECONFIG=" + chain});
    BOOST_TEST_REQUIRE(listed.code == 0, listed.err);
    const json list = json::parse(listed.out);
    const json view = meshlink::test::by_name(ws.kubectl_view(files));
    BOOST_TEST(list.size() == view["contexts"].size());
    for (const auto& item : list) {
        const std::string name = item["name"];
        BOOST_TEST_CONTEXT(name) {
            const json& context = view["contexts"][name]["context"];
            BOOST_TEST(item["cluster"] == context["cluster"]);
            BOOST_TEST(item["user"] == context.value("user", ""));
            BOOST_TEST(item["namespace"] == context.value("namespace", ""));
            BOOST_TEST(item["server"] ==
                       view["clusters"][context["cluster"].get<std::string>()]["cluster"]["server"]);
            BOOST_TEST(item["current"] == (name == view["current-context"]));
        }
    }
    auto find = [&](const std::string& name) {
        for (const auto& item : list) {
            if (item["name"] == name) {
                return item;
            }
        }
        BOOST_FAIL("no context " << name);
        return json();
    };
    const std::string ca_not_after = openssl_not_after(ws, ws.cert_pem("ca"));
    const std::string client_not_after = openssl_not_after(ws, ws.cert_pem("client"));
    const json kubeadm = find("kubernetes-admin@cluster.local");
    BOOST_TEST(kubeadm["auth"] == "client-cert");
    BOOST_TEST(kubeadm["portable"] == true);
    BOOST_TEST(kubeadm["serverClass"] == "private");
    BOOST_TEST(kubeadm["certificateAuthority"]["notAfter"] == ca_not_after);
    BOOST_TEST(kubeadm["clientCertificate"]["notAfter"] == client_not_after);
    BOOST_TEST(kubeadm["clientCertificate"]["expiringSoon"] == true); // the test certificate lives 20 days
    BOOST_TEST(kubeadm["certificateAuthority"]["expiringSoon"] == false);
    BOOST_TEST(find("kind-kind")["serverClass"] == "loopback");
    const json eks = find("arn:aws:eks:eu-west-1:123456789012:cluster/prod-eu");
    BOOST_TEST(eks["auth"] == "exec:aws");
    BOOST_TEST(eks["portable"] == false);
    BOOST_TEST(eks["serverClass"] == "dns-name");
    BOOST_TEST(find("ci@staging")["auth"] == "token");
    BOOST_TEST(find("prometheus@in-cluster-copy")["auth"] == "token-file");
    BOOST_TEST(find("prometheus@in-cluster-copy")["certificateAuthority"]["notAfter"] == ca_not_after);
    BOOST_TEST(find("lab")["auth"] == "basic");
    BOOST_TEST(find("minikube")["clientCertificate"]["notAfter"] == client_not_after);
    BOOST_TEST(find("minikube-m02")["auth"] == "exec:cred-helper");
    BOOST_TEST(find("mesh-b")["auth"] == "exec:kubelogin");

    // The table names the same contexts.
    auto table = ws.meshlink({"kubeconfig", "list"}, {"KUBECONFIG=" + chain});
    BOOST_TEST_REQUIRE(table.code == 0, table.err);
    for (const auto& item : list) {
        BOOST_TEST(contains(table.out, item["name"].get<std::string>()));
    }
    BOOST_TEST(contains(table.out, "CLIENT-CERT"));
}

BOOST_AUTO_TEST_SUITE_END()
