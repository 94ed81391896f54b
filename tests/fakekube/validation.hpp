#pragma once
// Semantic validation kube-apiserver does after decoding (pkg/apis/*/validation): names, labels,
// required fields, Service ports and types, Pod specs and templates, selectors, immutable fields.
// Returns the field errors the 422 Invalid answer lists; empty when the object is valid.

#include "tests/fakekube/http.hpp"
#include "tests/fakekube/status.hpp"

#include <vector>

namespace meshlink::fakekube {

struct ResourceInfo;

// `old` is the stored object on update, nullptr on create.
std::vector<Cause> validate(const ResourceInfo& resource, const json& object, const json* old);

// DNS-1123 subdomain / label and DNS-1035 label checks with the real messages ("" when valid).
std::string dns1123_subdomain_error(std::string_view name);
std::string dns1123_label_error(std::string_view name);
std::string dns1035_label_error(std::string_view name);

} // namespace meshlink::fakekube
