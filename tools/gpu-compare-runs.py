#!/usr/bin/env python3
"""gpu-compare-runs.py CPU_OUT GPU_OUT — for tools/gpu-check.sh: compares
the transcripts of two `voiceman run` output folders (segment times and
text, file by file) and prints the GPU run's transcription readings
(summary.json batches[].gpu). Exit 0 when every file's transcript is the
same, 1 when one differs (each difference printed), 2 on a missing or
unreadable folder. Standard library only."""
import json
import os
import sys


def transcripts(out):
    got = {}
    root = os.path.join(out, "files")
    for d, _, files in os.walk(root):
        for f in sorted(files):
            if not f.endswith(".json"):
                continue
            with open(os.path.join(d, f), encoding="utf-8") as fh:
                r = json.load(fh)
            tr = r.get("transcript")
            key = os.path.relpath(os.path.join(d, f), root)
            got[key] = None if tr is None else [
                (round(s["start"], 3), round(s["end"], 3), s["text"]) for s in tr["segments"]]
    return got


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    for out in sys.argv[1:3]:
        if not os.path.isdir(os.path.join(out, "files")):
            print(f"gpu-compare-runs: {out}: not a voiceman output folder (no files/)",
                  file=sys.stderr)
            return 2
    try:
        a, b = transcripts(sys.argv[1]), transcripts(sys.argv[2])
        with open(os.path.join(sys.argv[2], "summary.json"), encoding="utf-8") as fh:
            s = json.load(fh)
    except (OSError, ValueError) as e:
        print(f"gpu-compare-runs: {e}", file=sys.stderr)
        return 2
    for g in (x.get("gpu") for x in s.get("batches", [])):
        print("readings:", json.dumps(g, ensure_ascii=False))
    bad = 0
    for k in sorted(set(a) | set(b)):
        ta, tb = a.get(k), b.get(k)
        n = len(ta or [])
        if ta == tb:
            print(f"same  {k}: {n} segments")
            continue
        bad += 1
        print(f"DIFF  {k}: {n} vs {len(tb or [])} segments")
        for i, (x, y) in enumerate(zip(ta or [], tb or [])):
            if x != y:
                print(f"  first difference at segment {i}:\n    cpu  {x}\n    gpu  {y}")
                break
    print(f"{len(a)} files, {bad} with different transcripts")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
