// The parts of kube-controller-manager, the scheduler and kubelet that clients notice, in miniature:
// Deployments own ReplicaSets, ReplicaSets and Jobs own Pods, Pods are scheduled and run as scripted
// (scripting.hpp), DaemonSets report the Nodes they fit, disruption budgets are recomputed from their Pods,
// ServiceCIDRs become Ready. Controllers act `controller_delay` after a change of the object itself and at
// once when something they own changes, the way informers and work queues make the real ones react.
#include "tests/fakekube/apiserver.hpp"
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
namespace {

const ResourceInfo& kind_info(const char* group, const char* plural) {
    return *find_resource(group, "v1", plural);
}
const ResourceInfo& pods_info() {
    return kind_info("", "pods");
}

std::string now_text() {
    return util::format_rfc3339(std::chrono::system_clock::now());
}

const json& meta(const json& object) {
    return child(object, "metadata");
}

std::string uid_of(const json& object) {
    return meta(object).value("uid", "");
}

bool deleting(const json& object) {
    return meta(object).contains("deletionTimestamp");
}

// The ownerReference marked controller, or an empty object.
const json& controller_ref(const json& object) {
    static const json k_none = json::object();
    const json& refs = meta(object).contains("ownerReferences") ? meta(object)["ownerReferences"] : k_none;
    if (refs.is_array()) {
        for (const auto& ref : refs) {
            if (ref.value("controller", false)) {
                return ref;
            }
        }
    }
    return k_none;
}

json owner_reference(const ResourceInfo& resource, const json& owner) {
    return {{"apiVersion", resource.group_version()},
            {"kind", resource.kind},
            {"name", meta(owner).value("name", "")},
            {"uid", uid_of(owner)},
            {"controller", true},
            {"blockOwnerDeletion", true}};
}

json condition(const std::string& type, bool status, const std::string& reason, const std::string& message,
               bool with_update_time) {
    json out = {{"type", type},
                {"status", status ? "True" : "False"},
                {"lastTransitionTime", now_text()},
                {"reason", reason},
                {"message", message}};
    if (with_update_time) {
        out["lastUpdateTime"] = out["lastTransitionTime"];
    }
    return out;
}

// Keeps lastTransitionTime of conditions whose status did not change, as controllers do.
json merge_conditions(const json& old_conditions, json conditions) {
    for (auto& next : conditions) {
        for (const auto& old : old_conditions.is_array() ? old_conditions : json::array()) {
            if (old.value("type", "") == next.value("type", "") &&
                old.value("status", "") == next.value("status", "")) {
                if (old.contains("lastTransitionTime")) {
                    next["lastTransitionTime"] = old["lastTransitionTime"];
                }
                if (old.contains("lastUpdateTime") && old.value("reason", "") == next.value("reason", "")) {
                    next["lastUpdateTime"] = old["lastUpdateTime"];
                }
            }
        }
    }
    return conditions;
}

bool pod_ready(const json& pod) {
    for (const auto& c : child(pod, "status").value("conditions", json::array())) {
        if (c.value("type", "") == "Ready") {
            return c.value("status", "") == "True";
        }
    }
    return false;
}

std::string phase_of(const json& pod) {
    return child(pod, "status").value("phase", "Pending");
}

bool terminal(const json& pod) {
    const std::string phase = phase_of(pod);
    return phase == "Succeeded" || phase == "Failed";
}

// A stable name suffix from a pod template, like the pod-template-hash label (10 characters of the alphabet
// generated names use).
std::string template_hash(const json& pod_template) {
    uint64_t hash = 1469598103934665603ULL;
    for (const char c : pod_template.dump()) {
        hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    static constexpr std::string_view k_alphabet = "bcdfghjklmnpqrstvwxz2456789";
    std::string out;
    for (int i = 0; i < 10; ++i) {
        out += k_alphabet[hash % k_alphabet.size()];
        hash /= k_alphabet.size();
    }
    return out;
}

// IntOrString against a total, rounding up like intstr.GetScaledValueFromIntOrPercent(..., true).
long long scaled(const json& value, long long total) {
    if (value.is_number_integer()) {
        return value.get<long long>();
    }
    if (value.is_string()) {
        const std::string text = value.get<std::string>();
        if (!text.empty() && text.back() == '%') {
            try {
                return static_cast<long long>(
                    std::ceil(std::stod(text) * static_cast<double>(total) / 100.0));
            } catch (const std::exception&) {
                return 0;
            }
        }
    }
    return 0;
}

} // namespace

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

json ApiServer::budget_status(const json& pdb) {
    const json& spec = child(pdb, "spec");
    const json& old = child(pdb, "status");
    const std::string ns = meta(pdb).value("namespace", "");
    std::vector<json> pods;
    if (spec.contains("selector")) {
        auto selector = LabelSelector::from_object(spec["selector"]);
        for (const json* pod : m_store.list(pods_info(), ns)) {
            if (selector && selector->matches(child(meta(*pod), "labels"))) {
                pods.push_back(*pod);
            }
        }
    }
    json disrupted = json::object();
    const auto now = std::chrono::system_clock::now();
    const json previously_disrupted = old.value("disruptedPods", json::object());
    for (const auto& [name, when] : previously_disrupted.items()) {
        auto at = util::parse_rfc3339(when.get<std::string>());
        const bool present = std::any_of(pods.begin(), pods.end(), [&](const json& pod) {
            return meta(pod).value("name", "") == name && !deleting(pod);
        });
        // The disruption controller forgets an eviction after two minutes or once the Pod is gone.
        if (present && at && now - *at < std::chrono::minutes(2)) {
            disrupted[name] = when;
        }
    }
    long long healthy = 0;
    for (const auto& pod : pods) {
        if (!deleting(pod) && pod_ready(pod) && !disrupted.contains(meta(pod).value("name", ""))) {
            ++healthy;
        }
    }
    // expectedPods: the Pod count for an integer minAvailable, else the scale of the Pods' controllers.
    long long expected = static_cast<long long>(pods.size());
    const bool integer_min = spec.contains("minAvailable") && spec["minAvailable"].is_number_integer();
    if (!integer_min) {
        std::set<std::string> seen;
        expected = 0;
        for (const auto& pod : pods) {
            const json& ref = controller_ref(pod);
            if (ref.value("kind", "") != "ReplicaSet") {
                ++expected;
                continue;
            }
            if (!seen.insert(ref.value("uid", "")).second) {
                continue;
            }
            const json* rs = m_store.get(kind_info("apps", "replicasets"), ns, ref.value("name", ""));
            long long scale = rs != nullptr ? child(*rs, "spec").value("replicas", 1LL) : 0;
            if (rs != nullptr && controller_ref(*rs).value("kind", "") == "Deployment") {
                if (const json* d = m_store.get(kind_info("apps", "deployments"), ns,
                                                controller_ref(*rs).value("name", ""))) {
                    scale = child(*d, "spec").value("replicas", 1LL);
                }
            }
            expected += scale;
        }
    }
    long long desired = 0;
    if (spec.contains("minAvailable")) {
        desired = scaled(spec["minAvailable"], expected);
    } else if (spec.contains("maxUnavailable")) {
        desired = std::max(0LL, expected - scaled(spec["maxUnavailable"], expected));
    }
    const long long allowed = std::max(0LL, healthy - desired);
    json status = {{"currentHealthy", healthy},
                   {"desiredHealthy", desired},
                   {"disruptionsAllowed", allowed},
                   {"expectedPods", expected},
                   {"observedGeneration", meta(pdb).value("generation", 1LL)}};
    if (!disrupted.empty()) {
        status["disruptedPods"] = disrupted;
    }
    json allowed_condition = condition("DisruptionAllowed", allowed > 0,
                                       allowed > 0 ? "SufficientPods" : "InsufficientPods", "", false);
    allowed_condition["observedGeneration"] = status["observedGeneration"];
    status["conditions"] =
        merge_conditions(old.value("conditions", json::array()), json::array({allowed_condition}));
    return status;
}

void ApiServer::sync_budgets(const std::string& ns) {
    const ResourceInfo& pdbs = kind_info("policy", "poddisruptionbudgets");
    for (const json* current : m_store.list(pdbs, ns)) {
        json status = budget_status(*current);
        if (child(*current, "status") != status) {
            json updated = *current;
            updated["status"] = std::move(status);
            m_store.put(pdbs, std::move(updated));
        }
    }
}

namespace {

// Whether IPv4 `ip` lies in `cidr` ("10.96.0.0/12"); false for anything else.
bool in_cidr(const std::string& ip, const std::string& cidr) {
    auto parse = [](const std::string& text, uint32_t& out) {
        unsigned a = 0, b = 0, c = 0, d = 0;
        char tail = 0;
        if (std::sscanf(text.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 ||
            c > 255 || d > 255) {
            return false;
        }
        out = (a << 24U) | (b << 16U) | (c << 8U) | d;
        return true;
    };
    const auto slash = cidr.find('/');
    uint32_t address = 0;
    uint32_t network = 0;
    if (slash == std::string::npos || !parse(ip, address) || !parse(cidr.substr(0, slash), network)) {
        return false;
    }
    const int bits = std::atoi(cidr.c_str() + slash + 1);
    const uint32_t mask = bits <= 0 ? 0 : bits >= 32 ? 0xFFFFFFFFU : ~((1U << (32 - bits)) - 1U);
    return (address & mask) == (network & mask);
}

} // namespace

void ApiServer::sync_service_cidr(json cidr) {
    const ResourceInfo& cidrs = kind_info("networking.k8s.io", "servicecidrs");
    const std::string finalizer = "networking.k8s.io/service-cidr-finalizer";
    if (deleting(cidr)) {
        // The finalizer goes once no Service has a ClusterIP only this ServiceCIDR covers.
        bool in_use = false;
        for (const json* service : m_store.list(kind_info("", "services"), "")) {
            const std::string ip = child(*service, "spec").value("clusterIP", "");
            bool here = false;
            bool elsewhere = false;
            for (const json* other : m_store.list(cidrs, "")) {
                for (const auto& range : child(*other, "spec").value("cidrs", json::array())) {
                    const bool covers = in_cidr(ip, range.get<std::string>());
                    if (meta(*other).value("name", "") == meta(cidr).value("name", "")) {
                        here = here || covers;
                    } else if (!deleting(*other)) {
                        elsewhere = elsewhere || covers;
                    }
                }
            }
            in_use = in_use || (here && !elsewhere);
        }
        if (in_use) {
            sync_later(cidrs, cidr);
            return;
        }
        json& held = cidr["metadata"]["finalizers"];
        if (held.is_array()) {
            held.erase(std::remove(held.begin(), held.end(), finalizer), held.end());
        }
        if (held.empty()) {
            delete_now(cidrs, "", meta(cidr).value("name", ""));
        } else {
            m_store.put(cidrs, std::move(cidr));
        }
        return;
    }
    // The ServiceCIDR controller: protect it with its finalizer and report it Ready.
    json& finalizers = cidr["metadata"]["finalizers"];
    if (!finalizers.is_array()) {
        finalizers = json::array();
    }
    if (std::find(finalizers.begin(), finalizers.end(), finalizer) == finalizers.end()) {
        finalizers.push_back(finalizer);
    }
    json conditions = merge_conditions(child(cidr, "status").value("conditions", json::array()),
                                       json::array({condition("Ready", true, "", "", false)}));
    conditions[0].erase("reason");
    conditions[0].erase("message");
    cidr["status"]["conditions"] = conditions;
    if (*m_store.get(cidrs, "", meta(cidr).value("name", "")) != cidr) {
        m_store.put(cidrs, std::move(cidr));
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
