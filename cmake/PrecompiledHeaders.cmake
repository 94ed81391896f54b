# Precompiled headers, one per kind of code, shared by every target of that kind.
#
# The standard library, nlohmann/json and fmt (and Boost.Test in test binaries) are what nearly every file
# includes; precompiling them cuts the compile time per file by ~40% (README "Build and test time"). A
# precompiled header is only valid for the compiler flags it was made with, and ours differ in exactly two ways:
# test-only code is compiled with -O1 (meshlink_test_code), and Boost.Test binaries add Boost.Test. So there are
# three headers, each made once by an otherwise empty anchor target, and every other target reuses one of them
# (PRECOMPILE_HEADERS_REUSE_FROM) instead of making its own: ~40 targets used to make ~40 headers, most of them
# for executables of one or two files, where making the header cost more than it saved.
#
#   meshlink_pch_product  our code that ships (links meshlink_warnings, not meshlink_test_code)
#   meshlink_pch_test     test-only code: fakekube, test support libraries, benchmarks that use them
#   meshlink_pch_boost    Boost.Test binaries (meshlink_add_boost_test)
#
# A target whose flags still differ (an extra definition the headers test, another -O) is safe: GCC checks every
# precompiled header it is given and falls back to the real headers, and -Winvalid-pch with our -Werror makes such
# a mismatch a build error, so it is fixed rather than silently slow.

set(MESHLINK_PCH_HEADERS
  <algorithm> <chrono> <filesystem> <functional> <map> <memory> <optional> <set> <string> <string_view>
  <utility> <vector> <expected> <nlohmann/json.hpp> <fmt/format.h>)

# Every target defined in <dir> and the folders below it.
function(_meshlink_targets_below dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    _meshlink_targets_below(${subdir} below)
    list(APPEND targets ${below})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

function(_meshlink_pch_anchor name)
  set(source ${PROJECT_BINARY_DIR}/generated/${name}.cpp)
  if(NOT EXISTS ${source})
    file(WRITE ${source} "// The anchor of precompiled header ${name} (cmake/PrecompiledHeaders.cmake).\n")
  endif()
  add_library(${name} OBJECT ${source})
  target_link_libraries(${name} PRIVATE meshlink_settings meshlink_warnings nlohmann_json::nlohmann_json fmt::fmt
    ${ARGN})
  foreach(header IN LISTS MESHLINK_PCH_HEADERS)
    target_precompile_headers(${name} PRIVATE "$<$<COMPILE_LANGUAGE:CXX>:${header}>")
  endforeach()
endfunction()

# Called once, at the end of the top-level CMakeLists.txt, when every target exists.
function(meshlink_share_precompiled_headers)
  if(NOT MESHLINK_PCH)
    return()
  endif()
  _meshlink_targets_below(${PROJECT_SOURCE_DIR} targets)

  # Which anchor each of our targets reuses; an anchor is made only when some target uses it (a release build
  # without tests needs only the product's).
  set(users_product)
  set(users_test)
  set(users_boost)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(NOT type MATCHES "^(EXECUTABLE|STATIC_LIBRARY|SHARED_LIBRARY|OBJECT_LIBRARY)$")
      continue()
    endif()
    get_target_property(links ${target} LINK_LIBRARIES)
    if(NOT links OR NOT "meshlink_warnings" IN_LIST links)
      continue() # not our code (or not C++): left as it is
    endif()
    if("Boost::unit_test_framework" IN_LIST links)
      list(APPEND users_boost ${target})
    elseif("meshlink_test_code" IN_LIST links)
      list(APPEND users_test ${target})
    else()
      list(APPEND users_product ${target})
    endif()
  endforeach()

  if(users_product)
    _meshlink_pch_anchor(meshlink_pch_product)
  endif()
  if(users_test)
    _meshlink_pch_anchor(meshlink_pch_test meshlink_test_code)
  endif()
  if(users_boost)
    _meshlink_pch_anchor(meshlink_pch_boost meshlink_test_code Boost::unit_test_framework)
    target_compile_definitions(meshlink_pch_boost PRIVATE BOOST_TEST_DYN_LINK)
    target_precompile_headers(meshlink_pch_boost PRIVATE <boost/test/unit_test.hpp>)
  endif()
  foreach(kind IN ITEMS product test boost)
    foreach(target IN LISTS users_${kind})
      target_precompile_headers(${target} REUSE_FROM meshlink_pch_${kind})
    endforeach()
  endforeach()
endfunction()
