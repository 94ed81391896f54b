# cmake -DINPUT=kubernetes.json -DOUTPUT=fakekube_schema.cpp -P embed_schema.cmake
# Embeds the committed schema (gen_schema.mjs's output) into fakekube as one string: adjacent raw string literals
# of at most 16 KiB each, which every compiler takes.
file(READ "${INPUT}" text)
string(LENGTH "${text}" length)
set(out "// Generated from tests/fakekube/schema/kubernetes.json by embed_schema.cmake. Do not edit.\n")
string(APPEND out "#include \"tests/fakekube/schema/embedded.hpp\"\n\nnamespace meshlink::fakekube {\n\n")
string(APPEND out "const char k_schema_json[] =\n")
set(offset 0)
while(offset LESS length)
  string(SUBSTRING "${text}" ${offset} 16384 chunk)
  string(APPEND out "    R\"fk(${chunk})fk\"\n")
  math(EXPR offset "${offset} + 16384")
endwhile()
string(APPEND out "    ;\n\n} // namespace meshlink::fakekube\n")
file(WRITE "${OUTPUT}" "${out}")
