#!/usr/bin/env bash
# Installs every Debian 12 package voiceman needs to build, test and run.
# Idempotent; run as root (or with sudo available). Nothing is downloaded
# outside Debian's archive.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git
  clang llvm libclang-rt-dev          # sanitizer and libFuzzer builds
  libavformat-dev libavcodec-dev libswresample-dev libavutil-dev
  libebur128-dev libfftw3-dev libopenblas-dev
  libsqlite3-dev sqlite3 libssl-dev libjansson-dev libutf8proc-dev
  zlib1g-dev                          # Whisper's compression ratio (fallback rule)
  ffmpeg espeak-ng sox libsox-fmt-all python3 python3-numpy  # test fixtures, drivers, references
  praat                               # reference for the acoustic tests
  chromium fonts-noto-cjk             # --pdf and the HTML report browser test (Hangul glyphs)
)

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
