# cmake -DINPUT=FILE -DOUTPUT=FILE.cpp -DHEADER=plugin/x/y.hpp -DNAMESPACE=meshlink::plugin::x -DFUNCTION=name
#       -P embed_text.cmake
# Embeds a text file (the scripts the verify Jobs run) as `std::string_view FUNCTION()`, so the tests can run
# the very file the plugin ships.
file(READ "${INPUT}" text)
string(FIND "${text}" ")meshlink\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter )meshlink\"")
endif()
set(out "// Generated from ${INPUT} by plugin/embed_text.cmake. Do not edit.\n")
string(APPEND out "#include \"${HEADER}\"\n\nnamespace ${NAMESPACE} {\n\n")
string(APPEND out "std::string_view ${FUNCTION}() {\n    static constexpr char k_text[] = R\"meshlink(${text})meshlink\";\n")
string(APPEND out "    return {k_text, sizeof k_text - 1};\n}\n\n} // namespace ${NAMESPACE}\n")
file(WRITE "${OUTPUT}.tmp" "${out}")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
