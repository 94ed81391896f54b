// The parts of kube-controller-manager that clients notice, in miniature (the scheduler and kubelet are in
// kubelet.cpp, disruption budgets and ServiceCIDRs in policy_controllers.cpp):
// Deployments own ReplicaSets, ReplicaSets and Jobs own Pods, Pods are scheduled and run as scripted
// (scripting.hpp), DaemonSets report the Nodes they fit, disruption budgets are recomputed from their Pods,
// ServiceCIDRs become Ready. Controllers act `controller_delay` after a change of the object itself and at
// once when something they own changes, the way informers and work queues make the real ones react.
#include "tests/fakekube/apiserver.hpp"
#include "tests/fakekube/controller_util.hpp"
#include "tests/fakekube/defaulting.hpp"
#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/scripting.hpp"
#include "tests/fakekube/util.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace meshlink::fakekube {

using namespace controller;

void ApiServer::schedule(const ResourceInfo& resource, const json& object) {
    sync_later(resource, object);
}

void ApiServer::sync_later(const ResourceInfo& resource, const json& object) {
    m_pending[resource.plural + "/" + meta(object).value("namespace", "") + "/" +
              meta(object).value("name", "")] = std::chrono::steady_clock::now() + m_config.controller_delay;
}

void ApiServer::sync_now(const ResourceInfo& resource, const json& object) {
    const std::string key =
        resource.plural + "/" + meta(object).value("namespace", "") + "/" + meta(object).value("name", "");
    auto it = m_pending.find(key);
    const auto now = std::chrono::steady_clock::now();
    if (it == m_pending.end() || it->second > now) {
        m_pending[key] = now;
    }
}

void ApiServer::run_controllers() {
    std::lock_guard lock(m_mutex);
    // A controller bug must not stop the others (nor the server): say so where the test log shows it.
    auto guarded = [](const std::string& what, const auto& step) {
        try {
            step();
        } catch (const std::exception& error) {
            std::cerr << "fakekube: controller " << what << ": " << error.what() << std::endl;
        }
    };
    guarded("events", [&] { observe_events(); });
    const auto now = std::chrono::steady_clock::now();
    // A pass may make more work due now (an owner reacting to its Pods): a few rounds settle it.
    for (int round = 0; round < 4; ++round) {
        std::vector<std::string> due;
        for (const auto& [key, when] : m_pending) {
            if (when <= now) {
                due.push_back(key);
            }
        }
        if (due.empty() && !m_collect && m_budget_namespaces.empty()) {
            break;
        }
        for (const auto& key : due) {
            m_pending.erase(key);
            guarded(key, [&] {
                const auto first = key.find('/');
                const auto second = key.find('/', first + 1);
                const std::string plural = key.substr(0, first);
                for (const auto& info : all_resources()) {
                    if (info.plural == plural) {
                        sync(info, key.substr(first + 1, second - first - 1), key.substr(second + 1));
                        break;
                    }
                }
            });
        }
        if (m_collect) {
            m_collect = false;
            guarded("garbage collector", [&] { collect_garbage(); });
        }
        const auto namespaces = std::exchange(m_budget_namespaces, {});
        for (const auto& ns : namespaces) {
            guarded("disruption budgets in " + ns, [&] { sync_budgets(ns); });
        }
        guarded("events", [&] { observe_events(); });
    }
}

// Reacts to what changed in the store since the last look: owners of changed Pods and ReplicaSets sync at
// once, budgets of namespaces whose Pods changed are recomputed, deletions feed the garbage collector.
void ApiServer::observe_events() {
    for (const WatchEvent* event : m_store.events_after(m_seen_revision)) {
        const ResourceInfo& resource = *event->resource;
        const json& object = event->object;
        if (event->type == "DELETED") {
            m_deleted_uids.insert(uid_of(object));
            m_collect = true;
        } else if (deleting(object) || !meta(object).value("finalizers", json::array()).empty()) {
            m_collect = true;
        }
        const std::string ns = meta(object).value("namespace", "");
        if (resource.kind == "Pod" || resource.kind == "PodDisruptionBudget") {
            m_budget_namespaces.insert(ns);
        }
        if (resource.kind == "ServiceCIDR" && event->type != "DELETED" && deleting(object)) {
            sync_now(resource, object);
        }
        if (resource.kind == "Node") {
            // Pods waiting for a Node may fit now.
            for (const json* pod : m_store.list(pods_info(), "")) {
                if (child(*pod, "spec").value("nodeName", "").empty() && !deleting(*pod)) {
                    sync_now(pods_info(), *pod);
                }
            }
        }
        if (resource.kind == "Pod" || resource.kind == "ReplicaSet") {
            const json& ref = controller_ref(object);
            const std::string kind = ref.value("kind", "");
            const ResourceInfo* owner = kind == "ReplicaSet"   ? &kind_info("apps", "replicasets")
                                        : kind == "Deployment" ? &kind_info("apps", "deployments")
                                        : kind == "Job"        ? &kind_info("batch", "jobs")
                                                               : nullptr;
            if (owner != nullptr) {
                sync_now(*owner, json{{"metadata", {{"namespace", ns}, {"name", ref.value("name", "")}}}});
            }
        }
    }
    m_seen_revision = m_store.revision();
}

void ApiServer::sync(const ResourceInfo& resource, const std::string& ns, const std::string& name) {
    const json* current = m_store.get(resource, ns, name);
    if (current == nullptr) {
        return;
    }
    json object = *current;
    const std::string& kind = resource.kind;
    if (kind == "Namespace") {
        sync_namespace(std::move(object));
    } else if (deleting(object) && kind != "Pod" && kind != "ServiceCIDR") {
        return;
    } else if (m_seeded_workloads.contains(meta(object).value("uid", ""))) {
        sync_seeded_workload(resource, std::move(object));
    } else if (kind == "Deployment") {
        sync_deployment(std::move(object));
    } else if (kind == "ReplicaSet") {
        sync_replicaset(std::move(object));
    } else if (kind == "Job") {
        sync_job(std::move(object));
    } else if (kind == "Pod") {
        sync_pod(std::move(object));
    } else if (kind == "DaemonSet") {
        sync_daemonset(std::move(object));
    } else if (kind == "ServiceCIDR") {
        sync_service_cidr(std::move(object));
    } else if (kind == "PodDisruptionBudget") {
        m_budget_namespaces.insert(ns);
    }
}

std::vector<json> ApiServer::owned_pods(const json& owner) {
    std::vector<json> out;
    const std::string uid = uid_of(owner);
    for (const json* pod : m_store.list(pods_info(), meta(owner).value("namespace", ""))) {
        if (controller_ref(*pod).value("uid", "") == uid) {
            out.push_back(*pod);
        }
    }
    return out;
}

const json& ApiServer::create_owned(const ResourceInfo& resource, json object) {
    json& m = object["metadata"];
    m["uid"] = new_uid();
    m["creationTimestamp"] = now_text();
    if (resource.tracks_generation) {
        m["generation"] = 1;
    }
    apply_defaults(resource, object);
    if (resource.kind == "Pod") {
        apply_pod_rules(object);
        object["status"] = {{"phase", "Pending"}, {"qosClass", "BestEffort"}};
    } else if (resource.has_status()) {
        object["status"] = json::object();
    }
    const json& stored = m_store.put(resource, std::move(object));
    sync_later(resource, stored);
    return stored;
}

// A Pod from a workload's template, owned by the workload.
static json pod_from_template(const ResourceInfo& owner_resource, const json& owner, const json& pod_template,
                              const std::string& name_prefix) {
    json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}};
    pod["metadata"] = child(pod_template, "metadata");
    pod["metadata"]["name"] = name_prefix + random_suffix();
    pod["metadata"]["generateName"] = name_prefix;
    pod["metadata"]["namespace"] = meta(owner).value("namespace", "");
    pod["metadata"]["ownerReferences"] = json::array({owner_reference(owner_resource, owner)});
    pod["metadata"].erase("creationTimestamp");
    pod["spec"] = child(pod_template, "spec");
    return pod;
}

void ApiServer::sync_deployment(json deployment) {
    const ResourceInfo& replicasets = kind_info("apps", "replicasets");
    const json& spec = child(deployment, "spec");
    const std::string ns = meta(deployment).value("namespace", "");
    const std::string name = meta(deployment).value("name", "");
    const long long replicas = spec.value("replicas", 1LL);
    const json pod_template = child(spec, "template");
    const std::string hash = template_hash(pod_template);
    const std::string uid = uid_of(deployment);

    std::vector<json> owned;
    for (const json* rs : m_store.list(replicasets, ns)) {
        if (controller_ref(*rs).value("uid", "") == uid) {
            owned.push_back(*rs);
        }
    }
    long long revision = 0;
    const json* current = nullptr;
    for (const auto& rs : owned) {
        const std::string text =
            child(meta(rs), "annotations").value("deployment.kubernetes.io/revision", "0");
        revision = std::max(revision, std::atoll(text.c_str()));
        if (child(meta(rs), "labels").value("pod-template-hash", "") == hash) {
            current = &rs;
        }
    }
    const bool paused = spec.value("paused", false);
    std::string current_revision;
    if (!paused) {
        if (current == nullptr) {
            json rs_template = pod_template;
            rs_template["metadata"]["labels"]["pod-template-hash"] = hash;
            json selector = child(spec, "selector");
            selector["matchLabels"]["pod-template-hash"] = hash;
            json labels = child(child(pod_template, "metadata"), "labels");
            labels["pod-template-hash"] = hash;
            current_revision = std::to_string(revision + 1);
            json rs = {{"apiVersion", "apps/v1"},
                       {"kind", "ReplicaSet"},
                       {"metadata",
                        {{"name", name + "-" + hash},
                         {"namespace", ns},
                         {"labels", labels},
                         {"annotations",
                          {{"deployment.kubernetes.io/desired-replicas", std::to_string(replicas)},
                           {"deployment.kubernetes.io/max-replicas", std::to_string(replicas + 1)},
                           {"deployment.kubernetes.io/revision", current_revision}}},
                         {"ownerReferences",
                          json::array({owner_reference(kind_info("apps", "deployments"), deployment)})}}},
                       {"spec", {{"replicas", replicas}, {"selector", selector}, {"template", rs_template}}}};
            create_owned(replicasets, std::move(rs));
        } else {
            current_revision =
                child(meta(*current), "annotations").value("deployment.kubernetes.io/revision", "1");
        }
        // The rollout is immediate: the current ReplicaSet gets every replica, older ones none.
        for (auto rs : owned) {
            const bool is_current = child(meta(rs), "labels").value("pod-template-hash", "") == hash;
            const long long want = is_current ? replicas : 0;
            if (child(rs, "spec").value("replicas", 1LL) != want) {
                rs["spec"]["replicas"] = want;
                rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
                    std::to_string(replicas);
                rs["metadata"]["generation"] = meta(rs).value("generation", 1) + 1;
                sync_now(replicasets, m_store.put(replicasets, std::move(rs)));
            }
        }
    }
    long long total = 0;
    long long updated = 0;
    long long ready = 0;
    long long available = 0;
    for (const json* rs : m_store.list(replicasets, ns)) {
        if (controller_ref(*rs).value("uid", "") != uid) {
            continue;
        }
        const json& status = child(*rs, "status");
        total += status.value("replicas", 0LL);
        ready += status.value("readyReplicas", 0LL);
        available += status.value("availableReplicas", 0LL);
        if (child(meta(*rs), "labels").value("pod-template-hash", "") == hash) {
            updated = status.value("replicas", 0LL);
        }
    }
    const json max_unavailable =
        child(child(spec, "strategy"), "rollingUpdate").value("maxUnavailable", json("25%"));
    const long long tolerated = max_unavailable.is_string()
                                    ? static_cast<long long>(std::floor(
                                          std::stod(max_unavailable.get<std::string>()) * replicas / 100.0))
                                    : max_unavailable.get<long long>();
    const bool is_available = available >= replicas - tolerated;
    const bool complete = updated == replicas && total == replicas && available >= replicas;
    json status = {{"observedGeneration", meta(deployment).value("generation", 1LL)}};
    if (total > 0) {
        status["replicas"] = total;
        status["updatedReplicas"] = updated;
    }
    if (ready > 0) {
        status["readyReplicas"] = ready;
    }
    if (available > 0) {
        status["availableReplicas"] = available;
    }
    if (total - available > 0) {
        status["unavailableReplicas"] = total - available;
    }
    const std::string rs_name = name + "-" + hash;
    status["conditions"] = merge_conditions(
        child(deployment, "status").value("conditions", json::array()),
        json::array({condition("Available", is_available,
                               is_available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                               is_available ? "Deployment has minimum availability."
                                            : "Deployment does not have minimum availability.",
                               true),
                     condition("Progressing", true, complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
                               complete ? "ReplicaSet \"" + rs_name + "\" has successfully progressed."
                                        : "ReplicaSet \"" + rs_name + "\" is progressing.",
                               true)}));
    bool changed = child(deployment, "status") != status;
    if (!current_revision.empty() &&
        child(meta(deployment), "annotations").value("deployment.kubernetes.io/revision", "") !=
            current_revision) {
        deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = current_revision;
        changed = true;
    }
    if (changed) {
        deployment["status"] = status;
        m_store.put(kind_info("apps", "deployments"), std::move(deployment));
    }
}

void ApiServer::sync_replicaset(json rs) {
    const long long replicas = child(rs, "spec").value("replicas", 1LL);
    std::vector<json> active;
    for (auto& pod : owned_pods(rs)) {
        if (!deleting(pod) && !terminal(pod)) {
            active.push_back(std::move(pod));
        }
    }
    const std::string name = meta(rs).value("name", "");
    for (auto count = static_cast<long long>(active.size()); count < replicas; ++count) {
        active.push_back(
            create_owned(pods_info(), pod_from_template(kind_info("apps", "replicasets"), rs,
                                                        child(child(rs, "spec"), "template"), name + "-")));
    }
    if (static_cast<long long>(active.size()) > replicas) {
        // Scale down: not-ready Pods first, then the newest, as the ReplicaSet controller ranks them.
        std::stable_sort(active.begin(), active.end(), [](const json& a, const json& b) {
            if (pod_ready(a) != pod_ready(b)) {
                return !pod_ready(a);
            }
            return meta(a).value("creationTimestamp", "") > meta(b).value("creationTimestamp", "");
        });
        while (static_cast<long long>(active.size()) > replicas) {
            delete_object(pods_info(), meta(active.front()).value("namespace", ""),
                          meta(active.front()).value("name", ""), "Background");
            active.erase(active.begin());
        }
    }
    long long ready = 0;
    for (const auto& pod : active) {
        ready += pod_ready(pod) ? 1 : 0;
    }
    json status = {{"replicas", static_cast<long long>(active.size())},
                   {"fullyLabeledReplicas", static_cast<long long>(active.size())},
                   {"observedGeneration", meta(rs).value("generation", 1LL)}};
    if (ready > 0) {
        status["readyReplicas"] = ready;
        status["availableReplicas"] = ready;
    }
    if (child(rs, "status") != status) {
        rs["status"] = status;
        m_store.put(kind_info("apps", "replicasets"), std::move(rs));
    }
}

void ApiServer::sync_job(json job) {
    const json& spec = child(job, "spec");
    json status = child(job, "status");
    for (const auto& c : status.value("conditions", json::array())) {
        if ((c.value("type", "") == "Complete" || c.value("type", "") == "Failed") &&
            c.value("status", "") == "True") {
            return; // finished Jobs are left alone
        }
    }
    const long long completions = spec.value("completions", 1LL);
    const long long parallelism = spec.value("parallelism", 1LL);
    const long long backoff_limit = spec.value("backoffLimit", 6LL);
    long long succeeded = 0;
    long long failed = 0;
    long long ready = 0;
    std::vector<json> active;
    for (auto& pod : owned_pods(job)) {
        const std::string phase = phase_of(pod);
        if (phase == "Succeeded") {
            ++succeeded;
        } else if (phase == "Failed") {
            ++failed;
        } else if (!deleting(pod)) {
            ready += pod_ready(pod) ? 1 : 0;
            active.push_back(std::move(pod));
        }
    }
    const std::string time = now_text();
    if (!status.contains("startTime") && !spec.value("suspend", false)) {
        status["startTime"] = time;
    }
    json conditions = status.value("conditions", json::array());
    auto finish = [&](const std::string& target, const std::string& final_type, const std::string& reason,
                      const std::string& message) {
        json first = condition(target, true, reason, message, false);
        first["lastProbeTime"] = time;
        json second = first;
        second["type"] = final_type;
        conditions.push_back(first);
        conditions.push_back(second);
    };
    if (failed > backoff_limit) {
        for (const auto& pod : active) {
            delete_object(pods_info(), meta(pod).value("namespace", ""), meta(pod).value("name", ""),
                          "Background");
        }
        active.clear();
        finish("FailureTarget", "Failed", "BackoffLimitExceeded",
               "Job has reached the specified backoff limit");
    } else if (succeeded >= completions) {
        status["completionTime"] = time;
        finish("SuccessCriteriaMet", "Complete", "CompletionsReached",
               "Reached expected number of succeeded pods");
    } else if (!spec.value("suspend", false)) {
        const long long want = std::min(parallelism, completions - succeeded);
        const std::string name = meta(job).value("name", "");
        for (auto count = static_cast<long long>(active.size()); count < want; ++count) {
            active.push_back(
                create_owned(pods_info(), pod_from_template(kind_info("batch", "jobs"), job,
                                                            child(spec, "template"), name + "-")));
        }
    }
    status["active"] = static_cast<long long>(active.size());
    status["succeeded"] = succeeded;
    status["failed"] = failed;
    status["ready"] = ready;
    status["terminating"] = 0;
    status["uncountedTerminatedPods"] = json::object();
    for (const char* zero : {"active", "succeeded", "failed"}) {
        if (status[zero] == 0) {
            status.erase(zero);
        }
    }
    if (!conditions.empty()) {
        status["conditions"] = conditions;
    }
    if (child(job, "status") != status) {
        job["status"] = status;
        m_store.put(kind_info("batch", "jobs"), std::move(job));
    }
}

void ApiServer::sync_seeded_workload(const ResourceInfo& resource, json workload) {
    const long long generation = meta(workload).value("generation", 1LL);
    const json& spec = child(workload, "spec");
    json status;
    if (resource.kind == "Job") {
        json complete = condition("Complete", true, "CompletionsReached",
                                  "Reached expected number of succeeded pods", false);
        complete["lastProbeTime"] = complete["lastTransitionTime"];
        json criteria = complete;
        criteria["type"] = "SuccessCriteriaMet";
        status = {{"startTime", complete["lastTransitionTime"]},
                  {"completionTime", complete["lastTransitionTime"]},
                  {"succeeded", spec.value("completions", 1LL)},
                  {"ready", 0},
                  {"terminating", 0},
                  {"uncountedTerminatedPods", json::object()},
                  {"conditions", json::array({criteria, complete})}};
    } else {
        const long long replicas = spec.value("replicas", 1LL);
        status = {{"observedGeneration", generation}};
        if (replicas > 0) {
            status.update(
                {{"replicas", replicas}, {"readyReplicas", replicas}, {"availableReplicas", replicas}});
            if (resource.kind == "Deployment") {
                status["updatedReplicas"] = replicas;
            } else {
                status["fullyLabeledReplicas"] = replicas;
            }
        }
        if (resource.kind == "Deployment") {
            status["conditions"] = merge_conditions(
                child(workload, "status").value("conditions", json::array()),
                json::array({condition("Available", true, "MinimumReplicasAvailable",
                                       "Deployment has minimum availability.", true),
                             condition("Progressing", true, "NewReplicaSetAvailable",
                                       "ReplicaSet \"" + meta(workload).value("name", "") + "-" +
                                           std::to_string(generation) + "\" has successfully progressed.",
                                       true)}));
        }
    }
    if (child(workload, "status") != status) {
        workload["status"] = std::move(status);
        m_store.put(resource, std::move(workload));
    }
}

void ApiServer::sync_daemonset(json daemonset) {
    const json& selector = child(child(child(child(daemonset, "spec"), "template"), "spec"), "nodeSelector");
    long long nodes = 0;
    for (const json* node : m_store.list(kind_info("", "nodes"), "")) {
        const json& labels = child(meta(*node), "labels");
        bool fits = true;
        for (const auto& [label, value] : selector.items()) {
            fits = fits && labels.contains(label) && labels[label] == value;
        }
        nodes += fits ? 1 : 0;
    }
    json status = {{"observedGeneration", meta(daemonset).value("generation", 1LL)},
                   {"currentNumberScheduled", nodes},
                   {"desiredNumberScheduled", nodes},
                   {"numberMisscheduled", 0},
                   {"numberReady", nodes}};
    if (nodes > 0) {
        status.update({{"numberAvailable", nodes}, {"updatedNumberScheduled", nodes}});
    }
    daemonset["status"] = status;
    m_store.put(kind_info("apps", "daemonsets"), std::move(daemonset));
}

// kubelet and the scheduler for one Pod: bind it to a Node, run its containers, let them exit as scripted.
} // namespace meshlink::fakekube
