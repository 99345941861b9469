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
# Then, when a GPU and nvcc are present, the Whisper engine's CUDA backend
# (src/asr/cuda, docs/asr-cuda.md): configures VM_CUDA=ON in
# OUT_DIR/asr-cuda (this step does need CMake and the project's
# dependencies), builds test_asr_cuda and vm_make_model, and runs
#  - test_asr_cuda itself (CUDA vs CPU on a random tiny model, device
#    names, out of memory on the real device),
#  - test_asr_cuda --compare on a random base-sized model,
#  - test_asr_cuda --bench on random base- and large-v3-sized models: an
#    encode of 8 windows and decode steps (batch 8) on cuda:0 against the
#    CPU engine on every core (the large model's CPU encode with 1 window
#    only, to stay within about 5 minutes on a 16-core H100 machine).
# Every step has its own time limit; without a GPU the step is skipped.
# When gpu-bundle/bundle.tar.xz exists (tools/gpu-bundle.sh, run on the
# build machine and carried over), it is unpacked into OUT_DIR/bundle and
# its prebuilt binaries and libraries are used and nothing is configured:
# the GPU machine then needs only the CUDA toolkit's libcudart/libcublas
# (found through the toolkit's lib folder). The bundle also holds voiceman
# and four recordings, and then the whole pipeline is checked on the GPU:
# `voiceman run --model` on random-weight tiny and base models with
# --device cpu and --device cuda (and cuda with --no-model-resident
# --max-micro-batch 1), transcripts compared file by file
# (tools/gpu-compare-runs.py), readings and `voiceman status` printed, each
# run timed (elapsed seconds on every PASS/FAIL line). GPU_CHECK_PIPELINE
# = "tiny base" (the default), "base", "tiny" or "" picks the model sizes
# (a shorter check when device time is short).
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
  # (the checkout there may be older than the bundle: see its BUILD-INFO below)
  echo "gpu-check $(date -u +%FT%TZ) checkout $(git rev-parse --short HEAD 2>/dev/null)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used \
    --format=csv 2>&1 || echo "nvidia-smi: not available"
  echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  ldd --version 2>&1 | head -1
  { command -v nvcc || echo /usr/local/cuda/bin/nvcc; } | xargs -I{} sh -c '{} --version' 2>&1 |
    grep -i release
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

# ---- the Whisper engine's CUDA backend ------------------------------------
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
# step NAME LIMIT_S CMD...: runs CMD with a time limit, output to the report.
step() {
  local name=$1 limit=$2 rc
  shift 2
  echo "== $name: $*" >>"$report"
  local t0=$SECONDS
  timeout "$limit" "$@" >>"$report" 2>&1
  rc=$?
  local took="$((SECONDS - t0)) s"
  case $rc in # (not in a pipe: status must be set in this shell)
    0) msg="PASS $name ($took)" ;;
    124) msg="FAIL $name (over ${limit}s)"; status=1 ;;
    *) msg="FAIL $name (rc $rc, $took)"; status=1 ;;
  esac
  echo "$msg" | tee -a "$report"
  return $rc
}
# pipeline_check: `voiceman run` from the bundle on its recordings, with a
# random tiny and then a random base model, on the CPU and on the GPU.
pipeline_check() {
  local p=$out/pipeline vm=$bundle/bin/voiceman size
  rm -rf "$p"
  mkdir -p "$p/calls"
  cp "$bundle"/fixtures/* "$p/calls/"
  for size in ${GPU_CHECK_PIPELINE-tiny base}; do
    local model=$p/$size.bin args
    case $size in
      tiny) args=(--state 64 --heads 2 --audio-layers 2 --text-layers 2) ;;
      base) args=(--preset base) ;;
      *) echo "FAIL pipeline: GPU_CHECK_PIPELINE names '$size' (tiny or base)" |
           tee -a "$report"; status=1; continue ;;
    esac
    step "pipeline_${size}_model" 60 "$mk" "$model" "${args[@]}" --type f16 --seed 7 \
      --vocab tests/fixtures/whisper/multilingual.tiktoken || continue
    local common=(--model "$model" --language ko --beam-size 1 -q --no-html
                  --patterns data/patterns)
    step "pipeline_${size}_cpu" 150 "$vm" run "$p/calls" -o "$p/$size-cpu" "${common[@]}" \
      --device cpu || continue
    step "pipeline_${size}_cuda" 150 "$vm" run "$p/calls" -o "$p/$size-cuda" "${common[@]}" \
      --device cuda &&
      step "pipeline_${size}_same" 20 python3 tools/gpu-compare-runs.py "$p/$size-cpu" \
        "$p/$size-cuda"
    if [ $size = tiny ]; then
      step pipeline_tiny_cuda_notres 150 "$vm" run "$p/calls" -o "$p/tiny-notres" \
        "${common[@]}" --device cuda --no-model-resident --max-micro-batch 1 &&
        step pipeline_tiny_same_notres 20 python3 tools/gpu-compare-runs.py "$p/tiny-cpu" \
          "$p/tiny-notres"
      step pipeline_status 20 "$vm" status "$p/tiny-cuda"
    fi
    rm -f "$model"
  done
}
have_bins=0
cdir=$out/asr-cuda
jobs=$(nproc)
bundle=
if [ "$gpu" = 1 ] && [ -f gpu-bundle/bundle.tar.xz ]; then
  rm -rf "$out/bundle"
  mkdir -p "$out/bundle" "$cdir"
  step bundle_unpack 60 tar -C "$out/bundle" -xJf gpu-bundle/bundle.tar.xz &&
    bundle=$(cd "$out/bundle" && pwd)
fi
if [ -n "$bundle" ]; then
  cuda_lib=$(dirname "$(dirname "$nvcc")")/lib64
  [ -d "$cuda_lib" ] || cuda_lib=$(dirname "$(dirname "$nvcc")")/lib
  export LD_LIBRARY_PATH=$bundle/lib:$cuda_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  cat "$bundle/BUILD-INFO" >>"$report"
  t=$bundle/bin/test_asr_cuda
  mk=$bundle/bin/vm_make_model
  have_bins=1
elif [ "$gpu" = 1 ] && [ -x "$nvcc" ]; then
  if step asr_cuda_configure 120 cmake -S . -B "$cdir" -DVM_CUDA=ON \
       -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_BUILD_TYPE=Release &&
     step asr_cuda_build 240 cmake --build "$cdir" -j"$jobs" \
       --target test_asr_cuda vm_make_model; then
    t=$cdir/tests/test_asr_cuda
    mk=$cdir/src/asr/tools/vm_make_model
    have_bins=1
  fi
fi
if [ "$have_bins" = 1 ]; then
  step asr_cuda_test 90 "$t"
  if step asr_cuda_model_base 60 "$mk" "$cdir/base-f16.bin" --preset base --type f16; then
    step asr_cuda_compare_base 90 "$t" --compare "$cdir/base-f16.bin" 2
    step asr_cuda_bench_base 90 "$t" --bench "$cdir/base-f16.bin" "$jobs" 8
    grep '^BENCH' "$report" | tail -2
  fi
  if [ -n "$bundle" ] && [ -d "$bundle/fixtures" ]; then
    pipeline_check
  fi
  if step asr_cuda_model_large 120 "$mk" "$cdir/large-f16.bin" --preset large-v3 \
       --type f16; then
    step asr_cuda_bench_large 180 "$t" --bench "$cdir/large-f16.bin" "$jobs" 1
    grep '^BENCH' "$report" | tail -2
  fi
  rm -f "$cdir/base-f16.bin" "$cdir/large-f16.bin"
else
  echo "SKIP asr CUDA backend (needs a GPU, and gpu-bundle/ or nvcc with the project's build dependencies)" | tee -a "$report"
fi
echo "report: $report"
exit $status
