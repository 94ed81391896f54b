# Compiler settings shared by every meshlink target, as INTERFACE targets linked PRIVATE.
#   meshlink_settings: language level, definitions, sanitizers
#   meshlink_warnings: -Wall -Wextra -Wpedantic -Werror for our own code only

add_library(meshlink_settings INTERFACE)
target_compile_features(meshlink_settings INTERFACE cxx_std_23)
# cxxopts without <regex>: its hand-written parser accepts the same options, and std::regex costs every run
# ~15 ms of start-up (compiling cxxopts' patterns) and every translation unit seconds of compile time.
target_compile_definitions(meshlink_settings INTERFACE _FILE_OFFSET_BITS=64 CXXOPTS_NO_REGEX)
# Record only the shared libraries a binary really uses, so the agent does not load what it never calls.
target_link_options(meshlink_settings INTERFACE -Wl,--as-needed)
# fmt and nlohmann/json are in every target's precompiled header (cmake/PrecompiledHeaders.cmake), and fmt's
# FMT_SHARED must be defined alike in the header and every file that uses it.
target_link_libraries(meshlink_settings INTERFACE fmt::fmt nlohmann_json::nlohmann_json)

add_library(meshlink_warnings INTERFACE)
target_compile_options(meshlink_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow=local -Wnon-virtual-dtor -Wcast-qual -Wformat=2 -Wimplicit-fallthrough
  # GCC 12 reports false -Wrestrict, -Wstringop-overflow, -Wstringop-overread and -Warray-bounds positives inside
  # libstdc++'s std::string at -O2/-O3 (GCC bugs 105329, 105651, 105545; fixed in 13); which ones appear depends on
  # inlining, which precompiled headers change.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict -Wno-stringop-overflow -Wno-stringop-overread -Wno-array-bounds>)

# Test-only code (test binaries, fakekube, test support libraries) needs no -O3: -O1 compiles it ~30% faster
# and it still runs quickly. What ships keeps the build type's flags.
add_library(meshlink_test_code INTERFACE)
target_compile_options(meshlink_test_code INTERFACE $<$<CONFIG:Release>:-O1>
  # GCC 12 reports false -Wmaybe-uninitialized inside Boost.Function (Boost.Test's predicates) when Boost.Test
  # comes from the precompiled header.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-maybe-uninitialized>)

# Precompiled headers: see cmake/PrecompiledHeaders.cmake (applied after every target exists).
option(MESHLINK_PCH "Precompile the headers nearly every file includes" ON)

include(${CMAKE_CURRENT_LIST_DIR}/Sanitizers.cmake)

