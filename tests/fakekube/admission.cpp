// ValidatingAdmissionPolicy enforcement (admission.hpp). The decisions, messages and status codes follow
// kube-apiserver's validating policy plugin: a matching policy's matchConditions, variables and validations
// are evaluated per matching binding; a failed validation is a decision with the validation's reason
// (default Invalid) and message (messageExpression, else message, else "failed expression: ..."); an
// evaluation error is a Deny under failurePolicy Fail (default) and nothing under Ignore; the binding's
// validationActions turn a decision into a refusal (Deny) or a Warning header (Warn); Audit is accepted and
// has no effect (fakekube keeps no audit log). The first refusal answers the request.
#include "tests/fakekube/admission.hpp"

#include "tests/fakekube/cel.hpp"
#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/selectors.hpp"
#include "tests/fakekube/store.hpp"
#include "tests/fakekube/util.hpp"

#include <algorithm>

namespace meshlink::fakekube {
namespace {

// The identifiers a policy expression may use. `params` is always null (paramKind is not supported) and
// `authorizer` is not offered: an expression using it fails to compile.
const std::vector<std::string> k_names = {"object", "oldObject",       "request",
                                          "params", "namespaceObject", "variables"};

// Matches `value` against a rule list that may hold "*".
bool listed(const json& list, const std::string& value) {
    if (!list.is_array()) {
        return false;
    }
    return std::any_of(list.begin(), list.end(),
                       [&](const json& item) { return item.is_string() && (item == "*" || item == value); });
}

// A rule's resources entry against resource/subresource: "nodes", "nodes/status", "*", "*/*", "nodes/*",
// "*/status".
bool resource_listed(const json& resources, const std::string& plural, const std::string& subresource) {
    if (!resources.is_array()) {
        return false;
    }
    for (const auto& item : resources) {
        if (!item.is_string()) {
            continue;
        }
        const std::string entry = item.get<std::string>();
        const auto slash = entry.find('/');
        const std::string entry_resource = entry.substr(0, slash);
        const std::string entry_sub = slash == std::string::npos ? "" : entry.substr(slash + 1);
        if (entry_resource != "*" && entry_resource != plural) {
            continue;
        }
        if (slash == std::string::npos ? subresource.empty()
                                       : (entry_sub == "*" || entry_sub == subresource)) {
            return true;
        }
    }
    return false;
}

bool rule_matches(const json& rule, const AdmissionAttributes& request) {
    if (!listed(child(rule, "apiGroups"), request.resource.group) ||
        !listed(child(rule, "apiVersions"), request.resource.version) ||
        !listed(child(rule, "operations"), request.operation) ||
        !resource_listed(child(rule, "resources"), request.resource.plural, request.subresource)) {
        return false;
    }
    const std::string scope = rule.value("scope", "*");
    if ((scope == "Cluster" && request.resource.namespaced) ||
        (scope == "Namespaced" && !request.resource.namespaced)) {
        return false;
    }
    const json& names = child(rule, "resourceNames");
    if (names.is_array() && !names.empty() &&
        std::find(names.begin(), names.end(), json(request.name)) == names.end()) {
        return false;
    }
    return true;
}

const json& labels_of(const json& object) {
    return child(child(object, "metadata"), "labels");
}

// matchConstraints of a policy or matchResources of a binding. An empty (absent) one matches everything for a
// binding; a policy's must name resources. Returns an error text for a selector that cannot be parsed.
std::optional<std::string> resources_match(const Store& store, const json& match,
                                           const AdmissionAttributes& request, bool& matches) {
    matches = false;
    const json& rules = child(match, "resourceRules");
    if (!rules.is_array() || std::none_of(rules.begin(), rules.end(),
                                          [&](const json& rule) { return rule_matches(rule, request); })) {
        return std::nullopt;
    }
    const json& excluded = child(match, "excludeResourceRules");
    if (excluded.is_array() && std::any_of(excluded.begin(), excluded.end(),
                                           [&](const json& rule) { return rule_matches(rule, request); })) {
        return std::nullopt;
    }
    auto object_selector = LabelSelector::from_object(child(match, "objectSelector"));
    if (!object_selector) {
        return "objectSelector: " + object_selector.error().message;
    }
    if (!object_selector->empty() && !object_selector->matches(labels_of(request.object)) &&
        !object_selector->matches(labels_of(request.old_object))) {
        return std::nullopt;
    }
    auto namespace_selector = LabelSelector::from_object(child(match, "namespaceSelector"));
    if (!namespace_selector) {
        return "namespaceSelector: " + namespace_selector.error().message;
    }
    if (!namespace_selector->empty()) {
        json labels;
        if (request.resource.kind == "Namespace") {
            labels = labels_of(request.object.is_null() ? request.old_object : request.object);
        } else if (request.resource.namespaced) {
            if (const json* ns = store.get(*find_resource("", "v1", "namespaces"), "", request.ns)) {
                labels = labels_of(*ns);
            }
        } else {
            labels = nullptr; // cluster-scoped: the namespace selector does not apply
        }
        if ((request.resource.namespaced || request.resource.kind == "Namespace") &&
            !namespace_selector->matches(labels)) {
            return std::nullopt;
        }
    }
    matches = true;
    return std::nullopt;
}

json user_info(const Identity& user) {
    json info = json::object();
    if (!user.user.empty()) {
        info["username"] = user.user;
    }
    if (!user.uid.empty()) {
        info["uid"] = user.uid;
    }
    if (!user.groups.empty()) {
        info["groups"] = user.groups;
    }
    if (!user.extra.empty()) {
        info["extra"] = user.extra;
    }
    return info;
}

// The admission.k8s.io/v1 AdmissionRequest the expressions see as `request`.
json admission_request(const AdmissionAttributes& request) {
    const ResourceInfo& resource = request.resource;
    const json kind = {{"group", resource.group}, {"version", resource.version}, {"kind", resource.kind}};
    const json gvr = {
        {"group", resource.group}, {"version", resource.version}, {"resource", resource.plural}};
    static const std::map<std::string, std::string> k_options = {
        {"CREATE", "CreateOptions"}, {"UPDATE", "UpdateOptions"}, {"DELETE", "DeleteOptions"}};
    json out = {{"uid", new_uid()},
                {"kind", kind},
                {"resource", gvr},
                {"requestKind", kind},
                {"requestResource", gvr},
                {"operation", request.operation},
                {"userInfo", user_info(request.user)},
                {"dryRun", request.dry_run},
                {"options", {{"kind", k_options.at(request.operation)}, {"apiVersion", "meta.k8s.io/v1"}}}};
    if (!request.subresource.empty()) {
        out["subResource"] = request.subresource;
        out["requestSubResource"] = request.subresource;
    }
    if (!request.name.empty()) {
        out["name"] = request.name;
    }
    if (!request.ns.empty()) {
        out["namespace"] = request.ns;
    }
    return out;
}

struct Decision {
    bool deny = false;
    bool from_configuration = false; // configuration errors deny whatever the binding's actions say
    std::string reason;              // "" = Invalid
    std::string message;
};

// utilerrors.NewAggregate's text.
std::string aggregate(const std::vector<std::string>& errors) {
    if (errors.size() == 1) {
        return errors.front();
    }
    std::string out = "[";
    for (size_t i = 0; i < errors.size(); ++i) {
        out += (i == 0 ? "" : ", ") + errors[i];
    }
    return out + "]";
}

util::Result<json> evaluate(const std::string& expression, const cel::Activation& activation) {
    auto program = cel::Program::compile(expression, k_names);
    if (!program) {
        return util::fail(util::ErrorKind::invalid, "compilation error: " + program.error().message);
    }
    auto result = program->evaluate(activation);
    if (!result) {
        return util::fail(util::ErrorKind::invalid,
                          "expression '" + expression + "' resulted in error: " + result.error().message);
    }
    return result;
}

std::string trim(std::string text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
        return "";
    }
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// One policy under one binding: the decisions of its validations (none when a matchCondition is false).
std::vector<Decision> evaluate_policy(const json& spec, const json& request_json,
                                      const AdmissionAttributes& request, const json& namespace_object) {
    const bool fail_closed = spec.value("failurePolicy", "Fail") != "Ignore";
    cel::Activation activation;
    activation.values["object"] = request.object;
    activation.values["oldObject"] = request.old_object;
    activation.values["request"] = request_json;
    activation.values["params"] = nullptr;
    activation.values["namespaceObject"] = namespace_object;
    activation.values["variables"] = json::object();

    // Variables first: each may use the ones before it; one that fails is an error where it is used.
    for (const auto& variable : child(spec, "variables")) {
        const std::string name = variable.value("name", "");
        auto value = evaluate(variable.value("expression", ""), activation);
        if (value) {
            activation.values["variables"][name] = *value;
        } else {
            activation.field_errors["variables"][name] = value.error().message;
        }
    }

    std::vector<std::string> condition_errors;
    for (const auto& condition : child(spec, "matchConditions")) {
        auto value = evaluate(condition.value("expression", ""), activation);
        if (!value) {
            condition_errors.push_back(value.error().message);
        } else if (!value->is_boolean()) {
            condition_errors.push_back("matchCondition '" + condition.value("name", "") +
                                       "' must evaluate to bool, got " + value->type_name());
        } else if (!value->get<bool>()) {
            return {};
        }
    }
    if (!condition_errors.empty()) {
        if (!fail_closed) {
            return {};
        }
        return {Decision{true, false, "", aggregate(condition_errors)}};
    }

    std::vector<Decision> decisions;
    for (const auto& validation : child(spec, "validations")) {
        const std::string expression = validation.value("expression", "");
        auto value = evaluate(expression, activation);
        if (!value || !value->is_boolean()) {
            if (fail_closed) {
                decisions.push_back(Decision{true, false, "",
                                             value ? "expression '" + expression + "' must evaluate to bool"
                                                   : value.error().message});
            }
            continue;
        }
        if (value->get<bool>()) {
            continue;
        }
        Decision decision{true, false, validation.value("reason", ""), ""};
        if (const std::string message_expression = validation.value("messageExpression", "");
            !message_expression.empty()) {
            auto message = evaluate(message_expression, activation);
            if (message && message->is_string()) {
                std::string text = trim(message->get<std::string>());
                if (text.find('\n') == std::string::npos && text.size() <= 5000) {
                    decision.message = text;
                }
            }
        }
        if (decision.message.empty()) {
            decision.message = trim(validation.value("message", ""));
        }
        if (decision.message.empty()) {
            decision.message = "failed expression: " + trim(expression);
        }
        decisions.push_back(std::move(decision));
    }
    return decisions;
}

int reason_code(const std::string& reason) {
    if (reason == "Forbidden") {
        return 403;
    }
    if (reason == "Unauthorized") {
        return 401;
    }
    if (reason == "RequestEntityTooLarge") {
        return 413;
    }
    return 422;
}

ApiError refusal(const AdmissionAttributes& request, const std::string& policy, const std::string& binding,
                 const Decision& decision) {
    const std::string inner =
        binding.empty() ? "ValidatingAdmissionPolicy '" + policy + "' denied request: " + decision.message
                        : "ValidatingAdmissionPolicy '" + policy + "' with binding '" + binding +
                              "' denied request: " + decision.message;
    // admission.NewForbidden names the object (on CREATE the name from the object).
    std::string name = request.name;
    if (name.empty()) {
        name = child(child(request.object, "metadata"), "name").is_string()
                   ? request.object["metadata"]["name"].get<std::string>()
                   : "";
    }
    const std::string qualified = request.resource.qualified();
    ApiError error;
    error.reason = decision.reason.empty() ? "Invalid" : decision.reason;
    error.code = reason_code(error.reason);
    error.message = name.empty() ? qualified + " is forbidden: " + inner
                                 : qualified + " " + go_quote(name) + " is forbidden: " + inner;
    error.details = json::object();
    if (!name.empty()) {
        error.details["name"] = name;
    }
    if (!request.resource.group.empty()) {
        error.details["group"] = request.resource.group;
    }
    error.details["kind"] = request.resource.plural;
    error.details["causes"] = json::array({{{"message", inner}}});
    return error;
}

} // namespace

AdmissionDecision validating_admission(const Store& store, const AdmissionAttributes& request) {
    AdmissionDecision out;
    const ResourceInfo* policies =
        find_resource("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies");
    const ResourceInfo* bindings =
        find_resource("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings");
    if (policies == nullptr || bindings == nullptr) {
        return out; // switched off (--runtime-config), as on a server before 1.30
    }
    json namespace_object = nullptr;
    if (request.resource.namespaced && !request.ns.empty()) {
        if (const json* ns = store.get(*find_resource("", "v1", "namespaces"), "", request.ns)) {
            namespace_object = *ns;
        }
    }
    const json request_json = admission_request(request);
    for (const json* policy : store.list(*policies, "")) {
        const std::string policy_name = child(*policy, "metadata").value("name", "");
        const json& spec = child(*policy, "spec");
        const bool fail_closed = spec.value("failurePolicy", "Fail") != "Ignore";
        bool matches = false;
        if (auto error = resources_match(store, child(spec, "matchConstraints"), request, matches)) {
            if (fail_closed && !out.denied) {
                out.denied = refusal(request, policy_name, "",
                                     Decision{true, true, "", "failed to configure policy: " + *error});
            }
            continue;
        }
        if (!matches) {
            continue;
        }
        for (const json* binding : store.list(*bindings, "")) {
            const json& binding_spec = child(*binding, "spec");
            if (binding_spec.value("policyName", "") != policy_name) {
                continue;
            }
            const std::string binding_name = child(*binding, "metadata").value("name", "");
            if (const json& resources = child(binding_spec, "matchResources"); !resources.empty()) {
                bool binding_matches = false;
                json narrowed = resources;
                if (!narrowed.contains("resourceRules")) {
                    // A binding's matchResources without resourceRules narrows by selectors only.
                    narrowed["resourceRules"] = json::array({{{"apiGroups", {"*"}},
                                                              {"apiVersions", {"*"}},
                                                              {"operations", {"*"}},
                                                              {"resources", {"*", "*/*"}}}});
                }
                if (auto error = resources_match(store, narrowed, request, binding_matches)) {
                    if (fail_closed && !out.denied) {
                        out.denied =
                            refusal(request, policy_name, binding_name,
                                    Decision{true, true, "", "failed to configure binding: " + *error});
                    }
                    continue;
                }
                if (!binding_matches) {
                    continue;
                }
            }
            std::vector<Decision> decisions;
            if (!child(spec, "paramKind").empty() || !child(binding_spec, "paramRef").empty()) {
                // Params are not emulated: treated as a configuration error under the policy's failurePolicy.
                if (fail_closed) {
                    decisions.push_back(
                        Decision{true, true, "",
                                 "failed to configure binding: paramKind/paramRef are not supported by "
                                 "fakekube"});
                }
            } else {
                decisions = evaluate_policy(spec, request_json, request, namespace_object);
            }
            const json& actions = child(binding_spec, "validationActions");
            for (const auto& decision : decisions) {
                if (decision.from_configuration) {
                    if (!out.denied) {
                        out.denied = refusal(request, policy_name, binding_name, decision);
                    }
                    continue;
                }
                for (const auto& action : actions) {
                    if (action == "Deny" && !out.denied) {
                        out.denied = refusal(request, policy_name, binding_name, decision);
                    } else if (action == "Warn") {
                        out.warnings.push_back("Validation failed for ValidatingAdmissionPolicy '" +
                                               policy_name + "' with binding '" + binding_name +
                                               "': " + decision.message);
                    }
                }
            }
        }
    }
    return out;
}

} // namespace meshlink::fakekube
