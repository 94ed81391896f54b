#pragma once
// The compact API schema generated at build time by gen_schema.py (see schema.hpp for its shape).

namespace meshlink::fakekube {

extern const char k_schema_json[];

} // namespace meshlink::fakekube
