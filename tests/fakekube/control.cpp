// The test-facing control endpoints (/fakekube/v1/...): what kubelet and the node lifecycle controller would
// report, set from a test in one request. Each writes the scripting annotations (scripting.hpp) and lets the
// controllers apply them at once, so the answer already shows the new status.
#include "tests/fakekube/apiserver.hpp"
#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/scripting.hpp"
#include "tests/fakekube/util.hpp"
#include "util/time.hpp"

#include <algorithm>

namespace meshlink::fakekube {
namespace {

std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < path.size()) {
        size_t slash = path.find('/', start);
        if (slash == std::string::npos) {
            slash = path.size();
        }
        if (slash > start) {
            out.push_back(path.substr(start, slash - start));
        }
        start = slash + 1;
    }
    return out;
}

Response control_error(int status, const std::string& message) {
    return Response::json_body(status, {{"error", message}});
}

void set_annotation(json& object, const std::string& key, const std::optional<std::string>& value) {
    json& annotations = object["metadata"]["annotations"];
    if (!annotations.is_object()) {
        annotations = json::object();
    }
    if (value) {
        annotations[key] = *value;
    } else {
        annotations.erase(key);
    }
    if (annotations.empty()) {
        object["metadata"].erase("annotations");
    }
}

// The node lifecycle controller's view of readiness: the Ready condition and the not-ready NoSchedule taint.
void set_node_ready(json& node, bool ready) {
    const std::string time = util::format_rfc3339(std::chrono::system_clock::now());
    json& conditions = node["status"]["conditions"];
    if (!conditions.is_array()) {
        conditions = json::array();
    }
    json next = {{"type", "Ready"},
                 {"status", ready ? "True" : "False"},
                 {"lastHeartbeatTime", time},
                 {"lastTransitionTime", time},
                 {"reason", ready ? "KubeletReady" : "KubeletNotReady"},
                 {"message", ready ? "kubelet is posting ready status"
                                   : "container runtime network not ready (set by fakekube)"}};
    bool found = false;
    for (auto& condition : conditions) {
        if (condition.value("type", "") == "Ready") {
            if (condition.value("status", "") == next["status"] && condition.contains("lastTransitionTime")) {
                next["lastTransitionTime"] = condition["lastTransitionTime"];
            }
            condition = next;
            found = true;
        }
    }
    if (!found) {
        conditions.push_back(next);
    }
    json& taints = node["spec"]["taints"];
    if (!taints.is_array()) {
        taints = json::array();
    }
    const std::string key = "node.kubernetes.io/not-ready";
    taints.erase(std::remove_if(taints.begin(), taints.end(),
                                [&](const json& taint) { return taint.value("key", "") == key; }),
                 taints.end());
    if (!ready) {
        taints.push_back({{"key", key}, {"effect", "NoSchedule"}, {"timeAdded", time}});
    }
    if (taints.empty()) {
        node["spec"].erase("taints");
    }
}

} // namespace

Response ApiServer::control(const Request& request) {
    std::lock_guard lock(m_mutex);
    const auto parts = split(request.path); // fakekube v1 ...
    if (parts.size() < 3 || parts[0] != "fakekube" || parts[1] != "v1") {
        return Response::text(404, "404 page not found\n");
    }
    if (parts.size() == 3 && parts[2] == "pod-rules") {
        return pod_rules_control(request);
    }
    if (parts.size() == 3 && parts[2] == "execs") {
        if (request.method == "DELETE") {
            m_execs.clear();
        }
        return Response::json_body(200, {{"execs", m_execs}});
    }
    if (parts.size() == 3 && parts[2] == "writes") {
        if (request.method == "DELETE") {
            m_writes.clear();
            m_writes_dropped = 0;
        }
        // Filters: resource (plural), namespace, name, verb; each exact when given.
        json writes = json::array();
        for (const json& entry : m_writes) {
            bool keep = true;
            for (const char* key : {"resource", "namespace", "name", "verb"}) {
                const std::string wanted = request.param(key);
                keep = keep && (wanted.empty() || entry.value(key, "") == wanted);
            }
            if (keep) {
                writes.push_back(entry);
            }
        }
        return Response::json_body(200, {{"writes", std::move(writes)}, {"dropped", m_writes_dropped}});
    }
    if (request.method != "POST") {
        return control_error(405, "the control endpoints take POST");
    }
    const ResourceInfo& nodes = *find_resource("", "v1", "nodes");
    const ResourceInfo& pods = *find_resource("", "v1", "pods");
    // nodes/NAME/{ready,not-ready}
    if (parts.size() == 5 && parts[2] == "nodes") {
        const json* current = m_store.get(nodes, "", parts[3]);
        if (current == nullptr) {
            return control_error(404, "node " + go_quote(parts[3]) + " not found");
        }
        if (parts[4] != "ready" && parts[4] != "not-ready") {
            return control_error(404, "unknown node action " + go_quote(parts[4]) + " (ready, not-ready)");
        }
        const bool ready = parts[4] == "ready";
        json node = *current;
        set_annotation(node, script::k_ready, ready ? std::nullopt : std::optional<std::string>("false"));
        set_node_ready(node, ready);
        const json stored = m_store.put(nodes, std::move(node));
        // Pods on the node follow (MarkPodsNotReady; kubelet's probes when it is back).
        for (const json* pod : m_store.list(pods, "")) {
            if (child(*pod, "spec").value("nodeName", "") == parts[3]) {
                sync_now(pods, *pod);
            }
        }
        return Response::json_body(200, stored);
    }
    // namespaces/NS/pods/NAME/{ready,not-ready,exit,log}
    if (parts.size() != 7 || parts[2] != "namespaces" || parts[4] != "pods") {
        return control_error(404, "no control endpoint at " + request.path);
    }
    const json* current = m_store.get(pods, parts[3], parts[5]);
    if (current == nullptr) {
        return control_error(404, "pod " + parts[3] + "/" + parts[5] + " not found");
    }
    json pod = *current;
    const std::string container = request.param("container");
    if (!container.empty()) {
        const json containers = child(pod, "spec").value("containers", json::array());
        if (std::none_of(containers.begin(), containers.end(),
                         [&](const json& c) { return c.value("name", "") == container; })) {
            return control_error(400, "pod " + parts[5] + " has no container " + go_quote(container));
        }
    }
    const std::string suffix = container.empty() ? "" : "." + container;
    const std::string& action = parts[6];
    if (action == "ready" || action == "not-ready") {
        set_annotation(pod, script::k_ready,
                       action == "ready" ? std::nullopt : std::optional<std::string>("false"));
    } else if (action == "exit") {
        const std::string code = request.param("code").empty() ? "0" : request.param("code");
        if (code.find_first_not_of("0123456789") != std::string::npos || code.size() > 3) {
            return control_error(400, "code must be an exit code 0-255, not " + go_quote(code));
        }
        set_annotation(pod, std::string(script::k_exit_code) + suffix, code);
    } else if (action == "log") {
        const std::string key = std::string(script::k_log) + suffix;
        set_annotation(pod, key, child(child(pod, "metadata"), "annotations").value(key, "") + request.body);
    } else {
        return control_error(404,
                             "unknown pod action " + go_quote(action) + " (ready, not-ready, exit, log)");
    }
    const json stored = m_store.put(pods, std::move(pod));
    if (action != "log") {
        sync_pod(stored);
    }
    return Response::json_body(200, *m_store.get(pods, parts[3], parts[5]));
}

namespace {

json rule_json(const script::PodRule& rule) {
    return {{"namespace", rule.ns},
            {"selector", rule.selector},
            {"image", rule.image},
            {"annotations", rule.annotations}};
}

} // namespace

// pod-rules: GET lists them, DELETE clears them, POST adds one (caller holds m_mutex).
Response ApiServer::pod_rules_control(const Request& request) {
    if (request.method == "POST") {
        const json body = json::parse(request.body, nullptr, false);
        if (!body.is_object()) {
            return control_error(400, "a pod rule is a JSON object: {\"namespace\", \"selector\", \"image\", "
                                      "\"annotations\": {...}}");
        }
        script::PodRule rule;
        for (const auto& [key, value] : body.items()) {
            if (key == "annotations") {
                if (!value.is_object() || value.empty()) {
                    return control_error(400, "annotations must be a non-empty object of strings");
                }
                for (const auto& [name, text] : value.items()) {
                    if (!text.is_string()) {
                        return control_error(400, "annotation " + go_quote(name) + " must be a string");
                    }
                }
                rule.annotations = value;
            } else if ((key == "namespace" || key == "selector" || key == "image") && value.is_string()) {
                (key == "namespace" ? rule.ns : key == "selector" ? rule.selector : rule.image) = value;
            } else {
                return control_error(400, "unknown or non-string pod rule field " + go_quote(key));
            }
        }
        if (rule.annotations.empty()) {
            return control_error(400, "a pod rule needs annotations");
        }
        if (auto parsed = LabelSelector::parse(rule.selector); !parsed) {
            return control_error(400, "selector: " + parsed.error().message);
        }
        m_pod_rules.push_back(std::move(rule));
    } else if (request.method == "DELETE") {
        m_pod_rules.clear();
    } else if (request.method != "GET") {
        return control_error(405, "pod-rules takes GET, POST and DELETE");
    }
    json rules = json::array();
    for (const auto& rule : m_pod_rules) {
        rules.push_back(rule_json(rule));
    }
    return Response::json_body(200, {{"rules", rules}});
}

void ApiServer::apply_pod_rules(json& pod) const {
    const json& metadata = child(pod, "metadata");
    for (const auto& rule : m_pod_rules) {
        if (!rule.ns.empty() && metadata.value("namespace", "") != rule.ns) {
            continue;
        }
        auto selector = LabelSelector::parse(rule.selector);
        if (!selector || !selector->matches(child(metadata, "labels"))) {
            continue;
        }
        if (!rule.image.empty()) {
            const json containers = child(pod, "spec").value("containers", json::array());
            if (std::none_of(containers.begin(), containers.end(),
                             [&](const json& c) { return c.value("image", "") == rule.image; })) {
                continue;
            }
        }
        json& annotations = pod["metadata"]["annotations"];
        if (!annotations.is_object()) {
            annotations = json::object();
        }
        for (const auto& [key, value] : rule.annotations.items()) {
            if (!annotations.contains(key)) {
                annotations[key] = value;
            }
        }
    }
}

} // namespace meshlink::fakekube
