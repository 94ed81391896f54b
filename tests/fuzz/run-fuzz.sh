#!/usr/bin/env bash
# Builds a libFuzzer target with clang++ and runs it for a bounded time over its committed seed corpus
# (tests/fuzz/corpus/<target without "fuzz_">). CTest runs this (tests fuzz_probe_parsers, fuzz_node_report);
# it exits 77 (skipped) when clang or libFuzzer is missing.
# Usage: run-fuzz.sh <source-dir> <work-dir> <seconds> <target> <source>... [-l<library>...]
#   <target>: tests/fuzz/<target>.cpp holds LLVMFuzzerTestOneInput; <source>: more files, relative to
#   <source-dir>, compiled with it; -l<library>: linked.
set -euo pipefail

src=$1
work=$2
seconds=$3
target=$4
shift 4

cxx=${MESHLINK_FUZZ_CXX:-clang++}
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "skipped: $cxx not found (scripts/install-deps installs clang and libclang-rt-dev)"
  exit 77
fi
# One object per source, through ccache when it is installed: a second run rebuilds only what changed.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(ccache)
fi

sources=("$src/tests/fuzz/$target.cpp")
libraries=()
for arg in "$@"; do
  if [[ $arg == -l* ]]; then
    libraries+=("$arg")
  else
    sources+=("$src/$arg")
  fi
done

mkdir -p "$work/corpus" "$work/objects"
binary="$work/$target"
# C++20: the fuzzed code avoids <expected>, which clang cannot use from libstdc++ 12. The fuzzer's own
# instrumentation (-fsanitize=fuzzer-no-link) goes into every object; the fuzzer's main only into the link.
flags=(-std=c++20 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined)
objects=()
build() {
  : >"$work/build.log"
  for source in "${sources[@]}"; do
    local object
    object="$work/objects/$(basename "${source%.cpp}").o"
    "${launcher[@]}" "$cxx" "${flags[@]}" -fsanitize=fuzzer-no-link -I"$src" -c "$source" -o "$object" \
      2>>"$work/build.log" || return 1
    objects+=("$object")
  done
  "$cxx" "${flags[@]}" -fsanitize=fuzzer -o "$binary" "${objects[@]}" "${libraries[@]}" 2>>"$work/build.log"
}
if ! build; then
  if grep -q "libclang_rt.fuzzer\|fsanitize=fuzzer" "$work/build.log"; then
    cat "$work/build.log"
    echo "skipped: libFuzzer runtime missing (install libclang-rt-dev)"
    exit 77
  fi
  cat "$work/build.log"
  exit 1
fi

# New inputs go to $work/corpus; the committed seeds stay read-only.
exec "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
  "$work/corpus" "$src/tests/fuzz/corpus/${target#fuzz_}"
