#include "tests/fakekube/validation.hpp"

#include "tests/fakekube/leases.hpp"
#include "tests/fakekube/names.hpp"
#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/schema/schema.hpp"
#include "tests/fakekube/selectors.hpp"

#include <set>

namespace meshlink::fakekube {
namespace {

using Type = Cause::Type;

std::string render(const json& value) {
    if (value.is_string()) {
        return go_quote(value.get<std::string>());
    }
    return value.dump();
}

class Checker {
public:
    std::vector<Cause> causes;

    void required(const std::string& field, std::string detail = {}) {
        causes.push_back({Type::required, field, "", std::move(detail)});
    }
    void invalid(const std::string& field, const json& value, std::string detail) {
        causes.push_back({Type::invalid, field, render(value), std::move(detail)});
    }
    void not_supported(const std::string& field, const json& value,
                       const std::vector<std::string>& supported) {
        std::string list;
        for (const auto& s : supported) {
            list += (list.empty() ? "" : ", ") + go_quote(s);
        }
        causes.push_back({Type::not_supported, field, render(value), "supported values: " + list});
    }
    void duplicate(const std::string& field, const json& value) {
        causes.push_back({Type::duplicate, field, render(value), ""});
    }
    void forbidden(const std::string& field, std::string detail) {
        causes.push_back({Type::forbidden, field, "", std::move(detail)});
    }

    // Required fields of the API models outside status (status writers are controllers, not validated here).
    void required_fields(const json& value, const schema::Type& type, const std::string& path) {
        if (type.kind == schema::Type::Kind::list && value.is_array()) {
            for (size_t i = 0; i < value.size(); ++i) {
                required_fields(value[i], *type.element, path + "[" + std::to_string(i) + "]");
            }
        } else if (type.kind == schema::Type::Kind::map && value.is_object()) {
            for (const auto& [key, child] : value.items()) {
                required_fields(child, *type.element, path + "[" + key + "]");
            }
        } else if (type.kind == schema::Type::Kind::model && value.is_object()) {
            const schema::Model& model = *type.model;
            for (const auto& name : model.required) {
                if (!value.contains(name)) {
                    required(path.empty() ? name : path + "." + name);
                }
            }
            for (const auto& [key, child] : value.items()) {
                if (path.empty() && key == "status") {
                    continue;
                }
                if (const schema::Type* field = model.field(key)) {
                    required_fields(child, *field, path.empty() ? key : path + "." + key);
                }
            }
        }
    }

    void name(const ResourceInfo& resource, const json& metadata) {
        const std::string name = metadata.value("name", "");
        if (name.empty()) {
            if (metadata.value("generateName", "").empty()) {
                required("metadata.name", "name or generateName is required");
            }
            return;
        }
        std::string error;
        if (resource.plural == "namespaces") {
            error = dns1123_label_error(name);
        } else if (resource.plural == "services") {
            error = dns1035_label_error(name);
        } else if (resource.group == "rbac.authorization.k8s.io") {
            if (name == "." || name == "..") {
                error = "may not be '" + name + "'";
            } else if (name.find_first_of("/%") != std::string::npos) {
                error = "may not contain '/'";
            }
        } else {
            error = dns1123_subdomain_error(name);
        }
        if (!error.empty()) {
            invalid("metadata.name", name, error);
        }
    }

    void labels(const json& metadata) {
        if (auto it = metadata.find("labels"); it != metadata.end() && it->is_object()) {
            for (const auto& [key, value] : it->items()) {
                if (auto error = label_key_error(key); !error.empty()) {
                    invalid("metadata.labels", key, error);
                }
                if (value.is_string()) {
                    if (auto error = label_value_error(value.get<std::string>()); !error.empty()) {
                        invalid("metadata.labels", value, error);
                    }
                }
            }
        }
        if (auto it = metadata.find("annotations"); it != metadata.end() && it->is_object()) {
            for (const auto& [key, value] : it->items()) {
                (void)value;
                if (auto error = label_key_error(key); !error.empty()) {
                    invalid("metadata.annotations", key, error);
                }
            }
        }
    }

    void port_range(const std::string& field, const json& port) {
        if (port.is_number_integer() && (port.get<long long>() < 1 || port.get<long long>() > 65535)) {
            invalid(field, port, "must be between 1 and 65535, inclusive");
        }
    }

    // `template_path` is "spec" for a Pod, "spec.template.spec" for workloads.
    void pod_spec(const json& spec, const std::string& path,
                  const std::vector<std::string>& restart_policies) {
        if (!spec.is_object()) {
            required(path + ".containers");
            return;
        }
        const json containers = spec.value("containers", json::array());
        if (containers.empty()) {
            if (spec.contains("containers")) {
                required(path + ".containers");
            }
        }
        std::set<std::string> names;
        for (const char* list : {"initContainers", "containers"}) {
            const json items = spec.value(list, json::array());
            for (size_t i = 0; i < items.size(); ++i) {
                const std::string at = path + "." + list + "[" + std::to_string(i) + "]";
                const json& container = items[i];
                const std::string name = container.value("name", "");
                if (!name.empty()) {
                    if (auto error = dns1123_label_error(name); !error.empty()) {
                        invalid(at + ".name", name, error);
                    } else if (!names.insert(name).second) {
                        duplicate(at + ".name", name);
                    }
                }
                if (container.value("image", "").empty()) {
                    required(at + ".image");
                }
                const json ports = container.value("ports", json::array());
                for (size_t p = 0; p < ports.size(); ++p) {
                    const std::string port_at = at + ".ports[" + std::to_string(p) + "]";
                    port_range(port_at + ".containerPort", ports[p].value("containerPort", json(1)));
                    protocol(port_at + ".protocol", ports[p]);
                }
            }
        }
        if (!restart_policies.empty()) {
            if (!spec.contains("restartPolicy")) {
                required(path + ".restartPolicy", "valid values: \"OnFailure\", \"Never\"");
            } else if (std::find(restart_policies.begin(), restart_policies.end(),
                                 spec.value("restartPolicy", "")) == restart_policies.end()) {
                not_supported(path + ".restartPolicy", spec["restartPolicy"], restart_policies);
            }
        }
    }

    void protocol(const std::string& field, const json& port) {
        if (port.contains("protocol")) {
            const std::string value = port.value("protocol", "");
            if (value != "TCP" && value != "UDP" && value != "SCTP") {
                not_supported(field, port["protocol"], {"SCTP", "TCP", "UDP"});
            }
        }
    }

    void workload(const ResourceInfo& resource, const json& object, const json* old) {
        const json spec = object.value("spec", json::object());
        if (spec.contains("replicas") && spec["replicas"].is_number_integer() &&
            spec["replicas"].get<long long>() < 0) {
            invalid("spec.replicas", spec["replicas"], "must be greater than or equal to 0");
        }
        const json selector = spec.value("selector", json());
        const json tmpl = spec.value("template", json::object());
        const json template_labels = tmpl.value("metadata", json::object()).value("labels", json::object());
        if (resource.kind != "Job") {
            auto parsed = LabelSelector::from_object(selector);
            if (selector.is_object() && parsed && parsed->empty()) {
                invalid("spec.selector", selector, "empty selector is invalid for " + resource.singular);
            } else if (parsed && !parsed->empty() && !parsed->matches(template_labels)) {
                invalid("spec.template.metadata.labels", template_labels,
                        "`selector` does not match template `labels`");
            }
            if (old != nullptr && old->contains("spec") &&
                (*old)["spec"].value("selector", json()) != selector) {
                invalid("spec.selector", selector, "field is immutable");
            }
        }
        std::vector<std::string> policies = {"Always"};
        if (resource.kind == "Job") {
            policies = {"OnFailure", "Never"};
        }
        if (tmpl.contains("spec")) {
            if (resource.kind != "Job" && tmpl["spec"].contains("restartPolicy") &&
                tmpl["spec"].value("restartPolicy", "") != "Always") {
                not_supported("spec.template.spec.restartPolicy", tmpl["spec"]["restartPolicy"], {"Always"});
            }
            pod_spec(tmpl["spec"], "spec.template.spec",
                     resource.kind == "Job" ? policies : std::vector<std::string>{});
        }
    }

    void service(const json& object, const json* old) {
        const json spec = object.value("spec", json::object());
        const std::string type = spec.value("type", "ClusterIP");
        static const std::vector<std::string> k_types = {"ClusterIP", "ExternalName", "LoadBalancer",
                                                         "NodePort"};
        if (std::find(k_types.begin(), k_types.end(), type) == k_types.end()) {
            not_supported("spec.type", spec["type"], k_types);
            return;
        }
        const json ports = spec.value("ports", json::array());
        const std::string cluster_ip = spec.value("clusterIP", "");
        if (ports.empty() && type != "ExternalName" && cluster_ip != "None") {
            required("spec.ports");
        }
        if (type == "ExternalName" && spec.value("externalName", "").empty()) {
            required("spec.externalName");
        }
        std::set<std::string> names;
        for (size_t i = 0; i < ports.size(); ++i) {
            const std::string at = "spec.ports[" + std::to_string(i) + "]";
            const json& port = ports[i];
            const std::string name = port.value("name", "");
            if (name.empty() && ports.size() > 1) {
                required(at + ".name");
            } else if (!name.empty()) {
                if (auto error = dns1123_label_error(name); !error.empty()) {
                    invalid(at + ".name", name, error);
                } else if (!names.insert(name).second) {
                    duplicate(at + ".name", name);
                }
            }
            port_range(at + ".port", port.value("port", json(1)));
            protocol(at + ".protocol", port);
            if (port.contains("targetPort") && port["targetPort"].is_number_integer()) {
                port_range(at + ".targetPort", port["targetPort"]);
            }
            if (port.contains("nodePort") && port["nodePort"].is_number_integer() &&
                port["nodePort"].get<long long>() != 0) {
                if (type == "ClusterIP") {
                    forbidden(at + ".nodePort", "may not be used when `type` is 'ClusterIP'");
                } else if (port["nodePort"].get<long long>() < 30000 ||
                           port["nodePort"].get<long long>() > 32767) {
                    invalid(
                        at + ".nodePort", port["nodePort"],
                        "provided port is not in the valid range. The range of valid ports is 30000-32767");
                }
            }
        }
        if (old != nullptr) {
            const std::string old_ip = (*old).value("spec", json::object()).value("clusterIP", "");
            if (!cluster_ip.empty() && !old_ip.empty() && cluster_ip != old_ip && type != "ExternalName") {
                invalid("spec.clusterIPs[0]", cluster_ip, "may not change once set");
            }
        }
    }

    void config_keys(const json& object, const char* field) {
        if (auto it = object.find(field); it != object.end() && it->is_object()) {
            for (const auto& [key, value] : it->items()) {
                (void)value;
                if (key.size() > 253 || !names::is_config_key(key)) {
                    invalid(
                        std::string(field), key,
                        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
                        "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
                        "'[-._a-zA-Z0-9]+')");
                }
            }
        }
    }

    void immutable_data(const json& object, const json* old) {
        if (old == nullptr || !old->value("immutable", false)) {
            return;
        }
        for (const char* field : {"data", "binaryData", "stringData"}) {
            if (object.value(field, json()) != old->value(field, json())) {
                forbidden(field, "field is immutable when `immutable` is set");
            }
        }
        if (!object.value("immutable", false)) {
            forbidden("immutable", "field is immutable when `immutable` is set");
        }
    }
};

} // namespace

std::string dns1123_subdomain_error(std::string_view name) {
    if (name.size() > 253) {
        return "must be no more than 253 characters";
    }
    if (!names::is_dns1123_subdomain(name)) {
        return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
               "'.', and must "
               "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
               "is "
               "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    }
    return {};
}

std::string dns1123_label_error(std::string_view name) {
    if (name.size() > 63) {
        return "must be no more than 63 characters";
    }
    if (!names::is_dns1123_label(name)) {
        return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
               "must start "
               "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
               "validation is "
               "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    }
    return {};
}

std::string dns1035_label_error(std::string_view name) {
    if (name.size() > 63) {
        return "must be no more than 63 characters";
    }
    if (!names::is_dns1035_label(name)) {
        return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
               "alphabetic "
               "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used "
               "for "
               "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    }
    return {};
}

std::vector<Cause> validate(const ResourceInfo& resource, const json& object, const json* old) {
    Checker check;
    const json metadata = object.value("metadata", json::object());
    check.name(resource, metadata);
    check.labels(metadata);
    if (const auto* model =
            schema::Schema::instance().model_for_kind(resource.group_version(), resource.kind)) {
        schema::Type type;
        type.kind = schema::Type::Kind::model;
        type.model = model;
        check.required_fields(object, type, "");
    }
    const std::string& kind = resource.kind;
    if (kind == "Service") {
        check.service(object, old);
    } else if (kind == "Pod") {
        if (object.contains("spec")) {
            check.pod_spec(object["spec"], "spec", {"Always", "OnFailure", "Never"});
        } else {
            check.required("spec.containers");
        }
    } else if (kind == "Deployment" || kind == "DaemonSet" || kind == "Job") {
        check.workload(resource, object, old);
    } else if (kind == "ConfigMap" || kind == "Secret") {
        check.config_keys(object, "data");
        check.config_keys(object, kind == "Secret" ? "stringData" : "binaryData");
        check.immutable_data(object, old);
        if (kind == "Secret" && object.value("type", "") == "kubernetes.io/tls") {
            for (const char* key : {"tls.crt", "tls.key"}) {
                if (!object.value("data", json::object()).contains(key)) {
                    check.required(std::string("data[") + key + "]");
                }
            }
        }
    } else if (kind == "RoleBinding" || kind == "ClusterRoleBinding") {
        if (old != nullptr && old->value("roleRef", json()) != object.value("roleRef", json())) {
            check.invalid("roleRef", object.value("roleRef", json()), "cannot change roleRef");
        }
    } else if (kind == "Lease") {
        auto causes = lease_causes(object);
        check.causes.insert(check.causes.end(), causes.begin(), causes.end());
    } else if (kind == "EndpointSlice") {
        const json type = object.value("addressType", json(""));
        if (type.is_string() && !type.get<std::string>().empty() && type != "IPv4" && type != "IPv6" &&
            type != "FQDN") {
            check.not_supported("addressType", type, {"FQDN", "IPv4", "IPv6"});
        }
    }
    return check.causes;
}

} // namespace meshlink::fakekube
