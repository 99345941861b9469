#!/usr/bin/env bash
# Quick start: installs the Debian packages (needs root or sudo), builds
# voiceman, synthesises the example calls, and runs voiceman on them.
# Results land in examples/out/ (open examples/out/index.html). The calls'
# transcripts (examples/transcripts/) stand in for a speech model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-debian.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
examples/make-examples.sh
set +e
./build/voiceman run examples/calls -o examples/out --transcripts examples/transcripts
rc=$?
set -e
echo
echo "voiceman exited $rc. Reports: examples/out/index.html; results: examples/out/summary.json, examples/out/files/,"
echo "store: ./build/voiceman status examples/out   evidence: ./build/voiceman verify examples/out"
exit $rc
