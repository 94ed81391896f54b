// The write side of ApiServer: create, update (main resource, status, finalize) and patch.
#include "tests/fakekube/admission.hpp"
#include "tests/fakekube/apiserver.hpp"
#include "tests/fakekube/defaulting.hpp"
#include "tests/fakekube/leases.hpp"
#include "tests/fakekube/patch.hpp"
#include "tests/fakekube/protobuf.hpp"
#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/schema/schema.hpp"
#include "tests/fakekube/seed.hpp"
#include "tests/fakekube/util.hpp"
#include "tests/fakekube/validation.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <expected>
#include <set>

namespace meshlink::fakekube {
namespace {

struct Decoded {
    json object;
    std::vector<std::string> warnings; // Warning header texts
};

enum class FieldValidation { strict, warn, ignore };

std::expected<FieldValidation, ApiError> field_validation(const Request& request) {
    const std::string mode = request.param("fieldValidation");
    if (mode.empty() || mode == "Warn") {
        return FieldValidation::warn;
    }
    if (mode == "Strict") {
        return FieldValidation::strict;
    }
    if (mode == "Ignore") {
        return FieldValidation::ignore;
    }
    return std::unexpected(
        bad_request("fieldValidation: Invalid value: " + go_quote(mode) +
                    ": fieldValidation must be one of \"Ignore\", \"Strict\", or \"Warn\""));
}

// Parses JSON and notes duplicate keys (path without list indices), as the strict decoder reports them.
json parse_json(const std::string& text, std::vector<std::string>& duplicates, std::string& error) {
    std::vector<std::set<std::string>> seen;
    std::vector<std::string> path;
    json::parser_callback_t callback = [&](int, json::parse_event_t event, json& parsed) {
        switch (event) {
        case json::parse_event_t::object_start:
            seen.emplace_back();
            path.emplace_back();
            break;
        case json::parse_event_t::object_end:
            seen.pop_back();
            path.pop_back();
            break;
        case json::parse_event_t::key: {
            const std::string key = parsed.get<std::string>();
            path.back() = key;
            if (!seen.back().insert(key).second) {
                std::string full;
                for (const auto& part : path) {
                    full += (full.empty() ? "" : ".") + part;
                }
                duplicates.push_back(full);
            }
            break;
        }
        default:
            break;
        }
        return true;
    };
    try {
        return json::parse(text, callback);
    } catch (const json::parse_error& e) {
        std::string what = e.what();
        if (auto close = what.find("] "); close != std::string::npos) {
            what = what.substr(close + 2);
        }
        error = what;
        return nullptr;
    }
}

std::string handled_as(const ResourceInfo& resource) {
    return resource.kind + " in version " + go_quote(resource.version) + " cannot be handled as a " +
           resource.kind + ": ";
}

// Checks a full object against its model with the request's fieldValidation. `from_patch` changes the
// error wording to what the patch handler says.
std::expected<Decoded, ApiError> check_object(const ResourceInfo& resource, json object, FieldValidation mode,
                                              std::vector<std::string> duplicates, bool from_patch) {
    const std::string prefix = from_patch ? "" : handled_as(resource);
    if (!object.is_object()) {
        return std::unexpected(bad_request(prefix + "json: cannot unmarshal " +
                                           std::string(object.type_name()) + " into Go value of type v1." +
                                           resource.kind));
    }
    const std::string api_version = object.value("apiVersion", "");
    const std::string kind = object.value("kind", "");
    if (!from_patch) {
        if (kind.empty()) {
            return std::unexpected(bad_request("Object 'Kind' is missing in '" + object.dump() + "'"));
        }
        if (api_version.empty()) {
            return std::unexpected(bad_request("Object 'apiVersion' is missing in '" + object.dump() + "'"));
        }
    }
    if (api_version != resource.group_version()) {
        return std::unexpected(bad_request("the API version in the data (" + api_version +
                                           ") does not match the expected API version (" +
                                           resource.group_version() + ")"));
    }
    if (kind != resource.kind) {
        return std::unexpected(bad_request("the kind in the data (" + kind +
                                           ") does not match the expected kind (" + resource.kind + ")"));
    }
    Decoded out;
    if (const auto* model = schema::Schema::instance().model_for_kind(api_version, kind)) {
        auto report = schema::decode(object, *model);
        if (report.error) {
            return std::unexpected(bad_request(prefix + *report.error));
        }
        if (auto error = lease_decode_error(resource, object)) {
            return std::unexpected(bad_request(prefix + *error));
        }
        std::vector<std::string> problems;
        for (const auto& field : report.unknown_fields) {
            problems.push_back("unknown field \"" + field + "\"");
        }
        for (const auto& field : duplicates) {
            problems.push_back("duplicate field \"" + field + "\"");
        }
        if (!problems.empty() && mode == FieldValidation::strict) {
            std::string joined;
            for (const auto& problem : problems) {
                joined += (joined.empty() ? "" : ", ") + problem;
            }
            return std::unexpected(bad_request(prefix + "strict decoding error: " + joined));
        }
        if (mode == FieldValidation::warn) {
            out.warnings = std::move(problems);
        }
    }
    out.object = std::move(object);
    return out;
}

std::expected<Decoded, ApiError> decode_request(const ApiServer::Call& call) {
    auto mode = field_validation(call.request);
    if (!mode) {
        return std::unexpected(mode.error());
    }
    const std::string type = media_type(call.request.content_type);
    std::vector<std::string> duplicates;
    json object;
    if (type == "application/yaml") {
        auto docs = yaml_documents(call.request.body, "request body");
        if (!docs || docs->size() != 1) {
            return std::unexpected(bad_request(
                handled_as(call.resource) +
                (docs ? std::string("expected exactly one YAML document") : docs.error().message)));
        }
        object = std::move(docs->front());
    } else if (type == "application/json" || type.empty()) {
        std::string error;
        object = parse_json(call.request.body, duplicates, error);
        if (!error.empty()) {
            return std::unexpected(bad_request("couldn't get version/kind; json parse error: " + error));
        }
    } else if (type == k_protobuf_media_type) {
        auto decoded = decode_protobuf(call.request.body);
        if (auto* error = std::get_if<ProtobufError>(&decoded)) {
            if (error->unsupported_kind) {
                return std::unexpected(
                    unsupported_media_type("application/json, application/yaml (" + error->message + ")"));
            }
            return std::unexpected(bad_request(handled_as(call.resource) + error->message));
        }
        object = std::move(std::get<json>(decoded));
    } else {
        return std::unexpected(unsupported_media_type(
            "application/json, application/yaml, application/vnd.kubernetes.protobuf"));
    }
    return check_object(call.resource, std::move(object), *mode, std::move(duplicates), false);
}

std::vector<std::pair<std::string, std::string>> warning_headers(const std::vector<std::string>& warnings) {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& warning : warnings) {
        // RFC 7234 warn-text is a quoted string.
        headers.emplace_back("Warning", "299 - " + go_quote(warning));
    }
    return headers;
}

Response with_warnings(Response response, const std::vector<std::string>& warnings) {
    auto headers = warning_headers(warnings);
    response.headers.insert(response.headers.end(), headers.begin(), headers.end());
    return response;
}

// Everything but metadata and status: what a spec change means for metadata.generation.
json spec_part(const json& object) {
    json out = object;
    out.erase("metadata");
    out.erase("status");
    return out;
}

// A stored copy without the fields that change on every write, to detect no-op updates.
json comparable(json object) {
    object["metadata"].erase("resourceVersion");
    object["metadata"].erase("managedFields");
    return object;
}

} // namespace

Response ApiServer::create(const Call& call) {
    auto decoded = decode_request(call);
    if (!decoded) {
        return decoded.error().to_response();
    }
    json object = std::move(decoded->object);
    if (!object.contains("metadata") || !object["metadata"].is_object()) {
        object["metadata"] = json::object();
    }
    json& meta = object["metadata"];
    if (call.resource.namespaced) {
        const std::string body_ns = meta.value("namespace", "");
        if (!body_ns.empty() && body_ns != call.ns) {
            return bad_request("the namespace of the provided object does not match the namespace sent on "
                               "the request")
                .to_response();
        }
        meta["namespace"] = call.ns;
    } else {
        meta.erase("namespace");
    }
    if (!meta.value("resourceVersion", "").empty()) {
        return internal_error("resourceVersion should not be set on objects to be created").to_response();
    }
    if (meta.value("name", "").empty() && !meta.value("generateName", "").empty()) {
        meta["name"] = meta["generateName"].get<std::string>() + random_suffix();
    }
    const std::string name = meta.value("name", "");
    if (call.resource.namespaced) {
        const json* ns = m_store.get(*find_resource("", "v1", "namespaces"), "", call.ns);
        if (ns == nullptr) {
            return namespace_not_found(call.ns).to_response();
        }
        if (child(*ns, "status").value("phase", "") == "Terminating") {
            return forbidden(&call.resource, name,
                             call.resource.qualified() + " " + go_quote(name) +
                                 " is forbidden: unable to create new content in namespace " + call.ns +
                                 " because it is being terminated")
                .to_response();
        }
    }
    apply_defaults(call.resource, object);
    meta.erase("uid");
    meta.erase("deletionTimestamp");
    meta.erase("deletionGracePeriodSeconds");
    meta.erase("selfLink");
    meta["uid"] = new_uid();
    meta["creationTimestamp"] = util::format_rfc3339(std::chrono::system_clock::now());
    if (call.resource.tracks_generation) {
        meta["generation"] = 1;
    }
    if (call.resource.kind == "Job" && !child(object, "spec").value("manualSelector", false) &&
        object["spec"].is_object()) {
        // The Job strategy selects the Job's Pods by its uid and labels the template to match.
        const std::string uid = meta["uid"];
        const std::string job_name = meta.value("name", "");
        object["spec"]["selector"] = {{"matchLabels", {{"batch.kubernetes.io/controller-uid", uid}}}};
        json& labels = object["spec"]["template"]["metadata"]["labels"];
        for (const auto& [key, value] : std::initializer_list<std::pair<const char*, std::string>>{
                 {"batch.kubernetes.io/controller-uid", uid},
                 {"batch.kubernetes.io/job-name", job_name},
                 {"controller-uid", uid},
                 {"job-name", job_name}}) {
            labels[key] = value;
        }
    }
    // Status is the controllers' business: a create starts from the empty (or initial) status.
    if (call.resource.kind == "Pod") {
        apply_pod_rules(object); // where a mutating admission webhook would act
        object["status"] = {{"phase", "Pending"}, {"qosClass", "BestEffort"}};
    } else if (call.resource.kind == "Namespace") {
        object["status"] = {{"phase", "Active"}};
    } else if (call.resource.kind == "Service") {
        object["status"] = {{"loadBalancer", json::object()}};
    } else if (call.resource.has_status() && call.resource.kind != "Node") {
        object["status"] = json::object();
    }
    if (auto causes = validate(call.resource, object, nullptr); !causes.empty()) {
        return invalid(call.resource, name, causes).to_response();
    }
    if (m_store.get(call.resource, call.ns, name) != nullptr) {
        return already_exists(call.resource, name).to_response();
    }
    const json none = nullptr;
    const AdmissionDecision admission =
        validating_admission(m_store, {"CREATE", call.resource, "", call.ns, name, object, none,
                                       call.request.identity, call.dry_run});
    if (admission.denied) {
        return admission.denied->to_response();
    }
    decoded->warnings.insert(decoded->warnings.end(), admission.warnings.begin(), admission.warnings.end());
    if (call.resource.kind == "Service") {
        if (auto error = allocate_service(object, nullptr, call.dry_run)) {
            return error->to_response();
        }
    }
    if (call.dry_run) {
        return with_warnings(Response::json_body(201, object), decoded->warnings);
    }
    const json& stored = m_store.put(call.resource, std::move(object));
    json answer = stored;
    after_create(call.resource, answer);
    return with_warnings(Response::json_body(201, answer), decoded->warnings);
}

Response ApiServer::update(const Call& call) {
    auto decoded = decode_request(call);
    if (!decoded) {
        return decoded.error().to_response();
    }
    const json* current = m_store.get(call.resource, call.ns, call.name);
    json object = std::move(decoded->object);
    const std::string body_name = child(object, "metadata").value("name", "");
    if (body_name != call.name) {
        return bad_request("the name of the object (" + body_name + ") does not match the name on the URL (" +
                           call.name + ")")
            .to_response();
    }
    if (current == nullptr) {
        return not_found(call.resource, call.name).to_response();
    }
    return commit_update(call, std::move(object), *current, std::move(decoded->warnings));
}

Response ApiServer::patch(const Call& call) {
    const json* current = m_store.get(call.resource, call.ns, call.name);
    if (current == nullptr) {
        return not_found(call.resource, call.name).to_response();
    }
    auto mode = field_validation(call.request);
    if (!mode) {
        return mode.error().to_response();
    }
    const std::string type = media_type(call.request.content_type);
    std::vector<std::string> duplicates;
    std::string parse_error;
    json patch_body = parse_json(call.request.body, duplicates, parse_error);
    if (!parse_error.empty()) {
        return bad_request("error decoding patch: " + parse_error).to_response();
    }
    util::Result<json> patched;
    if (type == "application/merge-patch+json") {
        patched = apply_merge_patch(*current, patch_body);
    } else if (type == "application/json-patch+json") {
        patched = apply_json_patch(*current, patch_body);
    } else if (type == "application/strategic-merge-patch+json") {
        patched = apply_strategic_merge_patch(
            *current, patch_body,
            schema::Schema::instance().model_for_kind(call.resource.group_version(), call.resource.kind));
    } else {
        return unsupported_media_type("application/json-patch+json, application/merge-patch+json, "
                                      "application/strategic-merge-patch+json")
            .to_response();
    }
    if (!patched) {
        if (patched.error().kind == util::ErrorKind::bad_request) {
            return bad_request(patched.error().message).to_response();
        }
        ApiError error;
        error.code = 422;
        error.reason = "Invalid";
        error.message = patched.error().message;
        error.details = json::object();
        return error.to_response();
    }
    auto checked = check_object(call.resource, std::move(*patched), *mode, std::move(duplicates), true);
    if (!checked) {
        return checked.error().to_response();
    }
    if (child(checked->object, "metadata").value("name", "") != call.name) {
        return bad_request("metadata.name: Invalid value: " +
                           go_quote(child(checked->object, "metadata").value("name", "")) +
                           ": field is immutable")
            .to_response();
    }
    return commit_update(call, std::move(checked->object), *current, std::move(checked->warnings));
}

Response ApiServer::commit_update(const Call& call, json object, const json& current_ref,
                                  std::vector<std::string> warnings) {
    const json current = current_ref; // the store may change below
    json& meta = object["metadata"];
    const std::string given_rv = meta.value("resourceVersion", "");
    const std::string current_rv = child(current, "metadata").value("resourceVersion", "");
    if (!given_rv.empty() && given_rv != current_rv) {
        return stale_conflict(call.resource, call.name).to_response();
    }
    if (call.resource.namespaced) {
        const std::string body_ns = meta.value("namespace", "");
        if (!body_ns.empty() && body_ns != call.ns) {
            return bad_request("the namespace of the provided object does not match the namespace sent on "
                               "the request")
                .to_response();
        }
        meta["namespace"] = call.ns;
    }
    const json& old_meta = child(current, "metadata");
    if (call.subresource == "status") {
        // The status subresource changes status only.
        json updated = current;
        updated["status"] = object.value("status", json::object());
        object = std::move(updated);
    } else {
        if (call.resource.has_status() && call.subresource.empty()) {
            if (current.contains("status")) {
                object["status"] = current["status"];
            } else {
                object.erase("status");
            }
        }
        if (call.subresource == "finalize") {
            json updated = current;
            updated["spec"]["finalizers"] = child(object, "spec").value("finalizers", json::array());
            object = std::move(updated);
        }
        for (const char* keep :
             {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"}) {
            if (old_meta.contains(keep)) {
                object["metadata"][keep] = old_meta[keep];
            } else {
                object["metadata"].erase(keep);
            }
        }
        apply_defaults(call.resource, object);
        if (call.resource.tracks_generation && spec_part(object) != spec_part(current)) {
            object["metadata"]["generation"] = old_meta.value("generation", 1) + 1;
        }
    }
    object["metadata"].erase("selfLink");
    object["metadata"]["resourceVersion"] = current_rv;
    if (auto causes = validate(call.resource, object, &current); !causes.empty()) {
        return invalid(call.resource, call.name, causes).to_response();
    }
    // Validating admission sees the complete new object (a patch already applied) and the stored one; a
    // refusal leaves the stored object as it was.
    const AdmissionDecision admission =
        validating_admission(m_store, {"UPDATE", call.resource, call.subresource, call.ns, call.name, object,
                                       current, call.request.identity, call.dry_run});
    if (admission.denied) {
        return admission.denied->to_response();
    }
    warnings.insert(warnings.end(), admission.warnings.begin(), admission.warnings.end());
    if (call.resource.kind == "Service") {
        if (auto error = allocate_service(object, &current, call.dry_run)) {
            return error->to_response();
        }
    }
    if (comparable(object) == comparable(current) || call.dry_run) {
        // No change: kube-apiserver skips the write and keeps the resourceVersion.
        return with_warnings(Response::json_body(200, object), warnings);
    }
    const bool deleting = old_meta.contains("deletionTimestamp");
    const bool namespace_held = call.resource.kind == "Namespace" &&
                                !child(object, "spec").value("finalizers", json::array()).empty();
    if (deleting && child(object, "metadata").value("finalizers", json::array()).empty() && !namespace_held) {
        // The last finalizer is gone: the pending deletion completes.
        m_store.put(call.resource, object);
        return with_warnings(Response::json_body(200, delete_now(call.resource, call.ns, call.name)),
                             warnings);
    }
    const json stored = m_store.put(call.resource, std::move(object));
    if (child(stored, "metadata").value("generation", 0) != old_meta.value("generation", 0)) {
        schedule(call.resource, stored);
    }
    return with_warnings(Response::json_body(200, stored), warnings);
}

} // namespace meshlink::fakekube
