# Generates build_info.hpp (version, git commit, build options) for `version` commands.
execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  OUTPUT_VARIABLE MESHLINK_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT MESHLINK_GIT_COMMIT)
  set(MESHLINK_GIT_COMMIT "unknown")
endif()
set(MESHLINK_BUILD_TYPE "${CMAKE_BUILD_TYPE}")
if(MESHLINK_SANITIZE)
  string(APPEND MESHLINK_BUILD_TYPE "+asan+ubsan")
endif()
if(MESHLINK_STATIC_RELEASE)
  string(APPEND MESHLINK_BUILD_TYPE ", static")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/build_info.hpp.in ${PROJECT_BINARY_DIR}/generated/build_info.hpp @ONLY)
