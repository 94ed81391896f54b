# MESHLINK_SANITIZE=ON builds everything with AddressSanitizer and UndefinedBehaviorSanitizer.
# `make test` runs the unit tests a second time in such a build.
option(MESHLINK_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(MESHLINK_SANITIZE)
  set(_meshlink_san -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1)
  target_compile_options(meshlink_settings INTERFACE ${_meshlink_san})
  target_link_options(meshlink_settings INTERFACE ${_meshlink_san})
  # With sanitizers GCC 12 reports false -Wmaybe-uninitialized inside libstdc++ (<regex>, <optional>).
  target_compile_options(meshlink_settings INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
endif()
