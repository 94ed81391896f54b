// The objects a fresh cluster starts with, the default objects of a new namespace, and seed loading. The
// controllers are in controllers.cpp and collector.cpp.
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
    // The default ServiceCIDR kube-apiserver creates from --service-cluster-ip-range (networking.k8s.io/v1
    // since Kubernetes 1.33), Ready and protected by the ServiceCIDR controller's finalizer.
    if (const ResourceInfo* cidrs = find_resource("networking.k8s.io", "v1", "servicecidrs");
        cidrs != nullptr) {
        m_store.put(
            *cidrs,
            with_identity(
                {{"apiVersion", "networking.k8s.io/v1"},
                 {"kind", "ServiceCIDR"},
                 {"metadata",
                  {{"name", "kubernetes"}, {"finalizers", {"networking.k8s.io/service-cidr-finalizer"}}}},
                 {"spec", {{"cidrs", {m_config.service_cidr}}}},
                 {"status",
                  {{"conditions",
                    {{{"type", "Ready"},
                      {"status", "True"},
                      {"lastTransitionTime", util::format_rfc3339(std::chrono::system_clock::now())},
                      {"reason", ""},
                      {"message", "Kubernetes Service CIDR is ready"}}}}}}}));
    }
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
    if (kind == "Deployment" || kind == "ReplicaSet" || kind == "Job") {
        // A seed describes the cluster as it is, Pods included: its workloads get status, not new Pods.
        m_seeded_workloads.insert(child(stored, "metadata").value("uid", ""));
    }
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
