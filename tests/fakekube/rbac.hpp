#pragma once
// Authorization. Allow-all by default; with RBAC on (`--authorization-mode RBAC`, or a ConfigMap
// kube-system/fakekube-authorization whose data.mode is "RBAC") requests are checked against the
// Roles, ClusterRoles and bindings stored in fakekube, the way kube-apiserver's RBAC authorizer does.
// Members of system:masters are always allowed; discovery paths are open to every authenticated user.

#include "tests/fakekube/http.hpp"

#include <string>

namespace meshlink::fakekube {

class Store;

struct Attributes {
    bool resource_request = true;
    std::string verb; // get list watch create update patch delete deletecollection
    std::string group;
    std::string resource;
    std::string subresource;
    std::string ns;
    std::string name;
    std::string path; // non-resource requests
};

struct Decision {
    bool allowed = true;
    std::string reason;
};

// Whether RBAC is switched on by the stored ConfigMap (the flag is the caller's business).
bool rbac_enabled_by_config(const Store& store);

Decision authorize(const Store& store, bool rbac, const Identity& who, const Attributes& what);

// kube-apiserver's text: `secrets "x" is forbidden: User "u" cannot get resource "secrets" in API group ""
// in the namespace "kube-system"`.
std::string forbidden_message(const Identity& who, const Attributes& what,
                              const std::string& qualified_resource);

} // namespace meshlink::fakekube
