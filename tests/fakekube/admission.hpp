#pragma once
// Validating admission: the admissionregistration.k8s.io/v1 ValidatingAdmissionPolicies and their bindings
// stored in fakekube, evaluated (cel.hpp) on every create, update (patches included) and delete of a resource
// after the object is complete and validated and before it is stored, as kube-apiserver's
// ValidatingAdmissionPolicy plugin does. tests/fakekube/README.md "Admission" lists what is enforced and what
// differs from the real server.

#include "tests/fakekube/http.hpp"
#include "tests/fakekube/status.hpp"

#include <optional>
#include <string>
#include <vector>

namespace meshlink::fakekube {

class Store;
struct ResourceInfo;

struct AdmissionAttributes {
    std::string operation; // CREATE, UPDATE, DELETE
    const ResourceInfo& resource;
    std::string subresource;
    std::string ns;
    std::string name;
    const json& object;     // null for DELETE
    const json& old_object; // null for CREATE
    const Identity& user;
    bool dry_run = false;
};

struct AdmissionDecision {
    std::optional<ApiError> denied;    // the first denying decision, as kube-apiserver answers it
    std::vector<std::string> warnings; // Warning header texts from bindings with validationActions Warn
};

AdmissionDecision validating_admission(const Store& store, const AdmissionAttributes& request);

} // namespace meshlink::fakekube
