# Compiler settings shared by every meshlink target, as INTERFACE targets linked PRIVATE.
#   meshlink_settings: language level, definitions, sanitizers
#   meshlink_warnings: -Wall -Wextra -Wpedantic -Werror for our own code only

add_library(meshlink_settings INTERFACE)
target_compile_features(meshlink_settings INTERFACE cxx_std_23)
target_compile_definitions(meshlink_settings INTERFACE _FILE_OFFSET_BITS=64)
# Record only the shared libraries a binary really uses, so the agent does not load what it never calls.
target_link_options(meshlink_settings INTERFACE -Wl,--as-needed)

add_library(meshlink_warnings INTERFACE)
target_compile_options(meshlink_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow=local -Wnon-virtual-dtor -Wcast-qual -Wformat=2 -Wimplicit-fallthrough
  # GCC 12 reports false -Wrestrict positives inside libstdc++'s std::string concatenation at -O2/-O3
  # (GCC bug 105329, fixed in 13).
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>)

include(${CMAKE_CURRENT_LIST_DIR}/Sanitizers.cmake)

# Precompiled headers for the heavy, stable third-party headers our targets include everywhere (json, fmt,
# cxxopts, yaml-cpp, Boost.Test): a clean build (CI, make test) spends most of its time parsing them.
option(MESHLINK_PCH "Precompile the common third-party headers" ON)
function(meshlink_precompile target)
  if(MESHLINK_PCH)
    target_precompile_headers(${target} PRIVATE ${ARGN})
  endif()
endfunction()
