#!/usr/bin/env bash
# gpu-check.sh — the device checks on a machine with an NVIDIA GPU.
#
# Builds the src/device tests with the C compiler alone (no CMake and none of
# voiceman's other dependencies: FFmpeg, SQLite, ... need not be installed;
# NVML and the CUDA runtime are opened at run time), runs every
# tests/unit/test_device_*.c, and writes what it saw to a report. On the GPU,
# test_device_real prints NVML's readings, provokes a real out-of-memory with
# a second allocation, and runs the executor with real allocations that are
# too big (halving seen on the device). Without a GPU it skips (77) and the
# simulated-device tests still run. Results go in docs/gpu.md.
#
#   tools/gpu-check.sh [OUT_DIR]      default OUT_DIR: build-gpu-check
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-build-gpu-check}
mkdir -p "$out"
report=$out/gpu-check-report.txt
cc=${CC:-cc}
base="src/base/vm_status.c src/base/vm_log.c src/base/vm_alloc.c
      src/base/vm_time.c src/base/vm_sys.c"
flags="-std=c11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter
       -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isrc/base -Isrc/device -Itests"
gpu=0
nvidia-smi -L >/dev/null 2>&1 && gpu=1
{
  echo "gpu-check $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD 2>/dev/null)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used \
    --format=csv 2>&1 || echo "nvidia-smi: not available"
} >"$report"
status=0
for src in tests/unit/test_device_*.c; do
  name=$(basename "$src" .c)
  # shellcheck disable=SC2086
  if ! $cc $flags -o "$out/$name" "$src" src/device/*.c $base \
      -lpthread -ldl -lm >>"$report" 2>&1; then
    echo "BUILD FAILED $name" | tee -a "$report"; status=1; continue
  fi
  "$out/$name" >>"$report" 2>&1
  rc=$?
  case $rc in
    0) echo "PASS $name" ;;
    77) if [ "$gpu" = 1 ]; then echo "FAIL $name (GPU present, not usable)"
        status=1; else echo "SKIP $name (no usable GPU)"; fi ;;
    *) echo "FAIL $name (rc $rc)"; status=1 ;;
  esac | tee -a "$report"
done
echo "report: $report"
exit $status
