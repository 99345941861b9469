#!/usr/bin/env bash
# gpu-bundle.sh — builds, on this (build) machine, what tools/gpu-check.sh
# runs on a GPU machine that has the CUDA toolkit but none of voiceman's
# other dependencies (OpenBLAS, FFTW, ...): test_asr_cuda and vm_make_model
# built with -DVM_CUDA=ON, plus the shared libraries they need that are not
# the C library and not CUDA's own (libcudart/libcublas come from the GPU
# machine's toolkit). Output: gpu-bundle/ (git-ignored, about 45 MB), which
# gpu-check.sh uses instead of configuring the project when it exists.
#
#   tools/gpu-bundle.sh            needs nvcc here (/usr/local/cuda) and the
#                                  Debian packages of tools/setup-debian.sh
set -euo pipefail
cd "$(dirname "$0")/.."
b=build-gpu-bundle
out=gpu-bundle
cmake -S . -B "$b" -DVM_CUDA=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$b" -j"$(nproc)" --target test_asr_cuda vm_make_model
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
cp "$b/tests/test_asr_cuda" "$b/src/asr/tools/vm_make_model" "$out/bin/"
# Libraries besides glibc's and CUDA's, resolved to their files.
for bin in "$out"/bin/*; do
  ldd "$bin" | awk '$3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r name path; do
  case $name in
    libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|libcuda*|libcublas*) ;;
    *) cp -L "$path" "$out/lib/$name" ;;
  esac
done
{
  echo "built $(date -u +%FT%TZ) from $(git rev-parse --short HEAD) on $(uname -m)"
  ldd --version | head -1
  "$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)" --version | tail -1
} >"$out/BUILD-INFO"
du -sh "$out"
