# Shared by the toolchain-linux-<arch>.cmake files: libraries and packages are looked up only in the prefix that
# scripts/build-deps filled (MESHLINK_DEPS_PREFIX), never in the build machine's /usr, so nothing of the host's
# leaks into a release binary; programs (cmake, ninja, pkg-config) still come from the host.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MESHLINK_DEPS_PREFIX)
if(MESHLINK_DEPS_PREFIX)
  set(CMAKE_FIND_ROOT_PATH ${MESHLINK_DEPS_PREFIX})
  set(ENV{PKG_CONFIG_LIBDIR} ${MESHLINK_DEPS_PREFIX}/lib/pkgconfig)
  set(ENV{PKG_CONFIG_PATH} "")
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
