// The parts of kube-controller-manager and the scheduler clients notice, in miniature: workload status
// (Deployments, DaemonSets, Jobs), Pods running on a node, namespace deletion and the default objects of
// a namespace. Also the objects a fresh cluster starts with and seed loading.
#include "tests/fakekube/apiserver.hpp"
#include "tests/fakekube/defaulting.hpp"
#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/schema/schema.hpp"
#include "tests/fakekube/util.hpp"
#include "util/time.hpp"

#include <algorithm>

namespace meshlink::fakekube {
namespace {

const ResourceInfo& core(const char* plural) {
    return *find_resource("", "v1", plural);
}

json condition(const std::string& type, const std::string& reason, const std::string& message) {
    const std::string now = util::format_rfc3339(std::chrono::system_clock::now());
    return {{"type", type},     {"status", "True"},  {"lastUpdateTime", now}, {"lastTransitionTime", now},
            {"reason", reason}, {"message", message}};
}

// Completes metadata the way a create would, for objects fakekube makes itself.
json with_identity(json object) {
    json& meta = object["metadata"];
    if (!meta.contains("uid")) {
        meta["uid"] = new_uid();
    }
    if (!meta.contains("creationTimestamp") || meta["creationTimestamp"].is_null()) {
        meta["creationTimestamp"] = util::format_rfc3339(std::chrono::system_clock::now());
    }
    return object;
}

} // namespace

void ApiServer::bootstrap() {
    for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
        json ns = {{"apiVersion", "v1"},
                   {"kind", "Namespace"},
                   {"metadata", {{"name", name}}},
                   {"status", {{"phase", "Active"}}}};
        apply_defaults(core("namespaces"), ns);
        after_create(core("namespaces"), m_store.put(core("namespaces"), with_identity(std::move(ns))));
    }
    const std::string port = m_config.server_address.substr(m_config.server_address.rfind(':') + 1);
    json service = {
        {"apiVersion", "v1"},
        {"kind", "Service"},
        {"metadata",
         {{"name", "kubernetes"},
          {"namespace", "default"},
          {"labels", {{"component", "apiserver"}, {"provider", "kubernetes"}}}}},
        {"spec",
         {{"clusterIP", m_cluster_ips.first()},
          {"ports",
           {{{"name", "https"}, {"port", 443}, {"protocol", "TCP"}, {"targetPort", std::stoi(port)}}}}}},
        {"status", {{"loadBalancer", json::object()}}}};
    apply_defaults(core("services"), service);
    service["spec"]["clusterIPs"] = {m_cluster_ips.first()};
    m_store.put(core("services"), with_identity(std::move(service)));
    json endpoints = {{"apiVersion", "v1"},
                      {"kind", "Endpoints"},
                      {"metadata", {{"name", "kubernetes"}, {"namespace", "default"}}},
                      {"subsets",
                       {{{"addresses", {{{"ip", "127.0.0.1"}}}},
                         {"ports", {{{"name", "https"}, {"port", std::stoi(port)}, {"protocol", "TCP"}}}}}}}};
    m_store.put(core("endpoints"), with_identity(std::move(endpoints)));
    const ResourceInfo& cluster_roles = *find_resource("rbac.authorization.k8s.io", "v1", "clusterroles");
    const ResourceInfo& cluster_role_bindings =
        *find_resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings");
    json labels = {{"kubernetes.io/bootstrapping", "rbac-defaults"}};
    m_store.put(cluster_roles,
                with_identity({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                               {"kind", "ClusterRole"},
                               {"metadata", {{"name", "cluster-admin"}, {"labels", labels}}},
                               {"rules",
                                {{{"apiGroups", {"*"}}, {"resources", {"*"}}, {"verbs", {"*"}}},
                                 {{"nonResourceURLs", {"*"}}, {"verbs", {"*"}}}}}}));
    m_store.put(cluster_role_bindings,
                with_identity({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                               {"kind", "ClusterRoleBinding"},
                               {"metadata", {{"name", "cluster-admin"}, {"labels", labels}}},
                               {"roleRef",
                                {{"apiGroup", "rbac.authorization.k8s.io"},
                                 {"kind", "ClusterRole"},
                                 {"name", "cluster-admin"}}},
                               {"subjects",
                                {{{"apiGroup", "rbac.authorization.k8s.io"},
                                  {"kind", "Group"},
                                  {"name", "system:masters"}}}}}));
}

void ApiServer::after_create(const ResourceInfo& resource, const json& object) {
    if (resource.kind == "Namespace") {
        // The service account and root CA publisher controllers.
        const std::string ns = child(object, "metadata").value("name", "");
        if (m_store.get(core("serviceaccounts"), ns, "default") == nullptr) {
            m_store.put(core("serviceaccounts"),
                        with_identity({{"apiVersion", "v1"},
                                       {"kind", "ServiceAccount"},
                                       {"metadata", {{"name", "default"}, {"namespace", ns}}}}));
        }
        if (m_store.get(core("configmaps"), ns, "kube-root-ca.crt") == nullptr) {
            m_store.put(
                core("configmaps"),
                with_identity(
                    {{"apiVersion", "v1"},
                     {"kind", "ConfigMap"},
                     {"metadata",
                      {{"name", "kube-root-ca.crt"},
                       {"namespace", ns},
                       {"annotations",
                        {{"kubernetes.io/description",
                          "Contains a CA bundle that can be used to verify the kube-apiserver when using "
                          "internal endpoints such as the internal service IP or kubernetes.default.svc. No "
                          "other usage is guaranteed across distributions of Kubernetes clusters."}}}}},
                     {"data", {{"ca.crt", m_config.ca_pem}}}}));
        }
        return;
    }
    schedule(resource, object);
}

void ApiServer::schedule(const ResourceInfo& resource, const json& object) {
    const std::string& kind = resource.kind;
    const bool terminating_ns =
        kind == "Namespace" && child(object, "metadata").contains("deletionTimestamp");
    const bool pending_pod = kind == "Pod" && child(object, "status").value("phase", "Pending") == "Pending";
    if (kind == "Deployment" || kind == "DaemonSet" || kind == "Job" || terminating_ns || pending_pod) {
        const json& meta = child(object, "metadata");
        m_pending[resource.plural + "/" + meta.value("namespace", "") + "/" + meta.value("name", "")] =
            std::chrono::steady_clock::now() + m_config.controller_delay;
    }
}

void ApiServer::run_controllers() {
    std::lock_guard lock(m_mutex);
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::string> due;
    for (const auto& [key, when] : m_pending) {
        if (when <= now) {
            due.push_back(key);
        }
    }
    for (const auto& key : due) {
        m_pending.erase(key);
        const auto first = key.find('/');
        const auto second = key.find('/', first + 1);
        const std::string plural = key.substr(0, first);
        const std::string ns = key.substr(first + 1, second - first - 1);
        const std::string name = key.substr(second + 1);
        const ResourceInfo* resource = nullptr;
        for (const auto& info : all_resources()) {
            if (info.plural == plural) {
                resource = &info;
            }
        }
        const json* current = resource != nullptr ? m_store.get(*resource, ns, name) : nullptr;
        if (current == nullptr) {
            continue;
        }
        json object = *current;
        const json& meta = child(object, "metadata");
        const long long generation = meta.value("generation", 1LL);
        const std::string& kind = resource->kind;
        if (kind == "Namespace") {
            // Namespace deletion: remove the content, then the namespace.
            for (const auto& info : all_resources()) {
                if (!info.namespaced || !info.creatable) {
                    continue;
                }
                std::vector<std::string> names;
                for (const json* item : m_store.list(info, name)) {
                    names.push_back(child(item->at("metadata"), "name").get<std::string>());
                }
                for (const auto& item : names) {
                    delete_now(info, name, item);
                }
            }
            delete_now(*resource, "", name);
            continue;
        }
        if (kind == "Deployment") {
            const long long replicas = child(object, "spec").value("replicas", 1LL);
            json status = {{"observedGeneration", generation}};
            if (replicas > 0) {
                status.update({{"replicas", replicas},
                               {"updatedReplicas", replicas},
                               {"readyReplicas", replicas},
                               {"availableReplicas", replicas}});
            }
            status["conditions"] = {
                condition("Available", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                condition("Progressing", "NewReplicaSetAvailable",
                          "ReplicaSet \"" + name + "-" + std::to_string(generation) +
                              "\" has successfully progressed.")};
            object["status"] = status;
        } else if (kind == "DaemonSet") {
            const json& selector =
                child(child(child(child(object, "spec"), "template"), "spec"), "nodeSelector");
            long long nodes = 0;
            for (const json* node : m_store.list(core("nodes"), "")) {
                const json& labels = child(child(*node, "metadata"), "labels");
                bool fits = true;
                const json wanted = selector.is_object() ? selector : json::object();
                for (const auto& [label, value] : wanted.items()) {
                    fits = fits && labels.is_object() && labels.contains(label) && labels[label] == value;
                }
                nodes += fits ? 1 : 0;
            }
            json status = {{"observedGeneration", generation},
                           {"currentNumberScheduled", nodes},
                           {"desiredNumberScheduled", nodes},
                           {"numberMisscheduled", 0},
                           {"numberReady", nodes}};
            if (nodes > 0) {
                status.update({{"numberAvailable", nodes}, {"updatedNumberScheduled", nodes}});
            }
            object["status"] = status;
        } else if (kind == "Job") {
            const std::string time = util::format_rfc3339(std::chrono::system_clock::now());
            json complete = condition("Complete", "", "");
            complete.erase("lastUpdateTime");
            complete.erase("reason");
            complete.erase("message");
            complete["lastProbeTime"] = time;
            json criteria = complete;
            criteria["type"] = "SuccessCriteriaMet";
            criteria["reason"] = "CompletionsReached";
            criteria["message"] = "Reached expected number of succeeded pods";
            complete["reason"] = "CompletionsReached";
            complete["message"] = "Reached expected number of succeeded pods";
            object["status"] = {{"startTime", time},
                                {"completionTime", time},
                                {"succeeded", child(object, "spec").value("completions", 1LL)},
                                {"ready", 0},
                                {"terminating", 0},
                                {"uncountedTerminatedPods", json::object()},
                                {"conditions", {criteria, complete}}};
        } else if (kind == "Pod") {
            json& spec = object["spec"];
            if (spec.value("nodeName", "").empty()) {
                auto nodes = m_store.list(core("nodes"), "");
                if (!nodes.empty()) {
                    spec["nodeName"] = child(nodes.front()->at("metadata"), "name");
                }
            }
            const std::string time = util::format_rfc3339(std::chrono::system_clock::now());
            json statuses = json::array();
            for (const auto& container : spec.value("containers", json::array())) {
                statuses.push_back({{"name", container.value("name", "")},
                                    {"image", container.value("image", "")},
                                    {"imageID", ""},
                                    {"ready", true},
                                    {"started", true},
                                    {"restartCount", 0},
                                    {"state", {{"running", {{"startedAt", time}}}}}});
            }
            json conditions = json::array();
            for (const char* type :
                 {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
                conditions.push_back({{"type", type},
                                      {"status", "True"},
                                      {"lastProbeTime", nullptr},
                                      {"lastTransitionTime", time}});
            }
            static unsigned next_ip = 10;
            const std::string ip = "10.244.0." + std::to_string(next_ip++ % 250 + 2);
            object["status"] = {{"phase", "Running"},
                                {"conditions", conditions},
                                {"hostIP", "127.0.0.1"},
                                {"hostIPs", {{{"ip", "127.0.0.1"}}}},
                                {"podIP", ip},
                                {"podIPs", {{{"ip", ip}}}},
                                {"startTime", time},
                                {"containerStatuses", statuses},
                                {"qosClass", child(object, "status").value("qosClass", "BestEffort")}};
        }
        m_store.put(*resource, std::move(object));
    }
}

util::Result<> ApiServer::load_seed(json object, const std::string& origin) {
    std::lock_guard lock(m_mutex);
    const std::string api_version = object.value("apiVersion", "");
    const std::string kind = object.value("kind", "");
    const ResourceInfo* resource = find_kind(api_version, kind);
    if (resource == nullptr || !resource->creatable) {
        return util::fail(util::ErrorKind::invalid,
                          origin + ": fakekube does not serve " + api_version + "/" + kind);
    }
    if (const auto* model = schema::Schema::instance().model_for_kind(api_version, kind)) {
        auto report = schema::decode(object, *model);
        if (report.error) {
            return util::fail(util::ErrorKind::invalid, origin + ": " + *report.error);
        }
        if (!report.unknown_fields.empty()) {
            return util::fail(
                util::ErrorKind::invalid,
                origin + ": strict decoding error: " + schema::unknown_fields_message(report.unknown_fields));
        }
    }
    json& meta = object["metadata"];
    const std::string name = meta.value("name", "");
    if (name.empty()) {
        return util::fail(util::ErrorKind::invalid, origin + ": " + kind + " without metadata.name");
    }
    std::string ns;
    if (resource->namespaced) {
        ns = meta.value("namespace", "default");
        meta["namespace"] = ns;
        if (m_store.get(core("namespaces"), "", ns) == nullptr) {
            json namespace_object = {{"apiVersion", "v1"},
                                     {"kind", "Namespace"},
                                     {"metadata", {{"name", ns}}},
                                     {"status", {{"phase", "Active"}}}};
            apply_defaults(core("namespaces"), namespace_object);
            after_create(core("namespaces"),
                         m_store.put(core("namespaces"), with_identity(std::move(namespace_object))));
        }
    } else {
        meta.erase("namespace");
    }
    meta.erase("resourceVersion");
    apply_defaults(*resource, object);
    if (resource->tracks_generation && !meta.contains("generation")) {
        meta["generation"] = 1;
    }
    const json* existing = m_store.get(*resource, ns, name);
    if (kind == "Service") {
        if (existing != nullptr) {
            release_service(*existing);
        }
        if (auto error = allocate_service(object, nullptr, false)) {
            return util::fail(util::ErrorKind::invalid, origin + ": " + error->message);
        }
    }
    const json& stored = m_store.put(*resource, with_identity(std::move(object)));
    if (existing == nullptr) {
        json copy = stored;
        if (kind == "Namespace") {
            after_create(*resource, copy);
        } else if (!copy.contains("status") || copy["status"].empty()) {
            schedule(*resource, copy);
        }
    }
    return {};
}

} // namespace meshlink::fakekube
