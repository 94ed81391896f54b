# The release build's dependencies: static archives that scripts/build-deps built from pinned Debian sources into
# MESHLINK_DEPS_PREFIX, as the same imported targets Dependencies.cmake defines for the development build, and
# fully static executables (cmake/toolchain-linux-<arch>.cmake keeps every lookup inside the prefix).
#
# Fully static, with glibc: no glibc floor at all (kernel 3.2 or newer is the only requirement), the same
# compiler, C++ runtime and allocator as the development build. The one hazard of a static glibc is NSS: a call
# such as getaddrinfo or getpwuid loads the host's NSS modules (libnss_myhostname, libnss_sss...), which aborts
# in a static binary. So nothing here calls NSS: libcurl resolves with c-ares (/etc/hosts, then DNS, like
# kubectl), kube/kubeconfig.cpp reads /etc/passwd itself. docs/release-build.md has the whole reasoning.
set(MESHLINK_STATIC_RELEASE ON)
set(MESHLINK_LAZY_LIBCURL OFF CACHE BOOL "libcurl is linked statically in the release build" FORCE)
set(BUILD_TESTING OFF CACHE BOOL "the release build compiles only what ships" FORCE)
set(prefix ${MESHLINK_DEPS_PREFIX}) # read by the functions below
if(NOT EXISTS ${prefix}/.complete)
  message(FATAL_ERROR "MESHLINK_DEPS_PREFIX=${prefix} is not a complete scripts/build-deps prefix")
endif()
find_package(Threads REQUIRED)

# meshlink_static_library(<target> <archive> [DEPS <target>...] [DEFINES <definition>...])
function(meshlink_static_library target archive)
  cmake_parse_arguments(ARG "" "" "DEPS;DEFINES" ${ARGN})
  if(NOT EXISTS ${prefix}/lib/${archive})
    message(FATAL_ERROR "${prefix}/lib/${archive} is missing: run scripts/build-deps again")
  endif()
  add_library(${target} STATIC IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES
    IMPORTED_LOCATION ${prefix}/lib/${archive}
    INTERFACE_INCLUDE_DIRECTORIES ${prefix}/include
    INTERFACE_LINK_LIBRARIES "${ARG_DEPS}"
    INTERFACE_COMPILE_DEFINITIONS "${ARG_DEFINES}")
endfunction()

function(meshlink_header_library target)
  add_library(${target} INTERFACE IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${prefix}/include)
endfunction()

meshlink_static_library(ZLIB::ZLIB libz.a)
meshlink_static_library(OpenSSL::Crypto libcrypto.a DEPS Threads::Threads)
meshlink_static_library(OpenSSL::SSL libssl.a DEPS OpenSSL::Crypto)
meshlink_static_library(meshlink::nghttp2 libnghttp2.a DEFINES NGHTTP2_STATICLIB)
meshlink_static_library(meshlink::cares libcares.a DEFINES CARES_STATICLIB)
meshlink_static_library(CURL::libcurl libcurl.a
  DEPS meshlink::nghttp2 meshlink::cares OpenSSL::SSL ZLIB::ZLIB Threads::Threads DEFINES CURL_STATICLIB)
meshlink_static_library(yaml-cpp libyaml-cpp.a)
meshlink_static_library(PkgConfig::LIBYAML libyaml.a DEFINES YAML_DECLARE_STATIC)
meshlink_static_library(fmt::fmt libfmt.a)
meshlink_header_library(nlohmann_json::nlohmann_json)
meshlink_header_library(cxxopts::cxxopts)
meshlink_static_library(meshlink::elf libelf.a DEPS ZLIB::ZLIB)
meshlink_static_library(PkgConfig::LIBBPF libbpf.a DEPS meshlink::elf ZLIB::ZLIB)
meshlink_static_library(PkgConfig::LIBKMOD libkmod.a)

# yaml-cpp's version for `version` (kube/CMakeLists.txt reads yaml-cpp_VERSION).
file(STRINGS ${prefix}/lib/pkgconfig/yaml-cpp.pc yaml_cpp_version_line REGEX "^Version:")
string(REGEX REPLACE "^Version: *" "" yaml-cpp_VERSION "${yaml_cpp_version_line}")

# Every executable is fully static; unused sections go. glibc warns at link time about NSS functions that are
# referenced but never reach NSS (docs/release-build.md, "The NSS rule"): getaddrinfo in OpenSSL's BIO_lookup_ex and
# gethostbyname in BIO_gethostbyname (OpenSSL's own socket connects; meshlink hands OpenSSL connected sockets),
# getservbyname_r/getservbyport_r in c-ares (service names; libcurl always passes a port number), and in the agent
# getaddrinfo of the HTTP server's listen address (AI_NUMERICHOST: parsed, never looked up). tests/dist runs the
# binaries where any NSS call would abort.
add_link_options(-static -Wl,--gc-sections)
# No build paths in the binaries (assertion messages, __FILE__): two checkouts build the same bytes.
add_compile_options(-ffunction-sections -fdata-sections -ffile-prefix-map=${PROJECT_SOURCE_DIR}=.)
