// fakekube on the wire: authentication, Status bodies and headers, watch streams next to other requests,
// metadata-only lists, faults and request statistics, the kubeconfig and the --listen guard.
#include "kube/pki.hpp"
#include "tests/integration/fakekube/https_client.hpp"

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

using namespace meshlink::test;

namespace {

FakekubeProcess start(FakekubeOptions options) {
    auto server = FakekubeProcess::start(std::move(options));
    BOOST_TEST_REQUIRE(server.has_value(), (server ? "" : server.error().message));
    return std::move(*server);
}

json config_map(const std::string& name) {
    return {
        {"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", {{"k", "v"}}}};
}

const std::string k_cms = "/api/v1/namespaces/default/configmaps";

} // namespace

BOOST_AUTO_TEST_SUITE(fakekube_http)

BOOST_AUTO_TEST_CASE(kubeconfig_names_and_certificates) {
    auto server = start(FakekubeOptions("alpha"));
    struct stat info {};
    BOOST_TEST_REQUIRE(::stat(server.kubeconfig().c_str(), &info) == 0);
    BOOST_TEST((info.st_mode & 0777) == 0600U);
    YAML::Node config = YAML::LoadFile(server.kubeconfig().string());
    BOOST_TEST(config["current-context"].as<std::string>() == "alpha");
    BOOST_TEST(config["contexts"][0]["name"].as<std::string>() == "alpha");
    BOOST_TEST(config["clusters"][0]["name"].as<std::string>() == "alpha");
    BOOST_TEST(config["users"][0]["name"].as<std::string>() == "alpha");
    BOOST_TEST(contains(server.output(), "listening on https://127.0.0.1:" + std::to_string(server.port())));

    auto admin = Credentials::admin(server);
    auto info_admin = meshlink::kube::pki::parse_certificate(admin.cert_pem);
    BOOST_TEST_REQUIRE(info_admin.has_value());
    BOOST_TEST(info_admin->subject_cn == "admin");
    BOOST_TEST((info_admin->subject_organizations == std::vector<std::string>{"system:masters"}));
    BOOST_TEST(meshlink::kube::pki::verify_chain(admin.cert_pem, server.ca_pem().value()).has_value());
    // The client verifies the serving certificate against the kubeconfig CA for 127.0.0.1.
    HttpsClient client(server, admin);
    BOOST_TEST(client.request("GET", "/version").status == 200);
    // SIGTERM stops it cleanly (exit 0).
    auto stopped = server.stop();
    BOOST_TEST(stopped.has_value(), (stopped ? "" : stopped.error().message));
}

BOOST_AUTO_TEST_CASE(anonymous_and_unknown_tokens_get_401_status) {
    TempDirectory dir;
    FakekubeOptions options("auth");
    options.token_file =
        dir.write("tokens.csv", "# token,user,uid,groups\nsecret-token,alice,1001,\"dev,ops\"\n");
    auto server = start(options);
    for (auto credentials : {Credentials::none(), Credentials::bearer("wrong")}) {
        auto response = HttpsClient(server, credentials).request("GET", k_cms);
        BOOST_TEST(response.status == 401);
        BOOST_TEST(response.json_body() == json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},
            "status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})"));
    }
    HttpsClient alice(server, Credentials::bearer("secret-token"));
    BOOST_TEST(alice.request("GET", k_cms).status == 200);
    // A client certificate from another CA is not a user either.
    meshlink::kube::pki::CertificateSpec ca_spec;
    ca_spec.common_name = "rogue-ca";
    auto rogue_ca = meshlink::kube::pki::generate_ca(ca_spec).value();
    meshlink::kube::pki::CertificateSpec user_spec;
    user_spec.common_name = "admin";
    user_spec.organizations = {"system:masters"};
    user_spec.ext_key_usage = {meshlink::kube::pki::ExtKeyUsage::client_auth};
    auto rogue = meshlink::kube::pki::generate_signed(user_spec, rogue_ca).value();
    BOOST_TEST(
        HttpsClient(server, Credentials{rogue.cert_pem, rogue.key_pem, ""}).request("GET", k_cms).status ==
        401);
}

BOOST_AUTO_TEST_CASE(rbac_from_seeds_forbids_with_the_real_message) {
    TempDirectory dir;
    FakekubeOptions options("rbac");
    options.token_file = dir.write("tokens.csv", "t-bob,bob,1002\n");
    options.seeds = {dir.write("rbac.yaml", R"(apiVersion: v1
kind: ConfigMap
metadata: {name: fakekube-authorization, namespace: kube-system}
data: {mode: RBAC}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cm-reader}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-reads, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cm-reader}
subjects: [{kind: User, name: bob}]
)")};
    auto server = start(options);
    HttpsClient bob(server, Credentials::bearer("t-bob"));
    BOOST_TEST(bob.request("GET", k_cms).status == 200);
    auto denied = bob.request("GET", "/api/v1/namespaces/kube-system/secrets/cilium-ca");
    BOOST_TEST(denied.status == 403);
    json status = denied.json_body();
    BOOST_TEST(status["reason"] == "Forbidden");
    BOOST_TEST(status["message"] ==
               "secrets \"cilium-ca\" is forbidden: User \"bob\" cannot get resource \"secrets\" in API "
               "group \"\" in the namespace \"kube-system\"");
    BOOST_TEST(status["details"] == json({{"name", "cilium-ca"}, {"kind", "secrets"}}));
    auto create = bob.send("POST", k_cms, config_map("x"));
    BOOST_TEST(create.status == 403);
    BOOST_TEST(create.json_body()["message"] ==
               "configmaps is forbidden: User \"bob\" cannot create resource \"configmaps\" in "
               "API group \"\" in the namespace \"default\"");
    auto review =
        bob.send("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                 json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview",
                                  "spec":{"resourceAttributes":{"namespace":"default","verb":"list","resource":"configmaps"}}})"));
    BOOST_TEST(review.status == 201);
    BOOST_TEST(review.json_body()["status"]["allowed"] == true);
    auto nodes =
        bob.send("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                 json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview",
                                 "spec":{"resourceAttributes":{"verb":"list","resource":"nodes"}}})"));
    BOOST_TEST(nodes.json_body()["status"]["allowed"] == false);
    // The admin (system:masters) is not affected.
    BOOST_TEST(HttpsClient(server, Credentials::admin(server))
                   .request("GET", "/api/v1/namespaces/kube-system/secrets")
                   .status == 200);
}

BOOST_AUTO_TEST_CASE(status_bodies_and_warning_headers) {
    auto server = start(FakekubeOptions("status"));
    HttpsClient client(server, Credentials::admin(server));
    auto created = client.send("POST", k_cms, config_map("c"));
    BOOST_TEST(created.status == 201);
    auto exists = client.send("POST", k_cms, config_map("c"));
    BOOST_TEST(exists.status == 409);
    BOOST_TEST(exists.json_body() ==
               json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
        "message":"configmaps \"c\" already exists","reason":"AlreadyExists","details":{"name":"c","kind":"configmaps"},"code":409})"));
    auto missing = client.request("GET", "/apis/apps/v1/namespaces/default/deployments/none");
    BOOST_TEST(missing.json_body() ==
               json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
        "message":"deployments.apps \"none\" not found","reason":"NotFound",
        "details":{"name":"none","group":"apps","kind":"deployments"},"code":404})"));

    json typo = config_map("typo");
    typo["metadata"]["lables"] = json{{"a", "b"}};
    auto warned = client.send("POST", k_cms, typo);
    BOOST_TEST(warned.status == 201);
    BOOST_TEST(warned.header("warning") == "299 - \"unknown field \\\"metadata.lables\\\"\"");
    auto strict = client.send("POST", k_cms + "?fieldValidation=Strict", typo);
    BOOST_TEST(strict.status == 400);
    BOOST_TEST(strict.json_body()["reason"] == "BadRequest");

    json invalid = {{"apiVersion", "v1"},
                    {"kind", "Service"},
                    {"metadata", {{"name", "s"}}},
                    {"spec", {{"type", "Weird"}, {"ports", {{{"port", 80}}}}}}};
    auto unprocessable = client.send("POST", "/api/v1/namespaces/default/services", invalid);
    BOOST_TEST(unprocessable.status == 422);
    json status = unprocessable.json_body();
    BOOST_TEST(status["reason"] == "Invalid");
    BOOST_TEST(status["details"]["causes"][0] ==
               json::parse(R"({"reason":"FieldValueNotSupported","field":"spec.type",
        "message":"Unsupported value: \"Weird\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""})"));

    // DELETE answers a Status for ConfigMaps, the object for Pods and Services (as kube-apiserver does).
    auto deleted = client.request("DELETE", k_cms + "/c");
    BOOST_TEST(deleted.json_body()["status"] == "Success");
    BOOST_TEST(deleted.json_body()["details"]["kind"] == "configmaps");
    auto unknown = client.request("GET", "/api/v1/namespaces/default/widgets");
    BOOST_TEST(unknown.status == 404);
    BOOST_TEST(unknown.json_body()["message"] == "the server could not find the requested resource");
}

BOOST_AUTO_TEST_CASE(metadata_only_lists_and_pagination) {
    auto server = start(FakekubeOptions("meta"));
    HttpsClient client(server, Credentials::admin(server));
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(client.send("POST", k_cms, config_map("m" + std::to_string(i))).status == 201);
    }
    auto partial =
        client.request("GET", k_cms, "", "",
                       "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json");
    json list = partial.json_body();
    BOOST_TEST(list["kind"] == "PartialObjectMetadataList");
    BOOST_TEST(list["apiVersion"] == "meta.k8s.io/v1");
    BOOST_TEST(list["items"].size() == 4U); // with kube-root-ca.crt
    BOOST_TEST(!list["items"][0].contains("data"));
    BOOST_TEST(list["items"][0]["metadata"].contains("name"));
    auto page = client.request("GET", k_cms + "?limit=2").json_body();
    BOOST_TEST(page["items"].size() == 2U);
    BOOST_TEST(page["metadata"]["remainingItemCount"] == 2);
    auto rest =
        client.request("GET", k_cms + "?limit=2&continue=" + page["metadata"]["continue"].get<std::string>())
            .json_body();
    BOOST_TEST(rest["items"].size() == 2U);
    BOOST_TEST(!rest["metadata"].contains("continue"));
}

BOOST_AUTO_TEST_CASE(a_watch_streams_while_other_clients_write) {
    auto server = start(FakekubeOptions("watch"));
    HttpsClient client(server, Credentials::admin(server));
    const std::string rv = client.request("GET", k_cms).json_body()["metadata"]["resourceVersion"];
    auto watch = client.watch(k_cms + "?watch=true&resourceVersion=" + rv);
    BOOST_TEST(client.send("POST", k_cms, config_map("w")).status == 201);
    json added = watch->next_event();
    BOOST_TEST(added["type"] == "ADDED");
    BOOST_TEST(added["object"]["metadata"]["name"] == "w");
    BOOST_TEST(added["object"]["kind"] == "ConfigMap");
    BOOST_TEST(client.request("PATCH", k_cms + "/w", R"({"data":{"k":"v2"}})", "application/merge-patch+json")
                   .status == 200);
    json modified = watch->next_event();
    BOOST_TEST(modified["type"] == "MODIFIED");
    BOOST_TEST(modified["object"]["data"]["k"] == "v2");
    BOOST_TEST(client.request("DELETE", k_cms + "/w").status == 200);
    json deleted = watch->next_event();
    BOOST_TEST(deleted["type"] == "DELETED");
    BOOST_TEST(std::stoull(deleted["object"]["metadata"]["resourceVersion"].get<std::string>()) >
               std::stoull(modified["object"]["metadata"]["resourceVersion"].get<std::string>()));
}

BOOST_AUTO_TEST_CASE(faults_fail_requests_and_stats_count_them) {
    FakekubeOptions options("faults");
    options.faults = "rate=0.3,status=500|503|429,retry-after=2,seed=7";
    auto server = start(options);
    HttpsClient client(server, Credentials::admin(server));
    auto zeroed = client.request("DELETE", "/fakekube/stats").json_body();
    BOOST_TEST(zeroed["requests"]["GET"] == 0);
    int ok = 0;
    std::map<int, int> failures;
    for (int i = 0; i < 100; ++i) {
        auto response = client.request("GET", k_cms + "/kube-root-ca.crt");
        if (response.status == 200) {
            ++ok;
            continue;
        }
        ++failures[response.status];
        json status = response.json_body();
        BOOST_TEST(status["kind"] == "Status");
        BOOST_TEST(status["code"] == response.status);
        if (response.status == 429 || response.status == 503) {
            BOOST_TEST(response.header("retry-after") == "2");
            BOOST_TEST(status["details"]["retryAfterSeconds"] == 2);
        }
        BOOST_TEST((status["reason"] == (response.status == 429   ? "TooManyRequests"
                                         : response.status == 503 ? "ServiceUnavailable"
                                                                  : "InternalError")));
    }
    BOOST_TEST(ok > 0);
    BOOST_TEST(failures.size() == 3U); // each configured status shows up over 100 draws
    // /fakekube/stats itself is never faulted and counts every API request, failed or not.
    for (int i = 0; i < 20; ++i) {
        BOOST_TEST(client.request("GET", "/fakekube/stats").status == 200);
    }
    auto stats = client.request("GET", "/fakekube/stats").json_body();
    BOOST_TEST(stats["requests"]["GET"] == 100);
    BOOST_TEST(stats["requests"]["LIST"] == 0);
}

BOOST_AUTO_TEST_CASE(stats_tell_verbs_apart) {
    auto server = start(FakekubeOptions("stats"));
    HttpsClient client(server, Credentials::admin(server));
    client.request("DELETE", "/fakekube/stats");
    client.send("POST", k_cms, config_map("s"));
    client.request("GET", k_cms + "/s");
    client.request("GET", k_cms);
    client.request("GET", k_cms + "?labelSelector=a%3Db");
    json current = client.request("GET", k_cms + "/s").json_body();
    client.send("PUT", k_cms + "/s", current);
    client.request("PATCH", k_cms + "/s", R"({"data":{"k":"x"}})", "application/merge-patch+json");
    client.request("GET", k_cms + "?watch=true&timeoutSeconds=0");
    client.request("DELETE", k_cms + "/s");
    auto stats = client.request("GET", "/fakekube/stats").json_body();
    BOOST_TEST(
        stats ==
        json::parse(R"({"requests":{"GET":2,"LIST":2,"WATCH":1,"POST":1,"PUT":1,"PATCH":1,"DELETE":1}})"));
}

BOOST_AUTO_TEST_CASE(connection_resets_are_injected) {
    FakekubeOptions options("resets");
    options.faults = "reset=1";
    auto server = start(options);
    HttpsClient client(server, Credentials::admin(server));
    BOOST_CHECK_THROW(client.request("GET", k_cms), boost::system::system_error);
    // Stats stay reachable and saw the request.
    BOOST_TEST(client.request("GET", "/fakekube/stats").json_body()["requests"]["LIST"] == 1);
}

BOOST_AUTO_TEST_CASE(listen_refuses_non_loopback_addresses) {
    TempDirectory dir;
    auto result = run_command({(bin_dir() / "fakekube").string(), "--name", "x", "--listen", "0.0.0.0:0",
                               "--kubeconfig-out", (dir.path() / "kc").string()},
                              environment_with({}));
    BOOST_TEST_REQUIRE(result.has_value());
    BOOST_TEST(result->exit_code == 2);
    BOOST_TEST(contains(result->err, "is not a loopback address"), result->err);
    BOOST_TEST(!std::filesystem::exists(dir.path() / "kc"));
}

BOOST_AUTO_TEST_SUITE_END()
