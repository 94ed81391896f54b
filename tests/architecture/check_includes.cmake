# Fails when a source file of a library includes a header from a folder that library may not depend on
# (docs/architecture.md, "Who may include whom"). This table is the rule; the document explains it.
#   cmake -DROOT=<source tree> -P tests/architecture/check_includes.cmake
# tests/ and bench/ may include anything and are not checked.

cmake_minimum_required(VERSION 3.25)

set(may_include_util "")
set(may_include_yaml "util")
set(may_include_kube "yaml;util")
set(may_include_probe "util")
set(may_include_node-agent "kube;probe;yaml;util")
set(may_include_plugin "kube;probe;yaml;util")
set(libraries util yaml kube probe node-agent plugin)
# Every top-level folder of ours that a quoted include can name.
set(folders ${libraries} tests bench)

if(NOT DEFINED ROOT OR NOT IS_DIRECTORY "${ROOT}")
  message(FATAL_ERROR "check_includes.cmake: pass -DROOT=<source tree>")
endif()

set(violations "")
set(scanned 0)
foreach(library IN LISTS libraries)
  file(GLOB_RECURSE sources LIST_DIRECTORIES false
    "${ROOT}/${library}/*.cpp" "${ROOT}/${library}/*.hpp" "${ROOT}/${library}/*.h" "${ROOT}/${library}/*.c"
    "${ROOT}/${library}/*.in")
  foreach(source IN LISTS sources)
    math(EXPR scanned "${scanned} + 1")
    file(STRINGS "${source}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<][^/\">]+/")
    foreach(line IN LISTS includes)
      string(REGEX MATCH "#[ \t]*include[ \t]*[\"<]([^/\">]+)/" ignored "${line}")
      set(folder "${CMAKE_MATCH_1}")
      if(folder IN_LIST folders AND NOT folder STREQUAL library AND NOT folder IN_LIST may_include_${library})
        file(RELATIVE_PATH where "${ROOT}" "${source}")
        list(APPEND violations "  ${where}: ${library}/ may not include ${folder}/: ${line}")
      endif()
    endforeach()
  endforeach()
endforeach()

if(violations)
  list(JOIN violations "\n" text)
  message(FATAL_ERROR "forbidden include directions (docs/architecture.md, \"Who may include whom\"):\n${text}")
endif()
message(STATUS "${scanned} files of ${libraries} include only what they may")
