# Release (static) build for linux/amd64: scripts/build-deps and `make dist` pass it with -DMESHLINK_DEPS_PREFIX.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER x86_64-linux-gnu-g++)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-static-common.cmake)
