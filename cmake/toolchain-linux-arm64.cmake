# Release (static) build for linux/arm64 with Debian's cross compiler (g++-aarch64-linux-gnu).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-static-common.cmake)
# Build-time tools (plugin/agent/embed_manifests) are arm64 binaries too: they run under user-mode emulation.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static)
