#!/usr/bin/env bash
# Builds voiceman and runs the whole test suite: the normal build (warnings
# as errors), then an AddressSanitizer + UndefinedBehaviorSanitizer build of
# the same suite. This is the command README and .ci/run use.
#
#   tools/test.sh            both builds
#   VM_TEST_FAST=1 tools/test.sh   the normal build only
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

echo "== build (release, -Werror) =="
cmake -S . -B build -DVM_WERROR=ON -DVM_BUILD_BENCH=ON >/dev/null
cmake --build build -j"$jobs"
echo "== tests =="
ctest --test-dir build -j"$jobs" --output-on-failure

if [ "${VM_TEST_FAST:-0}" != 1 ]; then
  echo "== build (ASan + UBSan) =="
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVM_WERROR=ON \
    -DVM_SANITIZE_ADDRESS=ON -DVM_SANITIZE_UNDEFINED=ON \
    -DVM_TEST_TIMEOUT_MULTIPLIER=4 >/dev/null
  cmake --build build-asan -j"$jobs"
  echo "== tests under ASan + UBSan =="
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan -j"$jobs" --output-on-failure
fi
