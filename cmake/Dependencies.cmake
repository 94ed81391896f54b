# Every third-party dependency, found once, as an imported target. All come from Debian packages
# (scripts/install-deps installs them); nothing is downloaded at build time.
# The release build (-DMESHLINK_DEPS_PREFIX=<prefix from scripts/build-deps>, `make dist`) takes the same targets
# from static archives built from pinned sources instead: cmake/StaticDependencies.cmake.
if(MESHLINK_DEPS_PREFIX)
  include(${CMAKE_CURRENT_LIST_DIR}/StaticDependencies.cmake)
  return()
endif()
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)               # OpenSSL::SSL OpenSSL::Crypto
find_package(CURL REQUIRED)                    # CURL::libcurl
find_package(ZLIB REQUIRED)                    # ZLIB::ZLIB
# yaml-cpp and libbpf come from their static archives by default: as shared libraries their symbol tables,
# relocations and (yaml-cpp) iostream initialisation cost every process ~0.4 MiB of RSS at exec, although
# only a few verbs parse YAML; `meshlink-agent probe` must stay within 8 MiB (bench/probe).
# Both licences (MIT; LGPL-2.1 OR BSD-2-Clause) allow it. OFF links the shared libraries.
option(MESHLINK_STATIC_SMALL_DEPS "Link yaml-cpp and libbpf statically (lower RSS per process)" ON)
if(MESHLINK_STATIC_SMALL_DEPS)
  find_library(MESHLINK_YAML_CPP_ARCHIVE NAMES libyaml-cpp.a REQUIRED)
  # Defined before find_package: yaml-cpp's own targets file then keeps this target instead of the shared one.
  add_library(yaml-cpp STATIC IMPORTED)
  set_target_properties(yaml-cpp PROPERTIES IMPORTED_LOCATION ${MESHLINK_YAML_CPP_ARCHIVE})
endif()
find_package(yaml-cpp REQUIRED)                # yaml-cpp
find_package(nlohmann_json 3.10 REQUIRED)      # nlohmann_json::nlohmann_json
find_package(cxxopts REQUIRED)                 # cxxopts::cxxopts
find_package(fmt REQUIRED)                     # fmt::fmt
if(BUILD_TESTING)
  # Tests only: Boost.Test, and Boost.Beast/Asio (header-only) for fakekube.
  find_package(Boost 1.74 REQUIRED COMPONENTS unit_test_framework)  # Boost::headers, Boost::unit_test_framework
endif()

pkg_check_modules(LIBKMOD REQUIRED IMPORTED_TARGET libkmod)   # PkgConfig::LIBKMOD
pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf)     # PkgConfig::LIBBPF
if(MESHLINK_STATIC_SMALL_DEPS)
  # libbpf.a, then what its pkg-config --static names (libelf, zlib), which stay shared.
  find_library(MESHLINK_LIBBPF_ARCHIVE NAMES libbpf.a HINTS ${LIBBPF_LIBRARY_DIRS} REQUIRED)
  list(REMOVE_ITEM LIBBPF_STATIC_LIBRARIES bpf)
  set_target_properties(PkgConfig::LIBBPF PROPERTIES
    INTERFACE_LINK_LIBRARIES "${MESHLINK_LIBBPF_ARCHIVE};${LIBBPF_STATIC_LIBRARIES}")
endif()

# libsystemd is used by a test fixture only: the stand-in logind of the kernel rollout tests serves
# org.freedesktop.login1 with sd-bus (tests/integration/kernel). The agent itself speaks D-Bus with its own
# client (node-agent/rollout/system_bus.hpp) and journald's protocol directly, in every build, so the static
# release agent does exactly what the tested one does.
option(MESHLINK_WITH_SYSTEMD "Build the kernel rollout tests' stand-in logind (needs libsystemd's sd-bus)" ON)
if(MESHLINK_WITH_SYSTEMD)
  pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)  # PkgConfig::LIBSYSTEMD
endif()
