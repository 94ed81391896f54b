#include "tests/fakekube/defaulting.hpp"

#include "tests/fakekube/resources.hpp"

namespace meshlink::fakekube {
namespace {

void set_default(json& object, const char* key, json value) {
    if (!object.contains(key) || object[key].is_null()) {
        object[key] = std::move(value);
    }
}

void default_container(json& container) {
    if (!container.is_object()) {
        return;
    }
    const std::string image = container.value("image", "");
    const auto colon = image.rfind(':');
    const bool latest = colon == std::string::npos || image.find('/', colon) != std::string::npos ||
                        image.substr(colon + 1) == "latest";
    if (image.find('@') == std::string::npos) {
        set_default(container, "imagePullPolicy", latest ? "Always" : "IfNotPresent");
    } else {
        set_default(container, "imagePullPolicy", "IfNotPresent");
    }
    set_default(container, "terminationMessagePath", "/dev/termination-log");
    set_default(container, "terminationMessagePolicy", "File");
    if (container.contains("ports") && container["ports"].is_array()) {
        for (auto& port : container["ports"]) {
            if (port.is_object()) {
                set_default(port, "protocol", "TCP");
            }
        }
    }
}

void default_pod_spec(json& spec) {
    if (!spec.is_object()) {
        return;
    }
    set_default(spec, "restartPolicy", "Always");
    set_default(spec, "dnsPolicy", "ClusterFirst");
    set_default(spec, "schedulerName", "default-scheduler");
    set_default(spec, "terminationGracePeriodSeconds", 30);
    set_default(spec, "securityContext", json::object());
    for (const char* list : {"containers", "initContainers"}) {
        if (spec.contains(list) && spec[list].is_array()) {
            for (auto& container : spec[list]) {
                default_container(container);
            }
        }
    }
}

void default_template(json& object) {
    if (object.contains("spec") && object["spec"].is_object() && object["spec"].contains("template") &&
        object["spec"]["template"].is_object()) {
        auto& tmpl = object["spec"]["template"];
        if (tmpl.contains("spec")) {
            default_pod_spec(tmpl["spec"]);
        }
    }
}

// The object's spec, or nullptr; never creates one.
json* spec_of(json& object) {
    auto it = object.find("spec");
    return it != object.end() && it->is_object() ? &*it : nullptr;
}

void default_service(json& object) {
    json* spec_ptr = spec_of(object);
    if (spec_ptr == nullptr) {
        return;
    }
    json& spec = *spec_ptr;
    set_default(spec, "type", "ClusterIP");
    set_default(spec, "sessionAffinity", "None");
    const std::string type = spec["type"].is_string() ? spec["type"].get<std::string>() : "";
    if (type == "ExternalName") {
        return;
    }
    set_default(spec, "ipFamilies", json::array({"IPv4"}));
    set_default(spec, "ipFamilyPolicy", "SingleStack");
    set_default(spec, "internalTrafficPolicy", "Cluster");
    if (type == "NodePort" || type == "LoadBalancer") {
        set_default(spec, "externalTrafficPolicy", "Cluster");
    }
    if (spec.contains("ports") && spec["ports"].is_array()) {
        for (auto& port : spec["ports"]) {
            if (!port.is_object()) {
                continue;
            }
            set_default(port, "protocol", "TCP");
            if (port.contains("port")) {
                set_default(port, "targetPort", port["port"]);
            }
        }
    }
}

} // namespace

void apply_defaults(const ResourceInfo& resource, json& object) {
    if (!object.contains("metadata") || !object["metadata"].is_object()) {
        object["metadata"] = json::object();
    }
    const std::string& kind = resource.kind;
    if (kind == "Service") {
        default_service(object);
    } else if (kind == "Pod") {
        if (json* spec_ptr = spec_of(object); spec_ptr != nullptr) {
            json& spec = *spec_ptr;
            default_pod_spec(spec);
            // The ServiceAccount admission plugin.
            set_default(spec, "serviceAccountName", "default");
            set_default(spec, "serviceAccount", spec["serviceAccountName"]);
            set_default(spec, "enableServiceLinks", true);
            set_default(spec, "priority", 0);
        }
    } else if (kind == "Deployment") {
        if (json* spec_ptr = spec_of(object); spec_ptr != nullptr) {
            json& spec = *spec_ptr;
            set_default(spec, "replicas", 1);
            set_default(spec, "revisionHistoryLimit", 10);
            set_default(spec, "progressDeadlineSeconds", 600);
            set_default(spec, "strategy", json::object());
            if (spec["strategy"].is_object()) {
                set_default(spec["strategy"], "type", "RollingUpdate");
            }
            if (spec["strategy"].value("type", "") == "RollingUpdate") {
                set_default(spec["strategy"], "rollingUpdate",
                            json{{"maxUnavailable", "25%"}, {"maxSurge", "25%"}});
            }
        }
        default_template(object);
    } else if (kind == "DaemonSet") {
        if (json* spec_ptr = spec_of(object); spec_ptr != nullptr) {
            json& spec = *spec_ptr;
            set_default(spec, "revisionHistoryLimit", 10);
            set_default(spec, "updateStrategy", json{{"type", "RollingUpdate"}});
            if (spec["updateStrategy"].value("type", "") == "RollingUpdate") {
                set_default(spec["updateStrategy"], "rollingUpdate",
                            json{{"maxUnavailable", 1}, {"maxSurge", 0}});
            }
        }
        default_template(object);
    } else if (kind == "Job") {
        if (json* spec_ptr = spec_of(object); spec_ptr != nullptr) {
            json& spec = *spec_ptr;
            set_default(spec, "completions", 1);
            set_default(spec, "parallelism", 1);
            set_default(spec, "backoffLimit", 6);
            set_default(spec, "completionMode", "NonIndexed");
            set_default(spec, "suspend", false);
        }
        if (json* spec_ptr = spec_of(object); spec_ptr != nullptr && spec_ptr->contains("template") &&
                                              (*spec_ptr)["template"].is_object() &&
                                              (*spec_ptr)["template"].contains("spec")) {
            // A Job's pods must not restart forever: no Always default there; validation asks for one.
            json& pod = object["spec"]["template"]["spec"];
            const bool had_policy = pod.is_object() && pod.contains("restartPolicy");
            default_pod_spec(pod);
            if (!had_policy && pod.is_object()) {
                pod.erase("restartPolicy");
            }
        }
    } else if (kind == "Secret") {
        set_default(object, "type", "Opaque");
    } else if (kind == "Namespace") {
        object["metadata"]["labels"]["kubernetes.io/metadata.name"] = object["metadata"].value("name", "");
        // The namespace strategy gives every new namespace the "kubernetes" finalizer, which the namespace
        // controller removes once the content is gone.
        set_default(object, "spec", json::object());
        if (object["spec"].is_object()) {
            set_default(object["spec"], "finalizers", json::array({"kubernetes"}));
        }
    }
}

} // namespace meshlink::fakekube
