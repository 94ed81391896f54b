# The two entry points the README starts with:
#   make run   install what is missing, build, run the main job (on the sandbox clusters without a kubeconfig)
#   make test  install what is missing, build (Release + ASan/UBSan), run the whole test suite
SHELL := /bin/bash
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_GENERATOR ?= Ninja

RELEASE_DIR := $(BUILD_DIR)/release
ASAN_DIR := $(BUILD_DIR)/asan

.PHONY: all deps build configure-asan build-asan run sandbox test bench bench-release dist image dist-test dist-reproducible format format-check clean

all: build

deps:
	@scripts/install-deps

# The Release tree: the binaries, fakekube, the integration tests and benchmarks. The product's unit tests are
# compiled in the sanitizer tree only (tests/CMakeLists.txt).
build: deps
	@cmake -S . -B $(RELEASE_DIR) -G $(CMAKE_GENERATOR) -DCMAKE_BUILD_TYPE=Release -DMESHLINK_PRODUCT_UNIT_TESTS=OFF >/dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS)

# The sanitizer tree (ASan + UBSan): the libraries and their unit tests, nothing else.
configure-asan: deps
	@cmake -S . -B $(ASAN_DIR) -G $(CMAKE_GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DMESHLINK_SANITIZE=ON >/dev/null

build-asan: configure-asan
	@cmake --build $(ASAN_DIR) -j $(JOBS)

run: build
	@scripts/run-main $(RELEASE_DIR)/bin $(RELEASE_DIR)/tests

# Two fakekube clusters seeded as Cilium installs, kept running for trying commands by hand: prints the `export`
# lines to paste into another shell; Ctrl-C stops them.
sandbox: build
	@$(RELEASE_DIR)/tests/meshlink-sandbox

# The Release tests run while the sanitizer tree compiles at the lowest priority (scripts/run-tests says why).
test: format-check build configure-asan
	@scripts/run-tests $(RELEASE_DIR) $(ASAN_DIR) $(JOBS)

# Benchmarks against peer tools (bench/), each printing both numbers and the ratio.
bench: build
	@$(RELEASE_DIR)/bench/startup
	@$(RELEASE_DIR)/bench/probe
	@$(RELEASE_DIR)/bench/preflight_scale
	@$(RELEASE_DIR)/bench/join
	@$(RELEASE_DIR)/bench/kubeconfig_merge

# The same benchmarks (and bench/agent_rss) with the static release binaries of `make dist` (README "Install",
# "Performance of the release build"). RSS_MINUTES sets agent_rss's run (the README figure is from 60).
RSS_MINUTES ?= 15
bench-release: build dist
	@scripts/bench-release $(RELEASE_DIR) $(BUILD_DIR)/dist-amd64/bin $(RSS_MINUTES)

# Release artefacts (README "Install"; neither runs in `make test`). The first run builds the pinned dependencies
# (scripts/build-deps, ~5 min per platform here, cached in ~/.cache/meshlink); later runs take seconds.
#   make dist       fully static kubectl-meshlink + meshlink-agent for linux/amd64 and linux/arm64:
#                   dist/kubectl-meshlink_<v>_linux_<arch>.tar.gz and the Krew manifest dist/meshlink.yaml
#   make image      the agent's OCI image (FROM scratch, amd64+arm64 index): dist/meshlink-agent_<v>_oci.tar
#   make dist-test  both, then the tests of these artefacts (label dist: Krew rules, Krew store layout run by
#                   kubectl, Debian 11 root, empty root, arm64 under qemu, DNS, image) and the release benchmarks
#   make dist-reproducible  make dist, then the committed tree built again from another directory without ccache:
#                   every archive and the manifest must be identical byte for byte (scripts/check-reproducible)
dist:
	@BUILD_DIR=$(abspath $(BUILD_DIR)) JOBS=$(JOBS) scripts/dist dist

image: dist
	@scripts/build-image dist

dist-reproducible: dist
	@JOBS=$(JOBS) scripts/check-reproducible dist

dist-test: build image
	@MESHLINK_DIST_DIR=$(abspath dist) MESHLINK_DIST_BUILD_DIR=$(abspath $(BUILD_DIR)) \
	  ctest --test-dir $(RELEASE_DIR) -L dist --output-on-failure
	@MESHLINK_BIN_DIR=$(abspath $(BUILD_DIR))/dist-amd64/bin $(RELEASE_DIR)/bench/startup

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

# `make test` fails on unformatted code (the root .clang-format decides layout); `make format` fixes it.
format-check: deps
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror \
	  || { echo "format-check: run 'make format' (clang-format $$(clang-format --version | grep -o '[0-9.]*' | head -1))" >&2; exit 1; }

clean:
	rm -rf $(BUILD_DIR)
