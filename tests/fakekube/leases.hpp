#pragma once
// coordination.k8s.io/v1 Lease, where kube-apiserver is stricter than fakekube's generated schema: its
// acquireTime and renewTime are metav1.MicroTime, which the decoder parses with the layout
// "2006-01-02T15:04:05.000000Z07:00" (exactly six fraction digits; a whole-second time is refused with 400),
// and the LeaseSpec validation (pkg/apis/coordination/validation) wants a positive leaseDurationSeconds and a
// non-negative leaseTransitions (422).

#include "tests/fakekube/http.hpp"
#include "tests/fakekube/status.hpp"

#include <optional>
#include <string>
#include <vector>

namespace meshlink::fakekube {

struct ResourceInfo;

// The decoder's error for a Lease whose MicroTime fields do not parse ("parsing time ..."); nullopt when they
// do, or when `resource` is not Leases.
std::optional<std::string> lease_decode_error(const ResourceInfo& resource, const json& object);

// The field errors of a Lease's spec (empty when valid).
std::vector<Cause> lease_causes(const json& object);

} // namespace meshlink::fakekube
