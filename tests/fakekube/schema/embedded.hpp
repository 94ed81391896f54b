#pragma once
// The compact API schema (schema/kubernetes.json, from gen_schema.mjs), embedded at build time.

namespace meshlink::fakekube {

extern const char k_schema_json[];

} // namespace meshlink::fakekube
