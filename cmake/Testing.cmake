# meshlink_add_boost_test(<name> LABELS <label>... SOURCES <file>... LIBS <target>...)
# One Boost.Test binary, registered with CTest as one test. A test that cannot run here (not root,
# missing kernel feature) exits 77, which CTest reports as skipped.
function(meshlink_add_boost_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "LABELS;SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} Boost::unit_test_framework meshlink_settings meshlink_warnings
    meshlink_test_code)
  target_compile_definitions(${name} PRIVATE BOOST_TEST_DYN_LINK
    MESHLINK_SOURCE_DIR="${PROJECT_SOURCE_DIR}" MESHLINK_BINARY_DIR="${PROJECT_BINARY_DIR}")
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name} --log_level=test_suite --report_level=short)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" SKIP_RETURN_CODE 77 TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "MESHLINK_BIN_DIR=${PROJECT_BINARY_DIR}/bin")
endfunction()
