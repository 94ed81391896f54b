# Proves that check_includes.cmake fails on every forbidden direction and passes every allowed one, on small
# trees written here (the real tree is checked by the architecture_includes test).
#   cmake -DCHECK=<check_includes.cmake> -DWORK=<scratch dir> -P tests/architecture/planted_violations.cmake

cmake_minimum_required(VERSION 3.25)

set(forbidden
  probe:node-agent probe:plugin probe:kube probe:yaml
  node-agent:plugin plugin:node-agent
  kube:plugin kube:node-agent kube:probe
  yaml:kube yaml:plugin
  util:kube util:yaml util:probe util:plugin util:node-agent
  plugin:tests kube:bench)
set(allowed
  util:util yaml:util kube:yaml kube:util probe:util
  node-agent:kube node-agent:probe node-agent:yaml node-agent:util
  plugin:kube plugin:probe plugin:yaml plugin:util)

function(run_check root out_result out_output)
  execute_process(COMMAND ${CMAKE_COMMAND} -DROOT=${root} -P ${CHECK}
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  set(${out_result} ${result} PARENT_SCOPE)
  set(${out_output} "${output}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK}")
set(failures "")

# One planted include at a time, in a file nested like real sources, next to includes that are fine.
foreach(pair IN LISTS forbidden)
  string(REPLACE ":" ";" parts "${pair}")
  list(GET parts 0 from)
  list(GET parts 1 to)
  set(root "${WORK}/${from}-to-${to}")
  file(WRITE "${root}/${from}/sub/planted.cpp"
    "#include \"${from}/own.hpp\"\n#include <yaml-cpp/yaml.h>\n  #  include \"${to}/x.hpp\"\nint x;\n")
  run_check("${root}" result output)
  if(result EQUAL 0 OR NOT output MATCHES "${from}/sub/planted.cpp: ${from}/ may not include ${to}/")
    list(APPEND failures "${from} -> ${to} was not reported (exit ${result}): ${output}")
  endif()
endforeach()

# Every allowed direction at once: no complaint.
set(root "${WORK}/allowed")
foreach(pair IN LISTS allowed)
  string(REPLACE ":" ";" parts "${pair}")
  list(GET parts 0 from)
  list(GET parts 1 to)
  file(APPEND "${root}/${from}/ok.cpp" "#include \"${to}/x.hpp\"\n")
endforeach()
file(WRITE "${root}/tests/anything.cpp" "#include \"plugin/x.hpp\"\n#include \"node-agent/y.hpp\"\n")
run_check("${root}" result output)
if(NOT result EQUAL 0)
  list(APPEND failures "allowed includes were refused: ${output}")
endif()

file(REMOVE_RECURSE "${WORK}")
if(failures)
  list(JOIN failures "\n" text)
  message(FATAL_ERROR "${text}")
endif()
list(LENGTH forbidden count)
message(STATUS "${count} planted violations reported, allowed directions accepted")
