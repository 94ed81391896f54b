# MESHLINK_SANITIZE=ON builds everything with AddressSanitizer and UndefinedBehaviorSanitizer.
# `make test` runs the unit tests a second time in such a build.
option(MESHLINK_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(MESHLINK_SANITIZE)
  # -O0 and line tables only (-g1: function, file:line, all a report needs): instrumenting optimised code with
  # full debug information made this build, `make test`'s second, take twice as long as the Release build.
  set(_meshlink_san -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O0 -g1)
  target_compile_options(meshlink_settings INTERFACE ${_meshlink_san})
  target_link_options(meshlink_settings INTERFACE ${_meshlink_san})
  # With sanitizers GCC 12 reports false -Wmaybe-uninitialized inside libstdc++ (<regex>, <optional>).
  target_compile_options(meshlink_settings INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
endif()
