#include "tests/fakekube/table.hpp"

#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/util.hpp"

#include <ctime>
#include <iomanip>
#include <sstream>

namespace meshlink::fakekube {
namespace {

struct Column {
    std::string name;
    std::string type;
    std::string format;
    int priority = 0;
};

std::string age_of(const json& object) {
    const std::string created = object.value("metadata", json::object()).value("creationTimestamp", "");
    std::tm tm{};
    std::istringstream in(created);
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
    if (created.empty() || in.fail()) {
        return "<unknown>";
    }
    const auto then = std::chrono::system_clock::from_time_t(timegm(&tm));
    return human_duration(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - then));
}

std::string str(const json& object, std::initializer_list<const char*> path,
                const std::string& fallback = "") {
    const json* node = &object;
    for (const char* key : path) {
        if (!node->is_object() || !node->contains(key)) {
            return fallback;
        }
        node = &(*node)[key];
    }
    if (node->is_string()) {
        return node->get<std::string>();
    }
    return node->is_null() ? fallback : node->dump();
}

long long num(const json& object, std::initializer_list<const char*> path) {
    const json* node = &object;
    for (const char* key : path) {
        if (!node->is_object() || !node->contains(key)) {
            return 0;
        }
        node = &(*node)[key];
    }
    return node->is_number() ? node->get<long long>() : 0;
}

std::vector<Column> columns_for(const ResourceInfo& resource) {
    const std::string& kind = resource.kind;
    if (kind == "Pod") {
        return {{"Name", "string", "name"}, {"Ready", "string", ""}, {"Status", "string", ""},
                {"Restarts", "string", ""}, {"Age", "string", ""},   {"IP", "string", "", 1},
                {"Node", "string", "", 1}};
    }
    if (kind == "Service") {
        return {{"Name", "string", "name"},    {"Type", "string", ""},    {"Cluster-IP", "string", ""},
                {"External-IP", "string", ""}, {"Port(s)", "string", ""}, {"Age", "string", ""},
                {"Selector", "string", "", 1}};
    }
    if (kind == "Deployment") {
        return {{"Name", "string", "name"},
                {"Ready", "string", ""},
                {"Up-to-date", "integer", ""},
                {"Available", "integer", ""},
                {"Age", "string", ""}};
    }
    if (kind == "DaemonSet") {
        return {{"Name", "string", "name"},      {"Desired", "integer", ""},    {"Current", "integer", ""},
                {"Ready", "integer", ""},        {"Up-to-date", "integer", ""}, {"Available", "integer", ""},
                {"Node Selector", "string", ""}, {"Age", "string", ""}};
    }
    if (kind == "Job") {
        return {{"Name", "string", "name"},
                {"Status", "string", ""},
                {"Completions", "string", ""},
                {"Duration", "string", ""},
                {"Age", "string", ""}};
    }
    if (kind == "ConfigMap") {
        return {{"Name", "string", "name"}, {"Data", "integer", ""}, {"Age", "string", ""}};
    }
    if (kind == "Secret") {
        return {{"Name", "string", "name"},
                {"Type", "string", ""},
                {"Data", "integer", ""},
                {"Age", "string", ""}};
    }
    if (kind == "Namespace") {
        return {{"Name", "string", "name"}, {"Status", "string", ""}, {"Age", "string", ""}};
    }
    if (kind == "Node") {
        return {{"Name", "string", "name"},
                {"Status", "string", ""},
                {"Roles", "string", ""},
                {"Age", "string", ""},
                {"Version", "string", ""}};
    }
    if (kind == "ServiceAccount") {
        return {{"Name", "string", "name"}, {"Secrets", "integer", ""}, {"Age", "string", ""}};
    }
    if (kind == "ReplicaSet") {
        return {{"Name", "string", "name"},
                {"Desired", "integer", ""},
                {"Current", "integer", ""},
                {"Ready", "integer", ""},
                {"Age", "string", ""}};
    }
    if (kind == "PodDisruptionBudget") {
        return {{"Name", "string", "name"},
                {"Min Available", "string", ""},
                {"Max Unavailable", "string", ""},
                {"Allowed Disruptions", "integer", ""},
                {"Age", "string", ""}};
    }
    if (kind == "ServiceCIDR") {
        return {{"Name", "string", "name"}, {"CIDRs", "string", ""}, {"Age", "string", ""}};
    }
    if (kind == "ValidatingAdmissionPolicyBinding") {
        return {{"Name", "string", "name"}, {"PolicyName", "string", ""}, {"Age", "string", ""}};
    }
    return {{"Name", "string", "name"}, {"Age", "string", ""}};
}

json cells_for(const ResourceInfo& resource, const json& object) {
    const std::string name = str(object, {"metadata", "name"});
    const std::string age = age_of(object);
    const std::string& kind = resource.kind;
    if (kind == "Pod") {
        const json statuses =
            object.value("status", json::object()).value("containerStatuses", json::array());
        const size_t total = object.value("spec", json::object()).value("containers", json::array()).size();
        long long ready = 0;
        long long restarts = 0;
        for (const auto& status : statuses) {
            ready += status.value("ready", false) ? 1 : 0;
            restarts += status.value("restartCount", 0);
        }
        // kubectl's STATUS: the reason of a waiting or terminated container, Terminating while deleting.
        std::string phase = str(object, {"status", "phase"}, "Pending");
        for (const auto& status : statuses) {
            const json& state = child(status, "state");
            for (const char* which : {"waiting", "terminated"}) {
                if (const std::string reason = child(state, which).value("reason", ""); !reason.empty()) {
                    phase = reason;
                }
            }
        }
        if (child(object, "metadata").contains("deletionTimestamp")) {
            phase = "Terminating";
        }
        return {name,
                std::to_string(ready) + "/" + std::to_string(total),
                phase,
                std::to_string(restarts),
                age,
                str(object, {"status", "podIP"}, "<none>"),
                str(object, {"spec", "nodeName"}, "<none>")};
    }
    if (kind == "Service") {
        std::string ports;
        for (const auto& port : object.value("spec", json::object()).value("ports", json::array())) {
            std::string one = std::to_string(port.value("port", 0));
            if (port.contains("nodePort")) {
                one += ":" + std::to_string(port.value("nodePort", 0));
            }
            one += "/" + port.value("protocol", std::string("TCP"));
            ports += (ports.empty() ? "" : ",") + one;
        }
        std::string selector;
        const json service_selector = child(child(object, "spec"), "selector");
        for (const auto& [key, value] : service_selector.items()) {
            selector += (selector.empty() ? "" : ",") + key + "=" + value.get<std::string>();
        }
        return {name,
                str(object, {"spec", "type"}, "ClusterIP"),
                str(object, {"spec", "clusterIP"}, "<none>"),
                "<none>",
                ports.empty() ? "<none>" : ports,
                age,
                selector.empty() ? "<none>" : selector};
    }
    if (kind == "Deployment") {
        return {name,
                std::to_string(num(object, {"status", "readyReplicas"})) + "/" +
                    std::to_string(num(object, {"spec", "replicas"})),
                num(object, {"status", "updatedReplicas"}), num(object, {"status", "availableReplicas"}),
                age};
    }
    if (kind == "DaemonSet") {
        std::string selector;
        const json node_selector =
            child(child(child(child(object, "spec"), "template"), "spec"), "nodeSelector");
        for (const auto& [key, value] : node_selector.items()) {
            selector += (selector.empty() ? "" : ",") + key + "=" + value.get<std::string>();
        }
        return {name,
                num(object, {"status", "desiredNumberScheduled"}),
                num(object, {"status", "currentNumberScheduled"}),
                num(object, {"status", "numberReady"}),
                num(object, {"status", "updatedNumberScheduled"}),
                num(object, {"status", "numberAvailable"}),
                selector.empty() ? "<none>" : selector,
                age};
    }
    if (kind == "Job") {
        const long long succeeded = num(object, {"status", "succeeded"});
        const long long completions = num(object, {"spec", "completions"});
        std::string status = "Running";
        for (const auto& condition :
             object.value("status", json::object()).value("conditions", json::array())) {
            if (condition.value("status", "") == "True" && condition.value("type", "") == "Complete") {
                status = "Complete";
            } else if (condition.value("status", "") == "True" && condition.value("type", "") == "Failed") {
                status = "Failed";
            }
        }
        return {name, status, std::to_string(succeeded) + "/" + std::to_string(completions), "0s", age};
    }
    if (kind == "ConfigMap") {
        return {name,
                object.value("data", json::object()).size() +
                    object.value("binaryData", json::object()).size(),
                age};
    }
    if (kind == "Secret") {
        return {name, str(object, {"type"}, "Opaque"), object.value("data", json::object()).size(), age};
    }
    if (kind == "Namespace") {
        return {name, str(object, {"status", "phase"}, "Active"), age};
    }
    if (kind == "Node") {
        std::string ready = "Unknown";
        for (const auto& condition :
             object.value("status", json::object()).value("conditions", json::array())) {
            if (condition.value("type", "") == "Ready") {
                ready = condition.value("status", "") == "True" ? "Ready" : "NotReady";
            }
        }
        if (child(object, "spec").value("unschedulable", false)) {
            ready += ",SchedulingDisabled";
        }
        std::string roles;
        const json labels = child(child(object, "metadata"), "labels");
        for (const auto& [key, value] : labels.items()) {
            (void)value;
            static const std::string k_prefix = "node-role.kubernetes.io/";
            if (key.rfind(k_prefix, 0) == 0) {
                roles += (roles.empty() ? "" : ",") + key.substr(k_prefix.size());
            }
        }
        return {name, ready, roles.empty() ? "<none>" : roles, age,
                str(object, {"status", "nodeInfo", "kubeletVersion"})};
    }
    if (kind == "ServiceAccount") {
        return {name, object.value("secrets", json::array()).size(), age};
    }
    if (kind == "ReplicaSet") {
        return {name, num(object, {"spec", "replicas"}), num(object, {"status", "replicas"}),
                num(object, {"status", "readyReplicas"}), age};
    }
    if (kind == "PodDisruptionBudget") {
        return {name, str(object, {"spec", "minAvailable"}, "N/A"),
                str(object, {"spec", "maxUnavailable"}, "N/A"), num(object, {"status", "disruptionsAllowed"}),
                age};
    }
    if (kind == "ServiceCIDR") {
        std::string cidrs;
        for (const auto& cidr :
             child(child(object, "spec"), "cidrs").is_array() ? object["spec"]["cidrs"] : json::array()) {
            cidrs += (cidrs.empty() ? "" : ",") + cidr.get<std::string>();
        }
        return {name, cidrs, age};
    }
    if (kind == "ValidatingAdmissionPolicyBinding") {
        return {name, str(object, {"spec", "policyName"}), age};
    }
    return {name, age};
}

} // namespace

std::string human_duration(std::chrono::seconds age) {
    long long seconds = age.count();
    if (seconds < 0) {
        seconds = 0;
    }
    if (seconds < 120) {
        return std::to_string(seconds) + "s";
    }
    const long long minutes = seconds / 60;
    if (minutes < 10) {
        return seconds % 60 == 0 ? std::to_string(minutes) + "m"
                                 : std::to_string(minutes) + "m" + std::to_string(seconds % 60) + "s";
    }
    if (minutes < 180) {
        return std::to_string(minutes) + "m";
    }
    const long long hours = minutes / 60;
    if (hours < 8) {
        return minutes % 60 == 0 ? std::to_string(hours) + "h"
                                 : std::to_string(hours) + "h" + std::to_string(minutes % 60) + "m";
    }
    if (hours < 48) {
        return std::to_string(hours) + "h";
    }
    if (hours < 24 * 8) {
        return hours % 24 == 0 ? std::to_string(hours / 24) + "d"
                               : std::to_string(hours / 24) + "d" + std::to_string(hours % 24) + "h";
    }
    if (hours < 24 * 365 * 2) {
        return std::to_string(hours / 24) + "d";
    }
    return std::to_string(hours / 24 / 365) + "y";
}

json partial_metadata(const json& object) {
    return {{"kind", "PartialObjectMetadata"},
            {"apiVersion", "meta.k8s.io/v1"},
            {"metadata", object.value("metadata", json::object())}};
}

json make_table(const ResourceInfo& resource, const std::vector<json>& objects, const json& list_metadata,
                const std::string& include) {
    json definitions = json::array();
    for (const auto& column : columns_for(resource)) {
        definitions.push_back(
            {{"name", column.name},
             {"type", column.type},
             {"format", column.format},
             {"description", column.name == "Name" ? "Name must be unique within a namespace." : ""},
             {"priority", column.priority}});
    }
    json rows = json::array();
    for (const auto& object : objects) {
        json row = {{"cells", cells_for(resource, object)}};
        if (include == "Object") {
            row["object"] = object;
        } else if (include != "None") {
            row["object"] = partial_metadata(object);
        }
        rows.push_back(row);
    }
    return {{"kind", "Table"},
            {"apiVersion", "meta.k8s.io/v1"},
            {"metadata", list_metadata},
            {"columnDefinitions", definitions},
            {"rows", rows}};
}

} // namespace meshlink::fakekube
