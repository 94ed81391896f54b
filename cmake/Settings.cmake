# Compiler settings shared by every meshlink target, as INTERFACE targets linked PRIVATE.
#   meshlink_settings: language level, definitions, sanitizers
#   meshlink_warnings: -Wall -Wextra -Wpedantic -Werror for our own code only

add_library(meshlink_settings INTERFACE)
target_compile_features(meshlink_settings INTERFACE cxx_std_23)
target_compile_definitions(meshlink_settings INTERFACE _FILE_OFFSET_BITS=64)

add_library(meshlink_warnings INTERFACE)
target_compile_options(meshlink_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow=local -Wnon-virtual-dtor -Wcast-qual -Wformat=2 -Wimplicit-fallthrough)

include(${CMAKE_CURRENT_LIST_DIR}/Sanitizers.cmake)
