#pragma once
// Helpers the controllers share (controllers.cpp, kubelet.cpp, policy_controllers.cpp): reading object
// metadata, owner references, conditions, Pod state.

#include "tests/fakekube/http.hpp"
#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/util.hpp"
#include "util/time.hpp"

#include <chrono>
#include <cmath>
#include <string>

namespace meshlink::fakekube::controller {

inline const ResourceInfo& kind_info(const char* group, const char* plural) {
    return *find_resource(group, "v1", plural);
}
inline const ResourceInfo& pods_info() {
    return kind_info("", "pods");
}

inline std::string now_text() {
    return util::format_rfc3339(std::chrono::system_clock::now());
}

inline const json& meta(const json& object) {
    return child(object, "metadata");
}

inline std::string uid_of(const json& object) {
    return meta(object).value("uid", "");
}

inline bool deleting(const json& object) {
    return meta(object).contains("deletionTimestamp");
}

// The ownerReference marked controller, or an empty object.
inline const json& controller_ref(const json& object) {
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

inline json owner_reference(const ResourceInfo& resource, const json& owner) {
    return {{"apiVersion", resource.group_version()},
            {"kind", resource.kind},
            {"name", meta(owner).value("name", "")},
            {"uid", uid_of(owner)},
            {"controller", true},
            {"blockOwnerDeletion", true}};
}

inline json condition(const std::string& type, bool status, const std::string& reason,
                      const std::string& message, bool with_update_time) {
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
inline json merge_conditions(const json& old_conditions, json conditions) {
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

inline bool pod_ready(const json& pod) {
    for (const auto& c : child(pod, "status").value("conditions", json::array())) {
        if (c.value("type", "") == "Ready") {
            return c.value("status", "") == "True";
        }
    }
    return false;
}

inline std::string phase_of(const json& pod) {
    return child(pod, "status").value("phase", "Pending");
}

inline bool terminal(const json& pod) {
    const std::string phase = phase_of(pod);
    return phase == "Succeeded" || phase == "Failed";
}

// A stable name suffix from a pod template, like the pod-template-hash label (10 characters of the alphabet
// generated names use).
inline std::string template_hash(const json& pod_template) {
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
inline long long scaled(const json& value, long long total) {
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

} // namespace meshlink::fakekube::controller
