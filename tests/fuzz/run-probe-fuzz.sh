#!/usr/bin/env bash
# Builds the probe parsers' libFuzzer target with clang++ and runs it for a bounded time over the committed
# seed corpus. CTest runs this (test fuzz_probe_parsers); it exits 77 (skipped) when clang or libFuzzer is
# missing. Usage: run-probe-fuzz.sh <source-dir> <work-dir> <seconds>
set -euo pipefail

src=$1
work=$2
seconds=${3:-30}

cxx=${MESHLINK_FUZZ_CXX:-clang++}
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "skipped: $cxx not found (scripts/install-deps installs clang and libclang-rt-dev)"
  exit 77
fi

mkdir -p "$work/corpus"
binary="$work/fuzz_probe_parsers"
# C++20: the parsers avoid <expected>, which clang cannot use from libstdc++ 12.
if ! "$cxx" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$src" -o "$binary" \
    "$src/tests/fuzz/fuzz_probe_parsers.cpp" \
    "$src/probe/host.cpp" \
    "$src/probe/kconfig.cpp" \
    "$src/probe/kernel_release.cpp" \
    "$src/probe/os_release.cpp" \
    "$src/util/file.cpp" \
    -lz 2>"$work/build.log"; then
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
  "$work/corpus" "$src/tests/fuzz/corpus/probe_parsers"
