// ServiceAccount tokens: the TokenRequest subresource (POST .../serviceaccounts/NAME/token, what `kubectl
// create token` and the kubelet's projected volumes ask for) and the authenticator for the tokens it issued.
//
// As kube-apiserver (>= 1.30) has it, a token authenticates as system:serviceaccount:NS:NAME with the groups
// system:serviceaccounts, system:serviceaccounts:NS and system:authenticated, uid = the ServiceAccount's uid;
// a token bound to a Pod also carries the user extras authentication.kubernetes.io/pod-name and pod-uid, and
// node-name and node-uid of the Node the Pod runs on (spec.nodeName when the token is issued). It stops
// authenticating when it expires or when the ServiceAccount or bound Pod is deleted (or replaced by one with
// another uid). The token itself is an opaque random string, not a signed JWT: nothing outside fakekube
// verifies it.
#include "tests/fakekube/apiserver.hpp"
#include "tests/fakekube/protobuf.hpp"
#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/util.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

namespace meshlink::fakekube {
namespace {

// kube-apiserver's --api-audiences default: the issuer, which clusters commonly leave at this URL.
const std::vector<std::string> k_api_audiences = {"https://kubernetes.default.svc.cluster.local"};
constexpr int64_t k_default_expiration_seconds = 3600; // TokenRequestSpec's defaulted expirationSeconds
constexpr int64_t k_min_expiration_seconds = 600;      // validation: "less than 10 minutes" is refused
constexpr int64_t k_max_expiration_seconds = int64_t{1} << 32;

constexpr std::string_view k_extra_prefix = "authentication.kubernetes.io/";

std::string random_token() {
    std::random_device device;
    std::string out = "fakekube-sa.";
    for (int i = 0; i < 8; ++i) {
        char chunk[9];
        std::snprintf(chunk, sizeof chunk, "%08x", static_cast<unsigned>(device()));
        out += chunk;
    }
    return out;
}

ApiError invalid_token_request(const std::string& name, const std::string& field, const std::string& value,
                               const std::string& detail) {
    return invalid(*find_resource("", "v1", "serviceaccounts"), name,
                   {Cause{Cause::Type::invalid, field, value, detail}});
}

} // namespace

Response ApiServer::token_request(const Call& call) {
    std::string parse_error;
    auto parsed = body_json(call.request, parse_error);
    json request = parsed ? *parsed : json();
    if (!request.is_object()) {
        return bad_request("couldn't get version/kind; json parse error: " +
                           (parse_error.empty() ? std::string("malformed TokenRequest") : parse_error))
            .to_response();
    }
    if (request.value("kind", "TokenRequest") != "TokenRequest" ||
        request.value("apiVersion", "authentication.k8s.io/v1") != "authentication.k8s.io/v1") {
        return bad_request("the API version in the data (" + request.value("apiVersion", "") +
                           ") does not match the expected API version (authentication.k8s.io/v1)")
            .to_response();
    }
    const json& spec = child(request, "spec");
    int64_t expiration = k_default_expiration_seconds;
    if (spec.contains("expirationSeconds") && !spec["expirationSeconds"].is_null()) {
        if (!spec["expirationSeconds"].is_number_integer()) {
            return bad_request(
                       "TokenRequest in version \"v1\" cannot be handled as a TokenRequest: json: cannot "
                       "unmarshal " +
                       std::string(spec["expirationSeconds"].type_name()) +
                       " into Go struct field TokenRequestSpec.spec.expirationSeconds of type int64")
                .to_response();
        }
        expiration = spec["expirationSeconds"].get<int64_t>();
        if (expiration < k_min_expiration_seconds) {
            return invalid_token_request(call.name, "spec.expirationSeconds", std::to_string(expiration),
                                         "may not specify a duration less than 10 minutes")
                .to_response();
        }
        if (expiration > k_max_expiration_seconds) {
            return invalid_token_request(call.name, "spec.expirationSeconds", std::to_string(expiration),
                                         "may not specify a duration larger than 2^32 seconds")
                .to_response();
        }
    }
    const ResourceInfo& service_accounts = *find_resource("", "v1", "serviceaccounts");
    const json* account = m_store.get(service_accounts, call.ns, call.name);
    if (account == nullptr) {
        return not_found(service_accounts, call.name).to_response();
    }
    IssuedToken issued;
    issued.ns = call.ns;
    issued.service_account = call.name;
    issued.service_account_uid = child(*account, "metadata").value("uid", "");
    const json& ref = child(spec, "boundObjectRef");
    if (!ref.empty()) {
        const std::string kind = ref.value("kind", "");
        const std::string api_version = ref.value("apiVersion", "");
        const std::string name = ref.value("name", "");
        if (kind != "Pod" || (api_version != "v1" && !api_version.empty())) {
            // kube-apiserver also binds to Secrets and Nodes; fakekube's callers bind to Pods only.
            return bad_request("cannot bind token to object of type " +
                               (api_version.empty() ? std::string("/") : api_version + ", ") +
                               "Kind=" + kind + " (fakekube binds tokens to Pods only)")
                .to_response();
        }
        const ResourceInfo& pods = *find_resource("", "v1", "pods");
        const json* pod = m_store.get(pods, call.ns, name);
        if (pod == nullptr) {
            return not_found(pods, name).to_response();
        }
        const std::string pod_account = child(*pod, "spec").value("serviceAccountName", "");
        if (pod_account != call.name) {
            return bad_request("cannot bind token for serviceaccount " + go_quote(call.name) +
                               " to pod running with different serviceaccount name.")
                .to_response();
        }
        issued.pod = name;
        issued.pod_uid = child(*pod, "metadata").value("uid", "");
        const std::string wanted_uid = ref.value("uid", "");
        if (!wanted_uid.empty() && wanted_uid != issued.pod_uid) {
            ApiError error;
            error.code = 409;
            error.reason = "Conflict";
            error.message = "Operation cannot be fulfilled on Pod " + go_quote(name) +
                            ": the UID in the bound object reference (" + wanted_uid +
                            ") does not match the UID in record (" + issued.pod_uid +
                            "). The object might have been deleted and then recreated";
            error.details = {{"name", name}, {"kind", "Pod"}};
            return error.to_response();
        }
        issued.node = child(*pod, "spec").value("nodeName", "");
        if (!issued.node.empty()) {
            if (const json* node = m_store.get(*find_resource("", "v1", "nodes"), "", issued.node)) {
                issued.node_uid = child(*node, "metadata").value("uid", "");
            }
        }
    }
    issued.audiences.clear();
    if (const json& audiences = child(spec, "audiences"); audiences.is_array()) {
        for (const auto& audience : audiences) {
            if (audience.is_string()) {
                issued.audiences.push_back(audience.get<std::string>());
            }
        }
    }
    if (issued.audiences.empty()) {
        issued.audiences = k_api_audiences;
    }
    issued.credential_id = "JTI=" + new_uid();
    const auto now = std::chrono::system_clock::now();
    issued.expires = now + std::chrono::seconds(expiration);

    json answer = {
        {"kind", "TokenRequest"},
        {"apiVersion", "authentication.k8s.io/v1"},
        {"metadata", {{"name", call.name}, {"namespace", call.ns}, {"creationTimestamp", nullptr}}},
        {"spec", {{"audiences", issued.audiences}, {"expirationSeconds", expiration}}}};
    if (!ref.empty()) {
        answer["spec"]["boundObjectRef"] = {
            {"kind", "Pod"}, {"apiVersion", "v1"}, {"name", issued.pod}, {"uid", issued.pod_uid}};
    }
    std::string token = random_token();
    answer["status"] = {
        {"token", token},
        {"expirationTimestamp",
         util::format_rfc3339(std::chrono::time_point_cast<std::chrono::seconds>(issued.expires))}};
    if (call.dry_run) {
        answer["status"]["token"] = "";
        return Response::json_body(201, answer);
    }
    m_tokens[std::move(token)] = std::move(issued);
    return Response::json_body(201, answer);
}

std::optional<Identity> ApiServer::authenticate_token(const std::string& token) {
    std::lock_guard lock(m_mutex);
    auto it = m_tokens.find(token);
    if (it == m_tokens.end()) {
        return std::nullopt;
    }
    const IssuedToken& issued = it->second;
    if (std::chrono::system_clock::now() >= issued.expires) {
        return std::nullopt;
    }
    if (std::none_of(issued.audiences.begin(), issued.audiences.end(), [](const std::string& audience) {
            return std::find(k_api_audiences.begin(), k_api_audiences.end(), audience) !=
                   k_api_audiences.end();
        })) {
        return std::nullopt;
    }
    const json* account =
        m_store.get(*find_resource("", "v1", "serviceaccounts"), issued.ns, issued.service_account);
    if (account == nullptr || child(*account, "metadata").value("uid", "") != issued.service_account_uid) {
        return std::nullopt;
    }
    Identity identity;
    identity.user = "system:serviceaccount:" + issued.ns + ":" + issued.service_account;
    identity.uid = issued.service_account_uid;
    identity.groups = {"system:serviceaccounts", "system:serviceaccounts:" + issued.ns,
                       "system:authenticated"};
    const std::string prefix(k_extra_prefix);
    identity.extra[prefix + "credential-id"] = {issued.credential_id};
    if (!issued.pod.empty()) {
        const json* pod = m_store.get(*find_resource("", "v1", "pods"), issued.ns, issued.pod);
        if (pod == nullptr || child(*pod, "metadata").value("uid", "") != issued.pod_uid) {
            return std::nullopt;
        }
        identity.extra[prefix + "pod-name"] = {issued.pod};
        identity.extra[prefix + "pod-uid"] = {issued.pod_uid};
        if (!issued.node.empty()) {
            identity.extra[prefix + "node-name"] = {issued.node};
            if (!issued.node_uid.empty()) {
                identity.extra[prefix + "node-uid"] = {issued.node_uid};
            }
        }
    }
    return identity;
}

} // namespace meshlink::fakekube
