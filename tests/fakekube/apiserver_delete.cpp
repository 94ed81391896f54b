// Deletion (objects, collections, namespaces, finalizers, preconditions), Pod eviction and
// SelfSubjectAccessReview.
#include "tests/fakekube/admission.hpp"
#include "tests/fakekube/apiserver.hpp"
#include "tests/fakekube/protobuf.hpp"
#include "tests/fakekube/rbac.hpp"
#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/util.hpp"
#include "util/time.hpp"

#include <algorithm>

namespace meshlink::fakekube {
namespace {

// The DeleteOptions body, or an empty object when there is none.
std::optional<json> delete_options(const Request& request) {
    if (request.body.empty()) {
        return json::object();
    }
    std::string error;
    auto options = body_json(request, error);
    if (!options || !options->is_object()) {
        return std::nullopt;
    }
    return options;
}

bool dry_run_requested(const Request& request, const json& options) {
    if (request.param("dryRun") == "All") {
        return true;
    }
    const json& dry = child(options, "dryRun");
    return dry.is_array() && std::find(dry.begin(), dry.end(), "All") != dry.end();
}

} // namespace

json ApiServer::delete_now(const ResourceInfo& resource, const std::string& ns, const std::string& name) {
    json gone = m_store.remove(resource, ns, name);
    if (resource.kind == "Service" && !gone.is_null()) {
        release_service(gone);
    }
    m_pending.erase(resource.plural + "/" + ns + "/" + name);
    return gone;
}

Response ApiServer::remove(const Call& call) {
    const json* current = m_store.get(call.resource, call.ns, call.name);
    if (current == nullptr) {
        return not_found(call.resource, call.name).to_response();
    }
    auto options = delete_options(call.request);
    if (!options) {
        return bad_request("couldn't get version/kind; json parse error: malformed DeleteOptions")
            .to_response();
    }
    const json& meta = child(*current, "metadata");
    const json& preconditions = child(*options, "preconditions");
    if (const std::string uid =
            child(preconditions, "uid").is_string() ? preconditions["uid"].get<std::string>() : "";
        !uid.empty() && uid != meta.value("uid", "")) {
        return conflict(call.resource, call.name,
                        "Precondition failed: UID in precondition: " + uid +
                            ", UID in object meta: " + meta.value("uid", ""))
            .to_response();
    }
    if (const std::string rv = child(preconditions, "resourceVersion").is_string()
                                   ? preconditions["resourceVersion"].get<std::string>()
                                   : "";
        !rv.empty() && rv != meta.value("resourceVersion", "")) {
        return conflict(call.resource, call.name,
                        "Precondition failed: ResourceVersion in precondition: " + rv +
                            ", ResourceVersion in object meta: " + meta.value("resourceVersion", ""))
            .to_response();
    }
    const bool dry_run = dry_run_requested(call.request, *options);
    const json none = nullptr;
    const AdmissionDecision admission =
        validating_admission(m_store, {"DELETE", call.resource, "", call.ns, call.name, none, *current,
                                       call.request.identity, dry_run});
    if (admission.denied) {
        return admission.denied->to_response();
    }
    if (call.resource.kind == "Namespace") {
        if (call.name == "default" || call.name == "kube-system" || call.name == "kube-public") {
            return forbidden(&call.resource, call.name,
                             "namespaces " + go_quote(call.name) +
                                 " is forbidden: this namespace may not be deleted")
                .to_response();
        }
        json terminating = *current;
        if (!meta.contains("deletionTimestamp")) {
            terminating["metadata"]["deletionTimestamp"] =
                util::format_rfc3339(std::chrono::system_clock::now());
            terminating["status"]["phase"] = "Terminating";
        }
        if (dry_run) {
            return Response::json_body(200, terminating);
        }
        const json stored = m_store.put(call.resource, std::move(terminating));
        schedule(call.resource, stored);
        return Response::json_body(200, stored);
    }
    std::string propagation = call.request.param("propagationPolicy");
    if (const json& policy = child(*options, "propagationPolicy"); policy.is_string()) {
        propagation = policy.get<std::string>();
    }
    bool orphan_false = false;
    if (const auto it = options->find("orphanDependents"); it != options->end() && it->is_boolean()) {
        if (!propagation.empty()) {
            return invalid(call.resource, call.name,
                           {Cause{Cause::Type::invalid, "propagationPolicy", go_quote(propagation),
                                  "orphanDependents and deletionPropagation cannot be both set"}})
                .to_response();
        }
        propagation = it->get<bool>() ? "Orphan" : "Background";
        orphan_false = !it->get<bool>();
    }
    if (!propagation.empty() && propagation != "Orphan" && propagation != "Background" &&
        propagation != "Foreground") {
        return invalid(call.resource, call.name,
                       {Cause{Cause::Type::not_supported, "propagationPolicy", go_quote(propagation),
                              "supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""}})
            .to_response();
    }
    if (dry_run) {
        if (call.resource.returns_deleted_object || !meta.value("finalizers", json::array()).empty()) {
            return Response::json_body(200, *current);
        }
        return Response::json_body(200, success_status(call.resource, call.name, meta.value("uid", "")));
    }
    auto [object, gone] = delete_object(call.resource, call.ns, call.name, propagation);
    if (!gone) {
        // Still there (finalizers, a foreground or orphan deletion in progress): the object as it is now.
        return Response::json_body(orphan_false ? 202 : 200, object);
    }
    if (call.resource.returns_deleted_object) {
        return Response::json_body(200, object);
    }
    return Response::json_body(
        200, success_status(call.resource, call.name, child(object, "metadata").value("uid", "")));
}

Response ApiServer::remove_collection(const Call& call) {
    if (call.resource.kind == "Namespace") {
        return method_not_allowed().to_response();
    }
    auto labels = LabelSelector::parse(call.request.param("labelSelector"));
    if (!labels) {
        return bad_request(labels.error().message).to_response();
    }
    auto fields = FieldSelector::parse(call.request.param("fieldSelector"), call.resource);
    if (!fields) {
        return bad_request(fields.error().message).to_response();
    }
    std::vector<std::string> names;
    std::vector<std::string> namespaces;
    for (const json* object : m_store.list(call.resource, call.ns)) {
        if (labels->matches(child(child(*object, "metadata"), "labels")) &&
            fields->matches(call.resource, *object)) {
            names.push_back(child(*object, "metadata").value("name", ""));
            namespaces.push_back(child(*object, "metadata").value("namespace", ""));
        }
    }
    json items = json::array();
    for (size_t i = 0; i < names.size(); ++i) {
        Call one{call.request, call.resource, namespaces[i], names[i], "", call.dry_run};
        Response answer = remove(one);
        json body = json::parse(answer.body, nullptr, false);
        if (body.is_object() && body.value("kind", "") != "Status") {
            body.erase("kind");
            body.erase("apiVersion");
            items.push_back(body);
        }
    }
    return Response::json_body(200, {{"kind", call.resource.kind + "List"},
                                     {"apiVersion", call.resource.group_version()},
                                     {"metadata", {{"resourceVersion", std::to_string(m_store.revision())}}},
                                     {"items", items}});
}

Response ApiServer::evict(const Call& call) {
    const json* pod = m_store.get(call.resource, call.ns, call.name);
    if (pod == nullptr) {
        return not_found(call.resource, call.name).to_response();
    }
    std::string parse_error;
    auto parsed = call.request.body.empty() ? std::optional<json>(json::object())
                                            : body_json(call.request, parse_error);
    if (!parsed || !parsed->is_object()) {
        return bad_request("couldn't get version/kind; " +
                           (parse_error.empty() ? "malformed Eviction" : parse_error))
            .to_response();
    }
    const json& eviction = *parsed;
    const std::string body_name = child(eviction, "metadata").value("name", call.name);
    if (body_name != call.name) {
        return bad_request("name in URL does not match name in Eviction object").to_response();
    }
    const bool dry_run = call.dry_run || dry_run_requested(call.request, child(eviction, "deleteOptions"));
    auto success = [&] {
        if (!dry_run) {
            delete_object(call.resource, call.ns, call.name, "");
        }
        return Response::json_body(201, {{"kind", "Status"},
                                         {"apiVersion", "v1"},
                                         {"metadata", json::object()},
                                         {"status", "Success"},
                                         {"code", 201}});
    };
    // Pods that are not running (terminal, pending) or already deleting may always go, as the eviction
    // subresource has it.
    const std::string phase = child(*pod, "status").value("phase", "Pending");
    if (phase == "Succeeded" || phase == "Failed" || phase == "Pending" ||
        child(*pod, "metadata").contains("deletionTimestamp")) {
        return success();
    }
    const json& pod_labels = child(child(*pod, "metadata"), "labels");
    const ResourceInfo& pdbs = *find_resource("policy", "v1", "poddisruptionbudgets");
    std::vector<json> matching;
    for (const json* pdb : m_store.list(pdbs, call.ns)) {
        const json& spec = child(*pdb, "spec");
        if (!spec.contains("selector")) {
            continue; // a null selector selects nothing
        }
        auto selector = LabelSelector::from_object(spec["selector"]);
        if (selector && selector->matches(pod_labels)) {
            matching.push_back(*pdb);
        }
    }
    if (matching.empty()) {
        return success();
    }
    if (matching.size() > 1) {
        return internal_error(
                   "This pod has more than one PodDisruptionBudget, which the eviction subresource "
                   "does not support.")
            .to_response();
    }
    json pdb = matching.front();
    const json& status = child(pdb, "status");
    const std::string pdb_name = child(pdb, "metadata").value("name", "");
    auto refuse = [&](const std::string& why) {
        ApiError error =
            too_many_requests("Cannot evict pod as it would violate the pod's disruption budget.", 0);
        error.headers.clear();
        error.details = {{"causes", {{{"reason", "DisruptionBudget"}, {"message", why}}}}};
        return error.to_response();
    };
    if (status.value("observedGeneration", 0LL) < child(pdb, "metadata").value("generation", 1LL)) {
        return refuse("The disruption budget " + pdb_name + " is still being processed by the server.");
    }
    const long long healthy = status.value("currentHealthy", 0LL);
    const long long desired = status.value("desiredHealthy", 0LL);
    bool ready = false;
    for (const auto& condition : child(*pod, "status").value("conditions", json::array())) {
        ready = ready || (condition.value("type", "") == "Ready" && condition.value("status", "") == "True");
    }
    if (!ready) {
        // An unhealthy Pod does not count against the budget: AlwaysAllow evicts it, IfHealthyBudget (the
        // default) when the budget is met.
        const std::string policy = child(pdb, "spec").value("unhealthyPodEvictionPolicy", "IfHealthyBudget");
        if (policy == "AlwaysAllow" || (healthy >= desired && desired > 0)) {
            return success();
        }
    }
    const long long allowed = status.value("disruptionsAllowed", 0LL);
    if (allowed <= 0) {
        return refuse("The disruption budget " + pdb_name + " needs " + std::to_string(desired) +
                      " healthy pods and has " + std::to_string(healthy) + " currently");
    }
    if (!dry_run) {
        pdb["status"]["disruptionsAllowed"] = allowed - 1;
        pdb["status"]["disruptedPods"][call.name] = util::format_rfc3339(std::chrono::system_clock::now());
        m_store.put(pdbs, std::move(pdb));
    }
    return success();
}

Response ApiServer::access_review(const Call& call) {
    std::string parse_error;
    auto parsed = body_json(call.request, parse_error);
    json review = parsed ? *parsed : json();
    if (!review.is_object()) {
        return bad_request("couldn't get version/kind; json parse error: malformed SelfSubjectAccessReview")
            .to_response();
    }
    if (review.value("kind", "") != call.resource.kind ||
        review.value("apiVersion", "") != call.resource.group_version()) {
        return bad_request("the API version in the data (" + review.value("apiVersion", "") +
                           ") does not match the expected API version (" + call.resource.group_version() +
                           ")")
            .to_response();
    }
    const json& spec = child(review, "spec");
    Attributes what;
    if (const json& attrs = child(spec, "resourceAttributes"); !attrs.empty()) {
        what.verb = attrs.value("verb", "");
        what.group = attrs.value("group", "");
        what.resource = attrs.value("resource", "");
        what.subresource = attrs.value("subresource", "");
        what.ns = attrs.value("namespace", "");
        what.name = attrs.value("name", "");
    } else if (const json& non_resource = child(spec, "nonResourceAttributes"); !non_resource.empty()) {
        what.resource_request = false;
        what.verb = non_resource.value("verb", "");
        what.path = non_resource.value("path", "");
    } else {
        ApiError error =
            invalid(call.resource, "",
                    {Cause{Cause::Type::invalid, "spec.resourceAttributes", "nil",
                           "exactly one of nonResourceAttributes or resourceAttributes must be specified"}});
        return error.to_response();
    }
    const bool rbac = m_config.rbac || rbac_enabled_by_config(m_store);
    Decision decision = authorize(m_store, rbac, call.request.identity, what);
    review["metadata"] = {{"creationTimestamp", nullptr}};
    review["status"] = {{"allowed", decision.allowed}};
    if (!decision.reason.empty()) {
        review["status"]["reason"] = decision.reason;
    }
    return Response::json_body(201, review);
}

} // namespace meshlink::fakekube
