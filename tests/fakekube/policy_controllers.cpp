// The disruption controller (PodDisruptionBudget status from the Pods it selects) and the ServiceCIDR
// controller.
#include "tests/fakekube/apiserver.hpp"
#include "tests/fakekube/controller_util.hpp"
#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/scripting.hpp"
#include "tests/fakekube/util.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

namespace meshlink::fakekube {

using namespace controller;

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

} // namespace meshlink::fakekube
