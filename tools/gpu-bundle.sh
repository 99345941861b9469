#!/usr/bin/env bash
# gpu-bundle.sh — builds, on this (build) machine, what tools/gpu-check.sh
# runs on a GPU machine that has the CUDA toolkit but none of voiceman's
# other dependencies (FFmpeg, SQLite, OpenBLAS, FFTW, ...): voiceman,
# test_asr_cuda and vm_make_model built with -DVM_CUDA=ON, the shared
# libraries they need that are neither the C library's nor CUDA's own
# (libcudart/libcublas come from the GPU machine's toolkit), and a few
# recordings for the pipeline check. Packed into gpu-bundle/bundle.tar.xz
# (git-ignored, about 57 MB: FFmpeg's codec libraries are most of it), which
# gpu-check.sh unpacks and uses instead of configuring the project.
#
#   tools/gpu-bundle.sh            needs nvcc here (/usr/local/cuda), the
#                                  Debian packages of tools/setup-debian.sh
#                                  and the test fixtures (build/fixtures,
#                                  made by the default build's tests)
set -euo pipefail
cd "$(dirname "$0")/.."
b=build-gpu-bundle
stage=$b/stage
fx=${VM_FIXTURES:-build/fixtures}/good
cmake -S . -B "$b" -DVM_CUDA=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$b" -j"$(nproc)" --target voiceman test_asr_cuda vm_make_model
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/lib" "$stage/fixtures"
cp "$b/voiceman" "$b/tests/test_asr_cuda" "$b/src/asr/tools/vm_make_model" "$stage/bin/"
# Libraries besides glibc's and CUDA's, resolved to their files.
for bin in "$stage"/bin/*; do
  ldd "$bin" | awk '$3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r name path; do
  case $name in
    libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|libcuda*|libcublas*) ;;
    *) cp -L "$path" "$stage/lib/$name" ;;
  esac
done
# Recordings for the pipeline check: three short ones and ~50 s of speech.
cp "$fx/ko1.m4a" "$fx/split_stereo.wav" "$fx/silent.m4a" "$stage/fixtures/"
ffmpeg -nostdin -v error -y -stream_loop 12 -i "$fx/ko1.m4a" -t 50 -ac 1 -c:a aac \
  -b:a 48k "$stage/fixtures/long.m4a"
{
  echo "built $(date -u +%FT%TZ) from $(git rev-parse --short HEAD) on $(uname -m)"
  ldd --version | head -1
  "$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)" --version | grep -i release
} >"$stage/BUILD-INFO"
rm -rf gpu-bundle
mkdir -p gpu-bundle
tar -C "$stage" -cf - . | xz -T0 -6 >gpu-bundle/bundle.tar.xz
ls -l gpu-bundle/bundle.tar.xz
