// The scheduler and kubelet for fakekube's Pods: bind a Pending Pod to a Node, run its containers, let them
// exit as scripted (scripting.hpp), and the script annotations' readers.
#include "tests/fakekube/apiserver.hpp"
#include "tests/fakekube/controller_util.hpp"
#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/scripting.hpp"
#include "tests/fakekube/util.hpp"
#include "util/time.hpp"

#include <algorithm>

namespace meshlink::fakekube {

using namespace controller;

void ApiServer::sync_pod(json pod) {
    if (deleting(pod) || terminal(pod)) {
        return;
    }
    json& spec = pod["spec"];
    const std::string time = now_text();
    if (spec.value("nodeName", "").empty()) {
        // The scheduler: a schedulable, Ready Node matching nodeSelector, with the fewest Pods.
        const json& wanted = child(spec, "nodeSelector");
        std::string best;
        size_t best_count = 0;
        for (const json* node : m_store.list(kind_info("", "nodes"), "")) {
            if (child(*node, "spec").value("unschedulable", false) || script::not_ready(*node)) {
                continue;
            }
            const json& labels = child(meta(*node), "labels");
            bool fits = true;
            for (const auto& [label, value] : wanted.items()) {
                fits = fits && labels.contains(label) && labels[label] == value;
            }
            if (!fits) {
                continue;
            }
            const std::string name = meta(*node).value("name", "");
            size_t count = 0;
            for (const json* other : m_store.list(pods_info(), "")) {
                count += child(*other, "spec").value("nodeName", "") == name ? 1 : 0;
            }
            if (best.empty() || count < best_count) {
                best = name;
                best_count = count;
            }
        }
        if (best.empty()) {
            json unschedulable =
                condition("PodScheduled", false, "Unschedulable",
                          "0/" + std::to_string(m_store.list(kind_info("", "nodes"), "").size()) +
                              " nodes are available: no schedulable node fits the pod.",
                          false);
            unschedulable["lastProbeTime"] = nullptr;
            json status = {{"phase", "Pending"},
                           {"conditions", json::array({unschedulable})},
                           {"qosClass", child(pod, "status").value("qosClass", "BestEffort")}};
            if (child(pod, "status") != status) {
                pod["status"] = status;
                m_store.put(pods_info(), std::move(pod));
            }
            return;
        }
        spec["nodeName"] = best;
    }
    const bool was_running = phase_of(pod) == "Running";
    const json* node = m_store.get(kind_info("", "nodes"), "", spec.value("nodeName", ""));
    // A Pod on a NotReady Node is not ready either (the node lifecycle controller's MarkPodsNotReady).
    const bool ready = !script::not_ready(pod) && (node == nullptr || !script::not_ready(*node));
    const std::string restart = spec.value("restartPolicy", "Always");
    json statuses = json::array();
    bool all_exited = true;
    bool any_failed = false;
    for (const auto& container : spec.value("containers", json::array())) {
        const std::string name = container.value("name", "");
        std::optional<int> code = script::exit_code(pod, name);
        if (!code && restart != "Always") {
            code = 0;
        }
        json state;
        const std::string started = was_running ? child(pod, "status").value("startTime", time) : time;
        if (was_running && code) {
            state = {{"terminated",
                      {{"exitCode", *code},
                       {"reason", *code == 0 ? "Completed" : "Error"},
                       {"startedAt", started},
                       {"finishedAt", time},
                       {"containerID", "fakekube://" + name}}}};
            any_failed = any_failed || *code != 0;
        } else {
            state = {{"running", {{"startedAt", started}}}};
            all_exited = false;
        }
        statuses.push_back({{"name", name},
                            {"image", container.value("image", "")},
                            {"imageID", ""},
                            {"containerID", "fakekube://" + name},
                            {"ready", ready && state.contains("running")},
                            {"started", state.contains("running")},
                            {"restartCount", 0},
                            {"state", state}});
    }
    const bool exited = was_running && all_exited && !statuses.empty();
    const std::string phase = !exited ? "Running" : any_failed ? "Failed" : "Succeeded";
    const bool pod_is_ready = ready && !exited;
    json conditions = json::array();
    for (const char* type :
         {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
        const bool readiness = std::string(type) == "Ready" || std::string(type) == "ContainersReady";
        const bool value =
            readiness ? pod_is_ready : std::string(type) != "PodReadyToStartContainers" || !exited;
        json c = {{"type", type},
                  {"status", value ? "True" : "False"},
                  {"lastProbeTime", nullptr},
                  {"lastTransitionTime", time}};
        if (readiness && !value) {
            c["reason"] = exited ? "PodCompleted" : "ContainersNotReady";
        }
        conditions.push_back(c);
    }
    const json& old_status = child(pod, "status");
    std::string ip = old_status.value("podIP", "");
    if (ip.empty()) {
        static unsigned next_ip = 10;
        ip = "10.244.0." + std::to_string(next_ip++ % 250 + 2);
    }
    std::string host_ip = "127.0.0.1";
    if (node != nullptr) {
        for (const auto& address : child(*node, "status").value("addresses", json::array())) {
            if (address.value("type", "") == "InternalIP") {
                host_ip = address.value("address", host_ip);
            }
        }
    }
    json status = {
        {"phase", phase},
        {"conditions", merge_conditions(old_status.value("conditions", json::array()), conditions)},
        {"hostIP", host_ip},
        {"hostIPs", {{{"ip", host_ip}}}},
        {"podIP", ip},
        {"podIPs", {{{"ip", ip}}}},
        {"startTime", old_status.value("startTime", time)},
        {"containerStatuses", statuses},
        {"qosClass", old_status.value("qosClass", "BestEffort")}};
    pod["status"] = status;
    const json& stored = m_store.put(pods_info(), std::move(pod));
    if (!exited && phase == "Running") {
        bool will_exit = false;
        for (const auto& container : child(stored, "spec").value("containers", json::array())) {
            will_exit =
                will_exit || script::exit_code(stored, container.value("name", "")) || restart != "Always";
        }
        if (will_exit) {
            sync_later(pods_info(), stored);
        }
    }
}

namespace script {

std::optional<std::string> for_container(const json& object, const std::string& key,
                                         const std::string& container) {
    const json& annotations = child(meta(object), "annotations");
    if (auto it = annotations.find(key + "." + container); it != annotations.end() && it->is_string()) {
        return it->get<std::string>();
    }
    if (auto it = annotations.find(key); it != annotations.end() && it->is_string()) {
        return it->get<std::string>();
    }
    return std::nullopt;
}

std::optional<int> exit_code(const json& pod, const std::string& container) {
    auto text = for_container(pod, k_exit_code, container);
    if (!text) {
        return std::nullopt;
    }
    try {
        return std::stoi(*text);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

bool not_ready(const json& object) {
    return child(meta(object), "annotations").value(k_ready, "") == "false";
}

} // namespace script

} // namespace meshlink::fakekube
