#pragma once
// The three patch types kube-apiserver accepts: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
// strategic merge patch with list merge keys and the $patch / $retainKeys / $deleteFromPrimitiveList /
// $setElementOrder directives, driven by the API models' patchStrategy/patchMergeKey metadata.

#include "tests/fakekube/http.hpp"
#include "util/error.hpp"

namespace meshlink::fakekube {

namespace schema {
struct Model;
}

util::Result<json> apply_merge_patch(const json& original, const json& patch);
util::Result<json> apply_json_patch(const json& original, const json& patch);
// `model` is the object's top-level model; without one (nullptr) lists are replaced like a merge patch.
util::Result<json> apply_strategic_merge_patch(const json& original, const json& patch,
                                               const schema::Model* model);

} // namespace meshlink::fakekube
