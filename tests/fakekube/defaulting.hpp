#pragma once
// The defaults kube-apiserver fills in on create and update (pkg/apis/*/v1/defaults.go, the parts a
// client can notice), and the admission that sets a Pod's service account.

#include "tests/fakekube/http.hpp"

namespace meshlink::fakekube {

struct ResourceInfo;

void apply_defaults(const ResourceInfo& resource, json& object);

} // namespace meshlink::fakekube
