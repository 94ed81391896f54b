// The API logic in process: storage semantics and error bodies, as kube-apiserver answers them.
#include "tests/fakekube/apiserver.hpp"

#include <boost/test/unit_test.hpp>

namespace fk = meshlink::fakekube;
using fk::json;

namespace {

struct Fixture {
    std::unique_ptr<fk::ApiServer> api;

    Fixture() {
        fk::ServerConfig config;
        config.controller_delay = std::chrono::milliseconds(0);
        config.server_address = "127.0.0.1:6443";
        auto created = fk::ApiServer::create(config);
        BOOST_TEST_REQUIRE(created.has_value());
        api = std::move(*created);
    }

    fk::Response call(const std::string& method, const std::string& target, const json& body = nullptr,
                      const std::string& content_type = "application/json",
                      const std::string& user = "admin") {
        fk::Request request;
        request.method = method;
        const auto question = target.find('?');
        request.path = target.substr(0, question);
        if (question != std::string::npos) {
            std::string query = target.substr(question + 1);
            size_t start = 0;
            while (start < query.size()) {
                size_t amp = query.find('&', start);
                std::string pair =
                    query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
                auto eq = pair.find('=');
                request.query.emplace(pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1));
                start = amp == std::string::npos ? query.size() : amp + 1;
            }
        }
        request.content_type = content_type;
        request.accept = "application/json";
        request.body = body.is_null() ? "" : body.dump();
        request.identity = {user,
                            "",
                            user == "admin"
                                ? std::vector<std::string>{"system:masters", "system:authenticated"}
                                : std::vector<std::string>{"system:authenticated"},
                            {}};
        auto outcome = api->handle(request);
        auto* response = std::get_if<fk::Response>(&outcome);
        BOOST_TEST_REQUIRE(response != nullptr, method << " " << target << " did not answer plainly");
        return *response;
    }

    static json body(const fk::Response& response) { return json::parse(response.body); }
};

json config_map(const std::string& name, const json& data = {{"k", "v"}}) {
    return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", data}};
}

json service(const std::string& name, const json& ports, const std::string& type = "NodePort") {
    return {{"apiVersion", "v1"},
            {"kind", "Service"},
            {"metadata", {{"name", name}}},
            {"spec", {{"type", type}, {"selector", {{"app", name}}}, {"ports", ports}}}};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(apiserver, Fixture)

BOOST_AUTO_TEST_CASE(create_get_and_the_error_bodies) {
    auto created = call("POST", "/api/v1/namespaces/default/configmaps", config_map("x"));
    BOOST_TEST(created.status == 201);
    json object = body(created);
    BOOST_TEST(object["metadata"]["uid"].get<std::string>().size() == 36U);
    BOOST_TEST(!object["metadata"]["creationTimestamp"].get<std::string>().empty());
    BOOST_TEST(!object["metadata"]["resourceVersion"].get<std::string>().empty());

    auto again = call("POST", "/api/v1/namespaces/default/configmaps", config_map("x"));
    BOOST_TEST(again.status == 409);
    BOOST_TEST(body(again)["reason"] == "AlreadyExists");
    BOOST_TEST(body(again)["message"] == "configmaps \"x\" already exists");
    BOOST_TEST(body(again)["details"] == json({{"name", "x"}, {"kind", "configmaps"}}));

    auto missing = call("GET", "/api/v1/namespaces/default/secrets/nope");
    BOOST_TEST(missing.status == 404);
    json status = body(missing);
    BOOST_TEST(status["kind"] == "Status");
    BOOST_TEST(status["status"] == "Failure");
    BOOST_TEST(status["message"] == "secrets \"nope\" not found");
    BOOST_TEST(status["code"] == 404);

    auto apps = call("GET", "/apis/apps/v1/namespaces/default/deployments/nope");
    BOOST_TEST(body(apps)["message"] == "deployments.apps \"nope\" not found");
    BOOST_TEST(body(apps)["details"]["group"] == "apps");

    auto no_ns = call("POST", "/api/v1/namespaces/ghost/configmaps", config_map("y"));
    BOOST_TEST(no_ns.status == 404);
    BOOST_TEST(body(no_ns)["message"] == "namespaces \"ghost\" not found");
}

BOOST_AUTO_TEST_CASE(stale_resource_version_conflicts_and_generation_follows_spec) {
    json cm = body(call("POST", "/api/v1/namespaces/default/configmaps", config_map("c")));
    const std::string first_rv = cm["metadata"]["resourceVersion"];
    cm["data"]["k"] = "w";
    auto updated = call("PUT", "/api/v1/namespaces/default/configmaps/c", cm);
    BOOST_TEST(updated.status == 200);
    BOOST_TEST(std::stoull(body(updated)["metadata"]["resourceVersion"].get<std::string>()) >
               std::stoull(first_rv));
    auto stale = call("PUT", "/api/v1/namespaces/default/configmaps/c", cm); // still carries first_rv
    BOOST_TEST(stale.status == 409);
    BOOST_TEST(body(stale)["reason"] == "Conflict");
    BOOST_TEST(body(stale)["message"] == "Operation cannot be fulfilled on configmaps \"c\": the object has "
                                         "been modified; please apply your changes "
                                         "to the latest version and try again");

    json deployment = {{"apiVersion", "apps/v1"},
                       {"kind", "Deployment"},
                       {"metadata", {{"name", "d"}}},
                       {"spec",
                        {{"selector", {{"matchLabels", {{"app", "d"}}}}},
                         {"template",
                          {{"metadata", {{"labels", {{"app", "d"}}}}},
                           {"spec", {{"containers", {{{"name", "c"}, {"image", "i:1"}}}}}}}}}}};
    json stored = body(call("POST", "/apis/apps/v1/namespaces/default/deployments", deployment));
    BOOST_TEST(stored["metadata"]["generation"] == 1);
    auto labelled = call("PATCH", "/apis/apps/v1/namespaces/default/deployments/d",
                         json{{"metadata", {{"labels", {{"x", "y"}}}}}}, "application/merge-patch+json");
    BOOST_TEST(body(labelled)["metadata"]["generation"] == 1);
    auto scaled = call("PATCH", "/apis/apps/v1/namespaces/default/deployments/d",
                       json{{"spec", {{"replicas", 3}}}}, "application/strategic-merge-patch+json");
    BOOST_TEST(body(scaled)["metadata"]["generation"] == 2);
}

BOOST_AUTO_TEST_CASE(no_op_update_keeps_the_resource_version) {
    json cm = body(call("POST", "/api/v1/namespaces/default/configmaps", config_map("same")));
    auto again = call("PUT", "/api/v1/namespaces/default/configmaps/same", cm);
    BOOST_TEST(body(again)["metadata"]["resourceVersion"] == cm["metadata"]["resourceVersion"]);
}

BOOST_AUTO_TEST_CASE(field_validation_modes) {
    json cm = config_map("v");
    cm["dta"] = json{{"a", "b"}};
    auto strict = call("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", cm);
    BOOST_TEST(strict.status == 400);
    BOOST_TEST(body(strict)["reason"] == "BadRequest");
    BOOST_TEST(body(strict)["message"] == "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: "
                                          "strict decoding error: unknown field \"dta\"");
    auto warn = call("POST", "/api/v1/namespaces/default/configmaps", cm);
    BOOST_TEST(warn.status == 201);
    BOOST_TEST(!body(warn).contains("dta"));
    BOOST_TEST_REQUIRE(warn.headers.size() == 1U);
    BOOST_TEST(warn.headers[0].first == "Warning");
    BOOST_TEST(warn.headers[0].second == "299 - \"unknown field \\\"dta\\\"\"");
    cm["metadata"]["name"] = "v2";
    auto ignore = call("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Ignore", cm);
    BOOST_TEST(ignore.status == 201);
    BOOST_TEST(ignore.headers.empty());
}

BOOST_AUTO_TEST_CASE(semantic_validation_is_422_with_causes) {
    auto bad_name = call("POST", "/api/v1/namespaces/default/configmaps", config_map("Bad_Name"));
    BOOST_TEST(bad_name.status == 422);
    json status = body(bad_name);
    BOOST_TEST(status["reason"] == "Invalid");
    BOOST_TEST(status["details"]["kind"] == "ConfigMap");
    BOOST_TEST(status["details"]["causes"][0]["field"] == "metadata.name");
    BOOST_TEST(status["details"]["causes"][0]["reason"] == "FieldValueInvalid");
    BOOST_TEST(status["message"].get<std::string>().rfind(
                   "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a "
                   "lowercase RFC 1123 subdomain",
                   0) == 0);

    json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", "p"}}},
                {"spec", {{"containers", {{{"name", "c"}}}}}}};
    auto no_image = call("POST", "/api/v1/namespaces/default/pods", pod);
    BOOST_TEST(no_image.status == 422);
    BOOST_TEST(body(no_image)["message"] == "Pod \"p\" is invalid: spec.containers[0].image: Required value");

    auto port =
        call("POST", "/api/v1/namespaces/default/services", service("big", {{{"port", 70000}}}, "ClusterIP"));
    BOOST_TEST(port.status == 422);
    BOOST_TEST(body(port)["details"]["causes"][0]["field"] == "spec.ports[0].port");
    BOOST_TEST(body(port)["details"]["causes"][0]["message"] ==
               "Invalid value: 70000: must be between 1 and 65535, inclusive");
}

BOOST_AUTO_TEST_CASE(services_get_cluster_ips_and_node_ports) {
    auto first = body(call("GET", "/api/v1/namespaces/default/services/kubernetes"));
    BOOST_TEST(first["spec"]["clusterIP"] == "10.96.0.1");
    json web = body(call("POST", "/api/v1/namespaces/default/services", service("web", {{{"port", 80}}})));
    const std::string ip = web["spec"]["clusterIP"];
    BOOST_TEST(ip.rfind("10.", 0) == 0);
    BOOST_TEST(ip != "10.96.0.1");
    const int node_port = web["spec"]["ports"][0]["nodePort"];
    BOOST_TEST(node_port >= 30000);
    BOOST_TEST(node_port <= 32767);
    BOOST_TEST(web["spec"]["ports"][0]["targetPort"] == 80); // defaulted from port

    auto taken = call("POST", "/api/v1/namespaces/default/services",
                      service("clash", {{{"port", 81}, {"nodePort", node_port}}}));
    BOOST_TEST(taken.status == 422);
    BOOST_TEST(body(taken)["message"] ==
               "Service \"clash\" is invalid: spec.ports[0].nodePort: Invalid value: " +
                   std::to_string(node_port) + ": provided port is already allocated");
    // The port comes free again when its Service goes.
    BOOST_TEST(call("DELETE", "/api/v1/namespaces/default/services/web").status == 200);
    BOOST_TEST(call("POST", "/api/v1/namespaces/default/services",
                    service("clash", {{{"port", 81}, {"nodePort", node_port}}}))
                   .status == 201);
    // An update that does not mention the nodePort keeps it.
    auto kept =
        call("PATCH", "/api/v1/namespaces/default/services/clash",
             json{{"spec", {{"ports", {{{"port", 81}, {"name", "p"}}}}}}}, "application/merge-patch+json");
    BOOST_TEST(body(kept)["spec"]["ports"][0]["nodePort"] == node_port);
}

BOOST_AUTO_TEST_CASE(lists_select_and_paginate) {
    for (int i = 0; i < 5; ++i) {
        json cm = config_map("item-" + std::to_string(i));
        cm["metadata"]["labels"] = {{"app", i % 2 == 0 ? "even" : "odd"}};
        call("POST", "/api/v1/namespaces/default/configmaps", cm);
    }
    auto even = body(call("GET", "/api/v1/namespaces/default/configmaps?labelSelector=app%3Deven"));
    (void)even;
    auto selected = body(call("GET", "/api/v1/namespaces/default/configmaps?labelSelector=app=even"));
    BOOST_TEST(selected["kind"] == "ConfigMapList");
    BOOST_TEST(selected["items"].size() == 3U);
    BOOST_TEST(!selected["items"][0].contains("kind")); // items carry no type meta, like the real server
    auto page = body(call("GET", "/api/v1/namespaces/default/configmaps?labelSelector=app&limit=2"));
    BOOST_TEST(page["items"].size() == 2U);
    BOOST_TEST(page["metadata"]["remainingItemCount"] == 3);
    std::vector<std::string> names;
    json current = page;
    while (true) {
        for (const auto& item : current["items"]) {
            names.push_back(item["metadata"]["name"]);
        }
        if (!current["metadata"].contains("continue")) {
            break;
        }
        current =
            body(call("GET", "/api/v1/namespaces/default/configmaps?labelSelector=app&limit=2&continue=" +
                                 current["metadata"]["continue"].get<std::string>()));
    }
    BOOST_TEST(names.size() == 5U);
    BOOST_TEST(names.front() == "item-0");
    BOOST_TEST(names.back() == "item-4");
    auto by_field =
        body(call("GET", "/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name=item-3"));
    BOOST_TEST(by_field["items"].size() == 1U);
    auto bad = call("GET", "/api/v1/namespaces/default/configmaps?fieldSelector=spec.nodeName=x");
    BOOST_TEST(bad.status == 400);
}

BOOST_AUTO_TEST_CASE(dry_run_and_generate_name) {
    auto dry = call("POST", "/api/v1/namespaces/default/configmaps?dryRun=All", config_map("dry"));
    BOOST_TEST(dry.status == 201);
    BOOST_TEST(call("GET", "/api/v1/namespaces/default/configmaps/dry").status == 404);
    json generated = config_map("");
    generated["metadata"] = {{"generateName", "gen-"}};
    json made = body(call("POST", "/api/v1/namespaces/default/configmaps", generated));
    const std::string name = made["metadata"]["name"];
    BOOST_TEST(name.size() == 9U);
    BOOST_TEST(name.rfind("gen-", 0) == 0);
    BOOST_TEST(call("GET", "/api/v1/namespaces/default/configmaps/" + name).status == 200);
}

BOOST_AUTO_TEST_CASE(delete_answers_status_or_object_and_namespaces_terminate) {
    call("POST", "/api/v1/namespaces/default/configmaps", config_map("gone"));
    json status = body(call("DELETE", "/api/v1/namespaces/default/configmaps/gone"));
    BOOST_TEST(status["kind"] == "Status");
    BOOST_TEST(status["status"] == "Success");
    BOOST_TEST(status["details"]["name"] == "gone");
    BOOST_TEST(status["details"]["kind"] == "configmaps");

    call("POST", "/api/v1/namespaces",
         json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "tmp"}}}});
    BOOST_TEST(call("GET", "/api/v1/namespaces/tmp/serviceaccounts/default").status == 200);
    call("POST", "/api/v1/namespaces/tmp/configmaps", config_map("inside"));
    json ns = body(call("DELETE", "/api/v1/namespaces/tmp"));
    BOOST_TEST(ns["status"]["phase"] == "Terminating");
    auto refused = call("POST", "/api/v1/namespaces/tmp/configmaps", config_map("late"));
    BOOST_TEST(refused.status == 403);
    api->run_controllers(); // delay 0: finishes the deletion
    BOOST_TEST(call("GET", "/api/v1/namespaces/tmp").status == 404);
    BOOST_TEST(call("GET", "/api/v1/namespaces/tmp/configmaps/inside").status == 404);
    auto protected_ns = call("DELETE", "/api/v1/namespaces/kube-system");
    BOOST_TEST(protected_ns.status == 403);
}

BOOST_AUTO_TEST_CASE(controllers_fill_in_workload_status) {
    json job = {
        {"apiVersion", "batch/v1"},
        {"kind", "Job"},
        {"metadata", {{"name", "j"}}},
        {"spec",
         {{"template",
           {{"spec", {{"restartPolicy", "Never"}, {"containers", {{{"name", "c"}, {"image", "i"}}}}}}}}}}};
    BOOST_TEST(call("POST", "/api/v1/nodes",
                    json{{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n"}}}})
                   .status == 201);
    BOOST_TEST(call("POST", "/apis/batch/v1/namespaces/default/jobs", job).status == 201);
    // The Job creates a Pod, the Pod is bound and runs, exits 0, and the Job counts it: one step per pass.
    json stored;
    for (int pass = 0; pass < 10 && !stored["status"].contains("succeeded"); ++pass) {
        api->run_controllers();
        stored = body(call("GET", "/apis/batch/v1/namespaces/default/jobs/j"));
    }
    BOOST_TEST(stored["status"]["succeeded"] == 1);
    json pods = body(call("GET", "/api/v1/namespaces/default/pods"));
    BOOST_TEST_REQUIRE(pods["items"].size() == 1U);
    BOOST_TEST(pods["items"][0]["spec"]["nodeName"] == "n");
    BOOST_TEST(pods["items"][0]["status"]["phase"] == "Succeeded");
    bool complete = false;
    for (const auto& condition : stored["status"]["conditions"]) {
        complete = complete || (condition["type"] == "Complete" && condition["status"] == "True");
    }
    BOOST_TEST(complete);
}

BOOST_AUTO_TEST_CASE(watch_sees_changes_after_a_revision) {
    json cm = body(call("POST", "/api/v1/namespaces/default/configmaps", config_map("w")));
    fk::Request request;
    request.method = "GET";
    request.path = "/api/v1/namespaces/default/configmaps";
    request.query = {{"watch", "true"},
                     {"resourceVersion", cm["metadata"]["resourceVersion"].get<std::string>()},
                     {"fieldSelector", "metadata.name=w"}};
    request.identity = {"admin", "", {"system:masters"}, {}};
    auto outcome = api->handle(request);
    auto* plan = std::get_if<fk::WatchPlan>(&outcome);
    BOOST_TEST_REQUIRE(plan != nullptr);
    BOOST_TEST(plan->initial.empty());
    call("DELETE", "/api/v1/namespaces/default/configmaps/w");
    auto poll = api->poll_watch(*plan, plan->start_revision);
    BOOST_TEST_REQUIRE(poll.lines.size() == 1U);
    json event = json::parse(poll.lines[0]);
    BOOST_TEST(event["type"] == "DELETED");
    BOOST_TEST(event["object"]["metadata"]["name"] == "w");
}

BOOST_AUTO_TEST_CASE(rbac_rules_from_seeded_objects_are_enforced) {
    auto load = [&](json object) {
        BOOST_TEST_REQUIRE(api->load_seed(std::move(object), "test").has_value());
    };
    load({{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", "fakekube-authorization"}, {"namespace", "kube-system"}}},
          {"data", {{"mode", "RBAC"}}}});
    load({{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "Role"},
          {"metadata", {{"name", "read-cm"}, {"namespace", "default"}}},
          {"rules", {{{"apiGroups", {""}}, {"resources", {"configmaps"}}, {"verbs", {"get", "list"}}}}}});
    load({{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "RoleBinding"},
          {"metadata", {{"name", "read-cm"}, {"namespace", "default"}}},
          {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "read-cm"}}},
          {"subjects", {{{"kind", "User"}, {"name", "alice"}}}}});
    BOOST_TEST(
        call("GET", "/api/v1/namespaces/default/configmaps", nullptr, "application/json", "alice").status ==
        200);
    auto denied =
        call("GET", "/api/v1/namespaces/kube-system/secrets/x", nullptr, "application/json", "alice");
    BOOST_TEST(denied.status == 403);
    BOOST_TEST(body(denied)["message"] == "secrets \"x\" is forbidden: User \"alice\" cannot get resource "
                                          "\"secrets\" in API group \"\" in the namespace \"kube-system\"");
    auto review = call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                       json{{"apiVersion", "authorization.k8s.io/v1"},
                            {"kind", "SelfSubjectAccessReview"},
                            {"spec",
                             {{"resourceAttributes",
                               {{"verb", "create"}, {"resource", "configmaps"}, {"namespace", "default"}}}}}},
                       "application/json", "alice");
    BOOST_TEST(review.status == 201);
    BOOST_TEST(body(review)["status"]["allowed"] == false);
    // Admin (system:masters) is allowed everything.
    BOOST_TEST(call("GET", "/api/v1/namespaces/kube-system/secrets").status == 200);
}

// Leases as kube-apiserver keeps them: MicroTime with exactly six fraction digits (400 otherwise, from the
// decoder), a positive duration (422), and resourceVersion concurrency on update (409).
BOOST_AUTO_TEST_CASE(leases_decode_micro_time_and_validate_their_spec) {
    const std::string leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
    auto lease = [](const std::string& renewed, int duration) {
        return json{
            {"apiVersion", "coordination.k8s.io/v1"},
            {"kind", "Lease"},
            {"metadata", {{"name", "n1"}}},
            {"spec", {{"holderIdentity", "n1"}, {"leaseDurationSeconds", duration}, {"renewTime", renewed}}}};
    };
    auto whole_second = call("POST", leases, lease("2024-05-01T12:51:30Z", 40));
    BOOST_TEST(whole_second.status == 400);
    BOOST_TEST(body(whole_second)["reason"] == "BadRequest");
    BOOST_TEST(
        body(whole_second)["message"] ==
        "Lease in version \"v1\" cannot be handled as a Lease: parsing time \"2024-05-01T12:51:30Z\" as "
        "\"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"Z\" as \".000000\"");
    BOOST_TEST(call("POST", leases, lease("2024-05-01T12:51:30.123Z", 40)).status == 400);
    BOOST_TEST(call("POST", leases, lease("2024-05-01T12:51:30.123456", 40)).status == 400);

    auto zero = call("POST", leases, lease("2024-05-01T12:51:30.123456Z", 0));
    BOOST_TEST(zero.status == 422);
    BOOST_TEST(body(zero)["details"]["causes"][0]["field"] == "spec.leaseDurationSeconds");
    BOOST_TEST(body(zero)["message"].get<std::string>().find("must be greater than 0") != std::string::npos);

    auto created = call("POST", leases, lease("2024-05-01T12:51:30.123456+02:00", 40));
    BOOST_TEST_REQUIRE(created.status == 201);
    json renewed = body(created);
    renewed["spec"]["renewTime"] = "2024-05-01T12:52:30.000000Z";
    auto updated = call("PUT", leases + "/n1", renewed);
    BOOST_TEST(updated.status == 200);
    // The same resourceVersion again is stale now.
    renewed["spec"]["renewTime"] = "2024-05-01T12:53:30.000000Z";
    auto conflicting = call("PUT", leases + "/n1", renewed);
    BOOST_TEST(conflicting.status == 409);
    BOOST_TEST(body(conflicting)["reason"] == "Conflict");
}

namespace {

json admission_policy(const std::string& name, const json& validations,
                      const std::string& failure_policy = "Fail") {
    return {{"apiVersion", "admissionregistration.k8s.io/v1"},
            {"kind", "ValidatingAdmissionPolicy"},
            {"metadata", {{"name", name}}},
            {"spec",
             {{"failurePolicy", failure_policy},
              {"matchConstraints",
               {{"resourceRules",
                 {{{"apiGroups", {""}},
                   {"apiVersions", {"v1"}},
                   {"operations", {"CREATE", "UPDATE", "DELETE"}},
                   {"resources", {"configmaps"}}}}}}},
              {"matchConditions", {{{"name", "guarded"}, {"expression", "request.namespace == 'guarded'"}}}},
              {"variables", {{{"name", "value"}, {"expression", "object == null ? '' : object.data.k"}}}},
              {"validations", validations}}}};
}

json admission_binding(const std::string& name, const json& actions) {
    return {{"apiVersion", "admissionregistration.k8s.io/v1"},
            {"kind", "ValidatingAdmissionPolicyBinding"},
            {"metadata", {{"name", name + "-binding"}}},
            {"spec", {{"policyName", name}, {"validationActions", actions}}}};
}

const std::string k_policies = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies";
const std::string k_bindings = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings";

} // namespace

// A policy with a binding is enforced like kube-apiserver's admission plugin: on create, on a patch (the
// patched object), on delete; the Status names policy and binding; a refused write changes nothing.
BOOST_AUTO_TEST_CASE(validating_admission_policies_are_enforced) {
    BOOST_TEST_REQUIRE(
        call("POST", "/api/v1/namespaces",
             {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "guarded"}}}})
            .status == 201);
    const json validations =
        json::array({{{"expression", "variables.value != 'bad'"},
                      {"messageExpression", "'value ' + variables.value + ' is refused'"},
                      {"reason", "Forbidden"}},
                     {{"expression", "request.operation != 'DELETE' || !('keep' in oldObject.data)"}}});
    BOOST_TEST_REQUIRE(call("POST", k_policies, admission_policy("p", validations)).status == 201);
    BOOST_TEST_REQUIRE(call("POST", k_bindings, admission_binding("p", {"Deny"})).status == 201);
    const std::string collection = "/api/v1/namespaces/guarded/configmaps";

    auto refused = call("POST", collection, config_map("x", {{"k", "bad"}}));
    BOOST_TEST(refused.status == 403);
    const std::string inner =
        "ValidatingAdmissionPolicy 'p' with binding 'p-binding' denied request: value bad is refused";
    BOOST_TEST(body(refused)["message"] == "configmaps \"x\" is forbidden: " + inner);
    BOOST_TEST(body(refused)["reason"] == "Forbidden");
    BOOST_TEST(body(refused)["details"]["causes"][0]["message"] == inner);
    BOOST_TEST(call("GET", collection + "/x").status == 404);
    // Outside the matchConditions' namespace the same object is fine.
    BOOST_TEST(
        call("POST", "/api/v1/namespaces/default/configmaps", config_map("x", {{"k", "bad"}})).status == 201);

    const auto created = call("POST", collection, config_map("x", {{"k", "good"}, {"keep", "1"}}));
    BOOST_TEST_REQUIRE(created.status == 201);
    auto patched =
        call("PATCH", collection + "/x", {{"data", {{"k", "bad"}}}}, "application/merge-patch+json");
    BOOST_TEST(patched.status == 403);
    BOOST_TEST(call("GET", collection + "/x").body == created.body); // resourceVersion unchanged

    // The second validation has no reason and no message: Invalid (422), the expression as the message.
    auto deleted = call("DELETE", collection + "/x");
    BOOST_TEST(deleted.status == 422);
    BOOST_TEST(body(deleted)["reason"] == "Invalid");
    BOOST_TEST(body(deleted)["message"] ==
               "configmaps \"x\" is forbidden: ValidatingAdmissionPolicy 'p' with binding 'p-binding' denied "
               "request: failed expression: request.operation != 'DELETE' || !('keep' in oldObject.data)");
    BOOST_TEST(call("GET", collection + "/x").status == 200);

    // Without its binding the policy does nothing.
    BOOST_TEST(call("DELETE", k_bindings + "/p-binding").status == 200);
    BOOST_TEST(
        call("PATCH", collection + "/x", {{"data", {{"k", "bad"}}}}, "application/merge-patch+json").status ==
        200);
}

// An expression that fails to evaluate denies under failurePolicy Fail and is skipped under Ignore; Warn
// turns a failed validation into a Warning header.
BOOST_AUTO_TEST_CASE(admission_failure_policy_and_warn) {
    BOOST_TEST_REQUIRE(
        call("POST", "/api/v1/namespaces",
             {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "guarded"}}}})
            .status == 201);
    const json failing = json::array({{{"expression", "object.data.missing == 'x'"}}});
    BOOST_TEST_REQUIRE(call("POST", k_policies, admission_policy("ignored", failing, "Ignore")).status ==
                       201);
    BOOST_TEST_REQUIRE(call("POST", k_bindings, admission_binding("ignored", {"Deny"})).status == 201);
    const std::string collection = "/api/v1/namespaces/guarded/configmaps";
    BOOST_TEST(call("POST", collection, config_map("a")).status == 201);

    BOOST_TEST_REQUIRE(call("POST", k_policies, admission_policy("failing", failing)).status == 201);
    BOOST_TEST_REQUIRE(call("POST", k_bindings, admission_binding("failing", {"Deny"})).status == 201);
    auto refused = call("POST", collection, config_map("b"));
    BOOST_TEST(refused.status == 422);
    BOOST_TEST(
        body(refused)["message"] ==
        "configmaps \"b\" is forbidden: ValidatingAdmissionPolicy 'failing' with binding 'failing-binding' "
        "denied request: expression 'object.data.missing == 'x'' resulted in error: no such key: missing");
    BOOST_TEST(call("DELETE", k_bindings + "/failing-binding").status == 200);

    const json never = json::array({{{"expression", "false"}, {"message", "never"}}});
    BOOST_TEST_REQUIRE(call("POST", k_policies, admission_policy("warned", never)).status == 201);
    BOOST_TEST_REQUIRE(call("POST", k_bindings, admission_binding("warned", {"Warn", "Audit"})).status ==
                       201);
    auto warned = call("POST", collection, config_map("c"));
    BOOST_TEST(warned.status == 201);
    BOOST_TEST_REQUIRE(warned.headers.size() == 1U);
    BOOST_TEST(
        warned.headers[0].second ==
        "299 - \"Validation failed for ValidatingAdmissionPolicy 'warned' with binding 'warned-binding': "
        "never\"");
}

// TokenRequest: a pod-bound token authenticates as the ServiceAccount with the pod's and node's names and
// uids as user extras, and stops working once the Pod is gone.
BOOST_AUTO_TEST_CASE(service_account_tokens_bound_to_a_pod) {
    BOOST_TEST_REQUIRE(call("POST", "/api/v1/nodes",
                            {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n1"}}}})
                           .status == 201);
    BOOST_TEST_REQUIRE(
        call("POST", "/api/v1/namespaces/default/serviceaccounts",
             {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "agent"}}}})
            .status == 201);
    const json pod = {{"apiVersion", "v1"},
                      {"kind", "Pod"},
                      {"metadata", {{"name", "p"}}},
                      {"spec",
                       {{"serviceAccountName", "agent"},
                        {"nodeName", "n1"},
                        {"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}};
    const auto created = call("POST", "/api/v1/namespaces/default/pods", pod);
    BOOST_TEST_REQUIRE(created.status == 201);
    const json request = {
        {"apiVersion", "authentication.k8s.io/v1"},
        {"kind", "TokenRequest"},
        {"spec", {{"boundObjectRef", {{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", "p"}}}}}};
    auto wrong = call("POST", "/api/v1/namespaces/default/serviceaccounts/default/token", request);
    BOOST_TEST(wrong.status == 400); // the Pod runs as another ServiceAccount
    auto issued = call("POST", "/api/v1/namespaces/default/serviceaccounts/agent/token", request);
    BOOST_TEST_REQUIRE(issued.status == 201, issued.body);
    const json answer = body(issued);
    BOOST_TEST(answer["spec"]["expirationSeconds"] == 3600);
    BOOST_TEST(answer["spec"]["boundObjectRef"]["uid"] == body(created)["metadata"]["uid"]);
    const std::string token = answer["status"]["token"];
    auto identity = api->authenticate_token(token);
    BOOST_TEST_REQUIRE(identity.has_value());
    BOOST_TEST(identity->user == "system:serviceaccount:default:agent");
    BOOST_TEST(identity->groups ==
                   (std::vector<std::string>{"system:serviceaccounts", "system:serviceaccounts:default",
                                             "system:authenticated"}),
               boost::test_tools::per_element());
    BOOST_TEST(identity->extra["authentication.kubernetes.io/pod-name"] == std::vector<std::string>{"p"});
    BOOST_TEST(identity->extra["authentication.kubernetes.io/node-name"] == std::vector<std::string>{"n1"});
    BOOST_TEST(identity->extra["authentication.kubernetes.io/node-uid"].size() == 1U);
    BOOST_TEST(!api->authenticate_token(token + "x").has_value());
    auto short_lived = request;
    short_lived["spec"]["expirationSeconds"] = 60;
    BOOST_TEST(call("POST", "/api/v1/namespaces/default/serviceaccounts/agent/token", short_lived).status ==
               422);

    BOOST_TEST(call("DELETE", "/api/v1/namespaces/default/pods/p").status == 200);
    BOOST_TEST(!api->authenticate_token(token).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
