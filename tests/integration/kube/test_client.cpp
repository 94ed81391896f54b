// The REST client against a real fakekube: errors, CRUD, patches, lists, retries, TLS, logging.

#include "tests/integration/kube/common.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>

#include <regex>
#include <sstream>
#include <thread>

using namespace meshlink;
using namespace meshlink::test;
using nlohmann::json;

BOOST_TEST_DONT_PRINT_LOG_VALUE(meshlink::util::ErrorKind)

namespace {

util::Error error_of(const util::Result<json>& result) {
    BOOST_TEST_REQUIRE(!result.has_value(), "expected an error, got " << (result ? result->dump() : ""));
    return result.error();
}

json node_port_service(const std::string& name, int node_port) {
    return {{"apiVersion", "v1"},
            {"kind", "Service"},
            {"metadata", {{"name", name}}},
            {"spec",
             {{"type", "NodePort"},
              {"selector", {{"app", name}}},
              {"ports", json::array({{{"port", 80}, {"targetPort", 8080}, {"nodePort", node_port}}})}}}};
}

// A free loopback port: bound, read back, released. The caller starts its server on it right away.
int free_port() {
    util::Fd socket_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    BOOST_TEST_REQUIRE(::bind(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    BOOST_TEST_REQUIRE(::getsockname(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
    return ntohs(address.sin_port);
}

bool accepts_connections(int port) {
    util::Fd socket_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::connect(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

// A real HTTP CONNECT proxy (Debian's tinyproxy) on loopback, logging the tunnels it opens.
struct TinyProxy {
    TempDirectory dir;
    int port = free_port();
    std::filesystem::path log = dir.path() / "tinyproxy.log";
    util::ChildProcess child;

    // `basic_auth`: "user password" the proxy demands (tinyproxy's BasicAuth), "" for none.
    explicit TinyProxy(const std::string& basic_auth = "") {
        const auto conf =
            dir.write("tinyproxy.conf", "Port " + std::to_string(port) +
                                            "\nListen 127.0.0.1\nTimeout 60\nMaxClients 20\n"
                                            "LogLevel Connect\nLogFile \"" +
                                            log.string() + "\"\n" +
                                            (basic_auth.empty() ? "" : "BasicAuth " + basic_auth + "\n"));
        std::vector<std::string> args = {"tinyproxy", "-d", "-c", conf.string()};
        std::vector<char*> argv;
        for (auto& arg : args) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);
        auto env = environment_with({});
        std::vector<char*> envp;
        for (auto& entry : env) {
            envp.push_back(entry.data());
        }
        envp.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        pid_t pid = -1;
        const int rc = ::posix_spawnp(&pid, "tinyproxy", &actions, nullptr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        BOOST_TEST_REQUIRE(rc == 0, "cannot start tinyproxy");
        child = util::ChildProcess(pid);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (!accepts_connections(port)) {
            BOOST_TEST_REQUIRE((std::chrono::steady_clock::now() < deadline),
                               "tinyproxy did not start listening");
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    [[nodiscard]] std::string log_text() const {
        std::ifstream in(log);
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }
};

boost::test_tools::assertion_result tinyproxy_available(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result result(util::find_executable("tinyproxy").has_value());
    result.message() << "tinyproxy is not installed (scripts/install-deps installs it)";
    return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(client)

BOOST_AUTO_TEST_CASE(proxy_url_tunnels_through_a_real_http_proxy,
                     *boost::unit_test::precondition(&tinyproxy_available)) {
    auto server = start_fakekube("proxied");
    TinyProxy proxy;
    auto config = server.rest_config();
    BOOST_TEST_REQUIRE(config.has_value(), error_message(config));
    config->proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port);
    auto client = client_for(*config);
    auto version = client.server_version();
    BOOST_TEST_REQUIRE(version.has_value(), error_message(version));
    // The proxy opened the tunnel to fakekube: the request really went through it.
    BOOST_TEST(contains(proxy.log_text(), "CONNECT 127.0.0.1:" + std::to_string(server.port())),
               proxy.log_text());

    // A proxy that is not there is named in the error.
    config->proxy_url = "http://127.0.0.1:" + std::to_string(free_port());
    auto unreachable = client_for(*config).server_version();
    BOOST_TEST_REQUIRE(!unreachable.has_value());
    BOOST_TEST(contains(unreachable.error().message, "proxy " + config->proxy_url),
               unreachable.error().message);
}

BOOST_AUTO_TEST_CASE(proxy_url_credentials_are_used_and_never_shown,
                     *boost::unit_test::precondition(&tinyproxy_available)) {
    const std::string password = "proxy-pass-0123456789";
    auto server = start_fakekube("proxied-auth");
    TinyProxy proxy("meshuser " + password);
    auto config = server.rest_config();
    BOOST_TEST_REQUIRE(config.has_value(), error_message(config));
    config->proxy_url = "http://meshuser:" + password + "@127.0.0.1:" + std::to_string(proxy.port);
    {
        // The proxy demands the credentials and gets them; the -v 9 log shows neither.
        LogCapture log(9);
        auto version = client_for(*config).server_version();
        BOOST_TEST_REQUIRE(version.has_value(), error_message(version));
        BOOST_TEST(!contains(log.text(), password), log.text());
    }
    // Wrong credentials: refused by the proxy, and the error names the proxy without them.
    config->proxy_url = "http://meshuser:wrong-" + password + "@127.0.0.1:" + std::to_string(proxy.port);
    auto refused = client_for(*config).server_version();
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(!contains(refused.error().message, password), refused.error().message);
    // No proxy there: the message names it as http://<redacted>@host:port.
    const std::string gone = "127.0.0.1:" + std::to_string(free_port());
    config->proxy_url = "http://meshuser:" + password + "@" + gone;
    {
        LogCapture log(9);
        auto unreachable = client_for(*config).server_version();
        BOOST_TEST_REQUIRE(!unreachable.has_value());
        BOOST_TEST(contains(unreachable.error().message, "proxy http://<redacted>@" + gone),
                   unreachable.error().message);
        BOOST_TEST(!contains(unreachable.error().message, password));
        BOOST_TEST(!contains(log.text(), password), log.text());
    }
    // A proxy setting libcurl cannot use is quoted by libcurl itself: still without the password.
    config->proxy_url = "http://meshuser:" + password + "@[127.0.0.1:3128";
    auto unusable = client_for(*config).server_version();
    BOOST_TEST_REQUIRE(!unusable.has_value());
    BOOST_TEST(!contains(unusable.error().message, password), unusable.error().message);
}

BOOST_AUTO_TEST_CASE(a_response_past_the_size_limit_fails_clearly_and_a_large_real_list_passes) {
    auto server = start_fakekube("large");
    auto config = server.rest_config();
    BOOST_TEST_REQUIRE(config.has_value(), error_message(config));
    // The default leaves room for the largest lists real clusters answer.
    BOOST_TEST(config->max_response_bytes >= std::size_t{256} << 20U);
    auto admin = client_for(*config);
    create_namespace(admin, "big");
    // 40 ConfigMaps of 100 KB: a 4 MB list, answered in one response.
    const std::string path = kube::api_path("", "v1", "configmaps", "big");
    for (int i = 0; i < 40; ++i) {
        json map = {{"apiVersion", "v1"},
                    {"kind", "ConfigMap"},
                    {"metadata", {{"name", "m" + std::to_string(i)}, {"labels", {{"test", "big"}}}}},
                    {"data", {{"blob", std::string(100000, 'x')}}}};
        BOOST_TEST_REQUIRE(admin.create(path, map).has_value());
    }
    kube::ListOptions one_page;
    one_page.page_size = 0;
    one_page.label_selector = "test=big"; // not the namespace's own kube-root-ca.crt
    auto listed = admin.list(path, one_page);
    BOOST_TEST_REQUIRE(listed.has_value(), error_message(listed));
    BOOST_TEST(listed->at("items").size() == 40U);

    // A server that answers more than the limit (here lowered to 1 MiB) is cut off, with an error that
    // names the request and the limit, and the request is not repeated.
    config->max_response_bytes = std::size_t{1} << 20U;
    auto limited = client_for(*config);
    auto refused = limited.list(path, one_page);
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(contains(refused.error().message, "GET " + server.url() + "/api/v1/namespaces/big/configmaps"),
               refused.error().message);
    BOOST_TEST(
        contains(refused.error().message, "is larger than 1 MiB, the most meshlink reads in one response"),
        refused.error().message);
    // A small answer still passes through the same client.
    BOOST_TEST(limited.server_version().has_value());
}

BOOST_AUTO_TEST_CASE(errors_read_exactly_as_documented) {
    auto server = start_fakekube("errors");
    auto client = admin_client(server);
    create_namespace(client, "it");

    // 404 NotFound
    auto missing = error_of(client.get("/api/v1/namespaces/kube-system/secrets/cilium-ca"));
    BOOST_TEST(missing.kind == util::ErrorKind::not_found);
    BOOST_TEST(missing.http_status == 404);
    BOOST_TEST(missing.message == "GET /api/v1/namespaces/kube-system/secrets/cilium-ca: 404 NotFound: "
                                  "secrets \"cilium-ca\" not found");

    // 409 AlreadyExists
    const std::string collection = kube::api_path("", "v1", "configmaps", "it");
    BOOST_TEST_REQUIRE(client.create(collection, config_map("x", "1")).has_value());
    auto exists = error_of(client.create(collection, config_map("x", "2")));
    BOOST_TEST(exists.kind == util::ErrorKind::already_exists);
    BOOST_TEST(exists.message ==
               "POST /api/v1/namespaces/it/configmaps: 409 AlreadyExists: configmaps \"x\" already exists");

    // 409 Conflict: an update carrying a stale resourceVersion.
    auto current = client.get(collection + "/x");
    BOOST_TEST_REQUIRE(current.has_value());
    json stale = *current;
    json fresh = *current;
    fresh["data"]["value"] = "fresh";
    BOOST_TEST_REQUIRE(client.update(collection + "/x", fresh).has_value());
    stale["data"]["value"] = "stale";
    auto conflict = error_of(client.update(collection + "/x", stale));
    BOOST_TEST(conflict.kind == util::ErrorKind::conflict);
    BOOST_TEST(
        conflict.message ==
        "PUT /api/v1/namespaces/it/configmaps/x: 409 Conflict: Operation cannot be fulfilled on configmaps "
        "\"x\": the object has been modified; please apply your changes to the latest version and try again");

    // 422 Invalid: a nodePort that is already allocated.
    const std::string services = kube::api_path("", "v1", "services", "it");
    BOOST_TEST_REQUIRE(client.create(services, node_port_service("a", 30080)).has_value());
    auto invalid = error_of(client.create(services, node_port_service("b", 30080)));
    BOOST_TEST(invalid.kind == util::ErrorKind::invalid);
    BOOST_TEST(invalid.http_status == 422);
    BOOST_TEST(invalid.message.starts_with(
        "POST /api/v1/namespaces/it/services: 422 Invalid: Service \"b\" is invalid: spec.ports[0].nodePort: "
        "Invalid value: 30080: provided port is already allocated"));

    // Our writes are strict: a misspelt field fails instead of being dropped.
    json typo = config_map("typo", "1");
    typo["dta"] = {{"k", "v"}};
    auto strict = error_of(client.create(collection, typo));
    BOOST_TEST(strict.kind == util::ErrorKind::bad_request);
    BOOST_TEST(contains(strict.message, "POST /api/v1/namespaces/it/configmaps: 400 BadRequest: "));
    BOOST_TEST(contains(strict.message, "unknown field \"dta\""));
}

BOOST_AUTO_TEST_CASE(create_get_update_patch_delete) {
    auto server = start_fakekube("crud");
    auto client = admin_client(server);
    create_namespace(client, "it");
    const std::string collection = kube::api_path("", "v1", "configmaps", "it");
    const std::string path = collection + "/cm";

    // Dry run: the answer looks created, nothing is stored.
    kube::WriteOptions dry;
    dry.dry_run = true;
    auto dry_created = client.create(collection, config_map("cm", "dry"), dry);
    BOOST_TEST_REQUIRE(dry_created.has_value(), error_message(dry_created));
    BOOST_TEST((*dry_created)["data"]["value"] == "dry");
    BOOST_TEST(client.get(path).error().kind == util::ErrorKind::not_found);

    auto created = client.create(collection, config_map("cm", "1", {{"tier", "a"}}));
    BOOST_TEST_REQUIRE(created.has_value(), error_message(created));
    BOOST_TEST(!(*created)["metadata"]["uid"].get<std::string>().empty());

    json object = *created;
    object["data"]["value"] = "2";
    auto updated = client.update(path, object);
    BOOST_TEST_REQUIRE(updated.has_value(), error_message(updated));
    BOOST_TEST((*updated)["data"]["value"] == "2");

    auto merged = client.patch(path, kube::PatchType::merge, {{"data", {{"merge", "yes"}}}});
    BOOST_TEST_REQUIRE(merged.has_value(), error_message(merged));
    BOOST_TEST((*merged)["data"]["merge"] == "yes");
    BOOST_TEST((*merged)["data"]["value"] == "2");

    auto json_patched =
        client.patch(path, kube::PatchType::json,
                     json::array({{{"op", "replace"}, {"path", "/data/value"}, {"value", "3"}},
                                  {{"op", "remove"}, {"path", "/data/merge"}}}));
    BOOST_TEST_REQUIRE(json_patched.has_value(), error_message(json_patched));
    BOOST_TEST((*json_patched)["data"]["value"] == "3");
    BOOST_TEST(!(*json_patched)["data"].contains("merge"));

    auto strategic =
        client.patch(path, kube::PatchType::strategic, {{"metadata", {{"labels", {{"tier", "b"}}}}}});
    BOOST_TEST_REQUIRE(strategic.has_value(), error_message(strategic));
    BOOST_TEST((*strategic)["metadata"]["labels"]["tier"] == "b");

    auto got = client.get(path);
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST((*got)["data"]["value"] == "3");
    auto metadata = client.get(path, {.metadata_only = true});
    BOOST_TEST_REQUIRE(metadata.has_value(), error_message(metadata));
    BOOST_TEST(!metadata->contains("data"));
    BOOST_TEST((*metadata)["metadata"]["name"] == "cm");

    kube::DeleteOptions dry_delete;
    dry_delete.dry_run = true;
    BOOST_TEST_REQUIRE(client.remove(path, dry_delete).has_value());
    BOOST_TEST(client.get(path).has_value());
    auto removed = client.remove(path);
    BOOST_TEST_REQUIRE(removed.has_value(), error_message(removed));
    BOOST_TEST(client.get(path).error().kind == util::ErrorKind::not_found);
    BOOST_TEST(client.remove(path).error().kind == util::ErrorKind::not_found);
}

// A name read from a cluster (a journal entry, an annotation) cannot climb to another object: every segment
// api_path builds is escaped, and the client refuses any path whose segments the server would decode to ".",
// "..", or a name holding "/" or "%", before anything is sent.
BOOST_AUTO_TEST_CASE(names_never_climb_out_of_their_path_segment) {
    auto server = start_fakekube("paths");
    auto client = admin_client(server);
    create_namespace(client, "it");
    const std::string victim = kube::api_path("", "v1", "configmaps", "default", "victim");
    BOOST_TEST_REQUIRE(
        client.create(kube::api_path("", "v1", "configmaps", "default"), config_map("victim", "1"))
            .has_value());

    const std::string hostile = "../../default/configmaps/victim";
    const std::string escaped = kube::api_path("", "v1", "configmaps", "it", hostile);
    BOOST_TEST(escaped == "/api/v1/namespaces/it/configmaps/..%2F..%2Fdefault%2Fconfigmaps%2Fvictim");
    for (const std::string& path :
         {escaped, std::string("/api/v1/namespaces/it/configmaps/../../default/configmaps/victim"),
          kube::api_path("", "v1", "configmaps", "it", ".."),
          kube::api_path("", "v1", "configmaps", "it", "a%2Fb"),
          std::string("/api/v1/namespaces/it/configmaps/%2E%2E")}) {
        auto removed = client.remove(path);
        BOOST_TEST_REQUIRE(!removed.has_value(), path);
        BOOST_TEST((removed.error().kind == util::ErrorKind::invalid), path);
        BOOST_TEST(removed.error().message.find("is not a valid name in a path") != std::string::npos,
                   removed.error().message);
    }
    BOOST_TEST(client.get(victim).has_value());

    // Names the server accepts stay as they are ("system:node"), and a literal dot inside a name is fine.
    BOOST_TEST(kube::api_path("rbac.authorization.k8s.io", "v1", "clusterroles", "", "system:node") ==
               "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:node");
    BOOST_TEST(kube::check_path("/api/v1/namespaces/it/configmaps/a.b..c").has_value());
    BOOST_TEST(client.get(kube::api_path("", "v1", "configmaps", "it", "a.b")).error().kind ==
               util::ErrorKind::not_found);
}

BOOST_AUTO_TEST_CASE(lists_page_filter_and_stream) {
    auto server = start_fakekube("lists");
    auto client = admin_client(server);
    create_namespace(client, "it");
    const std::string collection = kube::api_path("", "v1", "configmaps", "it");
    for (int i = 0; i < 7; ++i) {
        auto created =
            client.create(collection, config_map("cm-" + std::to_string(i), std::to_string(i),
                                                 {{"tier", i % 2 == 0 ? "even" : "odd"}, {"app", "it"}}));
        BOOST_TEST_REQUIRE(created.has_value(), error_message(created));
    }
    // Namespaces may come with their own configmaps (kube-root-ca.crt); select ours by label.
    kube::ListOptions paged;
    paged.label_selector = "app=it";
    paged.page_size = 2;
    LogCapture log(6);
    auto all = client.list(collection, paged);
    BOOST_TEST_REQUIRE(all.has_value(), error_message(all));
    BOOST_TEST((*all)["items"].size() == 7U);
    BOOST_TEST(!(*all)["metadata"].contains("continue"));
    // 7 items in pages of 2: four requests, the later ones carrying a continue token.
    BOOST_TEST(log.count("GET " + server.url() + collection + "?labelSelector=app%3Dit&limit=2") == 4);
    BOOST_TEST(log.count("&continue=") == 3);

    kube::ListOptions in_set;
    in_set.label_selector = "tier in (odd),app=it";
    auto odd = client.list(collection, in_set);
    BOOST_TEST_REQUIRE(odd.has_value(), error_message(odd));
    BOOST_TEST((*odd)["items"].size() == 3U);

    kube::ListOptions by_name;
    by_name.field_selector = "metadata.name=cm-4";
    auto one = client.list(collection, by_name);
    BOOST_TEST_REQUIRE(one.has_value(), error_message(one));
    BOOST_TEST_REQUIRE((*one)["items"].size() == 1U);
    BOOST_TEST((*one)["items"][0]["data"]["value"] == "4");

    kube::ListOptions metadata;
    metadata.label_selector = "app=it";
    metadata.metadata_only = true;
    auto partial = client.list(collection, metadata);
    BOOST_TEST_REQUIRE(partial.has_value(), error_message(partial));
    BOOST_TEST((*partial)["items"].size() == 7U);
    for (const auto& item : (*partial)["items"]) {
        BOOST_TEST(!item.contains("data"));
        BOOST_TEST(item["metadata"].contains("name"));
    }

    std::vector<std::string> seen;
    auto streamed = client.list_each(collection, paged, [&](const json& item) {
        seen.push_back(item["metadata"]["name"]);
        return seen.size() == 3 ? kube::Visit::stop : kube::Visit::next;
    });
    BOOST_TEST_REQUIRE(streamed.has_value(), error_message(streamed));
    BOOST_TEST(seen.size() == 3U);
}

BOOST_AUTO_TEST_CASE(connections_are_reused) {
    auto server = start_fakekube("reuse");
    auto client = admin_client(server);
    int reused = 0;
    long version = 0;
    for (int i = 0; i < 5; ++i) {
        auto response = client.send(request_for("/version"));
        BOOST_TEST_REQUIRE(response.has_value(), error_message(response));
        BOOST_TEST(response->status == 200);
        reused += response->reused_connection ? 1 : 0;
        version = response->http_version;
    }
    BOOST_TEST(reused == 4); // one connection for all five requests
    BOOST_TEST_MESSAGE("fakekube answered over HTTP/" << version);
}

BOOST_AUTO_TEST_CASE(idempotent_requests_survive_injected_faults) {
    TempDirectory dir;
    std::string seed = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: seeded\n";
    for (int i = 0; i < 10; ++i) {
        seed += "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-" + std::to_string(i) +
                "\n  namespace: seeded\ndata:\n  value: \"" + std::to_string(i) + "\"\n";
    }
    FakekubeOptions options("faults");
    options.seeds = {dir.write("seed.yaml", seed)};
    options.faults = "rate=0.3,status=500|503|429";
    auto server = start_fakekube(options);
    auto client = admin_client(server);
    LogCapture log(4);
    const std::string collection = kube::api_path("", "v1", "configmaps", "seeded");
    kube::ListOptions paged;
    paged.page_size = 3;
    for (int i = 0; i < 10; ++i) {
        const std::string path = collection + "/cm-" + std::to_string(i);
        auto version = client.server_version();
        BOOST_TEST_REQUIRE(version.has_value(), error_message(version));
        auto list = client.list(collection, paged);
        BOOST_TEST_REQUIRE(list.has_value(), error_message(list));
        auto object = client.get(path);
        BOOST_TEST_REQUIRE(object.has_value(), error_message(object));
        (*object)["data"]["value"] = "updated";
        (*object)["metadata"].erase("resourceVersion"); // unconditional: a retried PUT must not conflict
        auto updated = client.update(path, *object);
        BOOST_TEST_REQUIRE(updated.has_value(), error_message(updated));
        BOOST_TEST((*updated)["data"]["value"] == "updated");
        auto removed = client.remove(path);
        BOOST_TEST_REQUIRE(removed.has_value(), error_message(removed));
    }
    // Faults really happened and were retried.
    BOOST_TEST(log.count("retrying in") > 0);
    BOOST_TEST_MESSAGE(log.count("retrying in") << " retries");
}

BOOST_AUTO_TEST_CASE(reads_survive_connection_resets) {
    FakekubeOptions options("resets");
    options.faults = "rate=0.15,reset=0.15"; // 30% of requests fail, half of them by a reset
    auto server = start_fakekube(options);
    auto client = admin_client(server);
    LogCapture log(4);
    for (int i = 0; i < 30; ++i) {
        auto version = client.server_version();
        BOOST_TEST_REQUIRE(version.has_value(), error_message(version));
        auto namespaces = client.list("/api/v1/namespaces");
        BOOST_TEST_REQUIRE(namespaces.has_value(), error_message(namespaces));
    }
    // Status faults reach our retry loop; a reset of a kept-alive connection is often re-sent by libcurl
    // itself before any response byte, so only the outcome is asserted for those.
    BOOST_TEST(log.count("retrying in") > 0);
}

BOOST_AUTO_TEST_CASE(a_wrong_ca_fails_with_a_clear_tls_error_naming_the_server) {
    auto server = start_fakekube("target");
    auto other = start_fakekube("other");
    auto other_ca = other.ca_pem();
    BOOST_TEST_REQUIRE(other_ca.has_value());
    auto config = server.rest_config();
    BOOST_TEST_REQUIRE(config.has_value());
    config->ca_pem = *other_ca;
    config->ca_origin = "certificate-authority-data";
    auto client = client_for(*config);
    auto version = client.server_version();
    BOOST_TEST_REQUIRE(!version.has_value());
    BOOST_TEST(version.error().kind == util::ErrorKind::tls);
    const std::string expected_start = "GET " + server.url() +
                                       "/version: TLS certificate verification failed for server " +
                                       server.url() + " (context \"target\"): ";
    BOOST_TEST(version.error().message.starts_with(expected_start), version.error().message);
    BOOST_TEST(contains(version.error().message, "certificate"));
}

BOOST_AUTO_TEST_CASE(tls_server_name_is_the_name_verified) {
    auto server = start_fakekube("sni");
    auto config = server.rest_config();
    BOOST_TEST_REQUIRE(config.has_value());
    // The serving certificate names 127.0.0.1 and localhost.
    config->tls_server_name = "localhost";
    auto good = client_for(*config).server_version();
    BOOST_TEST(good.has_value(), error_message(good));

    config->tls_server_name = "wrong.example";
    auto bad = client_for(*config).server_version();
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().kind == util::ErrorKind::tls);
    BOOST_TEST(contains(bad.error().message, "wrong.example"));
    // Messages keep naming the real server, not the TLS name.
    BOOST_TEST(bad.error().message.starts_with("GET " + server.url() + "/version: "));
}

BOOST_AUTO_TEST_CASE(insecure_skip_tls_verify_skips_verification_only_when_asked) {
    auto server = start_fakekube("insecure");
    auto config = server.rest_config();
    BOOST_TEST_REQUIRE(config.has_value());
    config->ca_pem.clear(); // the system trust store does not know fakekube's CA
    auto verified = client_for(*config).server_version();
    BOOST_TEST_REQUIRE(!verified.has_value());
    BOOST_TEST(verified.error().kind == util::ErrorKind::tls);

    config->insecure_skip_tls_verify = true;
    auto skipped = client_for(*config).server_version();
    BOOST_TEST(skipped.has_value(), error_message(skipped));
}

BOOST_AUTO_TEST_CASE(request_log_shows_requests_and_never_credentials_or_secret_data) {
    TempDirectory dir;
    const std::string token = "it-token-0123456789abcdef";
    FakekubeOptions options("logs");
    options.token_file = dir.write("tokens.csv", token + ",alice,1001,\"system:masters\"\n");
    auto server = start_fakekube(options);
    auto client = client_for(load_config(write_kubeconfig(dir, server, "    token: " + token + "\n")));
    create_namespace(client, "it");
    const std::string secret_value = "dG9wLXNlY3JldC12YWx1ZQ=="; // base64("top-secret-value")
    const std::string secrets = kube::api_path("", "v1", "secrets", "it");
    {
        LogCapture log(9);
        json secret = {{"apiVersion", "v1"},
                       {"kind", "Secret"},
                       {"metadata", {{"name", "s"}}},
                       {"data", {{"key", secret_value}}}};
        BOOST_TEST_REQUIRE(client.create(secrets, secret).has_value());
        BOOST_TEST_REQUIRE(client.get(secrets + "/s").has_value());
        BOOST_TEST_REQUIRE(client.list(secrets).has_value());
        BOOST_TEST_REQUIRE(
            client.patch(secrets + "/s", kube::PatchType::merge, {{"data", {{"key", secret_value}}}})
                .has_value());
        const std::string text = log.text();
        BOOST_TEST(!contains(text, token));
        BOOST_TEST(!contains(text, secret_value));
        BOOST_TEST(!contains(text, "top-secret-value"));
        BOOST_TEST(contains(text, "Authorization: Bearer <redacted>"));
        BOOST_TEST(contains(text, "\"key\":\"<redacted>\""));
        // -v 6 line: method, URL, status, latency.
        const std::regex request_line("GET " + server.url() +
                                      "/api/v1/namespaces/it/secrets/s 200 OK in [0-9]+ ms");
        BOOST_TEST(std::regex_search(text, request_line), text);
    }
    {
        LogCapture log(6);
        BOOST_TEST_REQUIRE(client.get(secrets + "/s").has_value());
        BOOST_TEST(log.count(" 200 OK in ") == 1);
        BOOST_TEST(log.count("Authorization") == 0); // headers only from -v 7
    }
}

BOOST_AUTO_TEST_SUITE_END()
