# meshlink_add_boost_test(<name> LABELS <label>... SOURCES <file>... LIBS <target>... [SUITES <filter>...]
#                         [TIMEOUT <s>] [COST <n>])
# One Boost.Test binary, registered with CTest as one test, or with SUITES as one test per --run_test filter
# ("suite" or "suite_a:suite_b", named <name>.<filter> with ':' as '+') so that `ctest -j` spreads a long
# binary over the cores. A test that cannot run here (not root, missing kernel feature) exits 77, which CTest
# reports as skipped.
function(meshlink_add_boost_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT;COST" "LABELS;SOURCES;LIBS;SUITES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} Boost::unit_test_framework meshlink_settings meshlink_warnings
    meshlink_test_code)
  target_compile_definitions(${name} PRIVATE BOOST_TEST_DYN_LINK
    MESHLINK_SOURCE_DIR="${PROJECT_SOURCE_DIR}" MESHLINK_BINARY_DIR="${PROJECT_BINARY_DIR}")
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  # The file that defines BOOST_TEST_MODULE includes Boost.Test itself, after the definition, so it cannot use
  # the precompiled header (which includes Boost.Test): cmake/PrecompiledHeaders.cmake.
  foreach(source IN LISTS ARG_SOURCES)
    file(READ ${CMAKE_CURRENT_SOURCE_DIR}/${source} text LIMIT 2000)
    if(text MATCHES "#define BOOST_TEST_MODULE")
      set_source_files_properties(${source} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set(tests)
  if(ARG_SUITES)
    foreach(filter IN LISTS ARG_SUITES)
      string(REPLACE ":" "+" part ${filter})
      add_test(NAME ${name}.${part} COMMAND ${name} --run_test=${filter} --log_level=test_suite --report_level=short)
      list(APPEND tests ${name}.${part})
    endforeach()
  else()
    add_test(NAME ${name} COMMAND ${name} --log_level=test_suite --report_level=short)
    set(tests ${name})
  endif()
  set_tests_properties(${tests} PROPERTIES LABELS "${ARG_LABELS}" SKIP_RETURN_CODE 77 TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "MESHLINK_BIN_DIR=${PROJECT_BINARY_DIR}/bin")
  if(ARG_COST)
    # A clean build has no timing history: long tests say so, and `ctest -j` starts them first.
    set_tests_properties(${tests} PROPERTIES COST ${ARG_COST})
  endif()
endfunction()
