# Every third-party dependency, found once, as an imported target. All come from Debian packages
# (scripts/install-deps installs them); nothing is downloaded at build time.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)               # OpenSSL::SSL OpenSSL::Crypto
find_package(CURL REQUIRED)                    # CURL::libcurl
find_package(ZLIB REQUIRED)                    # ZLIB::ZLIB
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
# The agent's /healthz, /readyz and /metrics (Debian builds it as a shared library with OpenSSL support).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)  # PkgConfig::HTTPLIB

# libsystemd is optional: the agent logs to the journal and talks to logind with it.
option(MESHLINK_WITH_SYSTEMD "Use libsystemd (journal logging, logind over sd-bus) in the agent" ON)
if(MESHLINK_WITH_SYSTEMD)
  pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)  # PkgConfig::LIBSYSTEMD
endif()
